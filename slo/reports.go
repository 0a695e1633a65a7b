package slo

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Reports says when serve writes the weekly report, and where.
type Reports struct {
	// Dir is where the reports go, as burnwatch-2026-W47.html; empty
	// turns scheduled reports off.
	Dir string `yaml:"dir,omitempty"`
	// Schedule is a cron expression (minute hour day-of-month month
	// day-of-week) in TimeZone; default Monday 09:00.
	Schedule string `yaml:"schedule,omitempty"`
	TimeZone string `yaml:"time_zone,omitempty"` // IANA; default UTC
	// Formats are the report's formats; default html and md.
	Formats []string `yaml:"formats,omitempty"`
}

// Report defaults.
const (
	DefaultReportSchedule = "0 9 * * MON"
	DefaultReportTimeZone = "UTC"
)

// ReportSchedule is the parsed schedule and its time zone.
func (r Reports) ReportSchedule() (cron.Schedule, *time.Location, error) {
	sched, err := cron.ParseStandard(r.Schedule)
	if err != nil {
		return nil, nil, err
	}
	loc, err := time.LoadLocation(r.TimeZone)
	return sched, loc, err
}

func (c *Config) applyReportDefaults() {
	r := &c.Reports
	if r.Schedule == "" {
		r.Schedule = DefaultReportSchedule
	}
	if r.TimeZone == "" {
		r.TimeZone = DefaultReportTimeZone
	}
	if len(r.Formats) == 0 {
		r.Formats = []string{"html", "md"}
	}
}

func (c *Config) validateReports(d *document) {
	r := c.Reports
	if _, err := cron.ParseStandard(r.Schedule); err != nil {
		d.errorf(path{"reports", "schedule"}, "%q is not a cron expression (minute hour day-of-month month day-of-week, such as %q): %v", r.Schedule, DefaultReportSchedule, err)
	}
	if _, err := time.LoadLocation(r.TimeZone); err != nil {
		d.errorf(path{"reports", "time_zone"}, "%q is not a time zone such as Europe/Berlin", r.TimeZone)
	}
	for i, f := range r.Formats {
		switch f {
		case "md", "html", "json", "csv":
		default:
			d.errorf(path{"reports", "formats", i}, "%q is not a format; valid: md, html, json, csv", f)
		}
	}
}
