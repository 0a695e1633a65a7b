package slo

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Reports says when serve makes the weekly report, and where it goes: a
// file per format in Dir, and the formats in one signed POST to Receiver.
// Either may be left out; with neither, there are no scheduled reports.
type Reports struct {
	// Dir is where the reports are written, as burnwatch-2026-W47.html;
	// empty writes none.
	Dir string `yaml:"dir,omitempty"`
	// Receiver names a webhook receiver of receivers that the report is
	// also posted to, in every format; empty posts none.
	Receiver string `yaml:"receiver,omitempty"`
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

// Scheduled reports whether serve makes the report on its schedule: when
// it has somewhere to put it.
func (r Reports) Scheduled() bool { return r.Dir != "" || r.Receiver != "" }

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
	if r.Receiver != "" {
		c.validateReportReceiver(d, r.Receiver)
	}
}

// validateReportReceiver checks that reports.receiver names a webhook
// receiver: the only kind that takes a report.
func (c *Config) validateReportReceiver(d *document, name string) {
	p := path{"reports", "receiver"}
	var hooks []string
	var named *Receiver
	for _, r := range c.ReceiverConfigs {
		if r == nil {
			continue
		}
		if r.Webhook != nil {
			hooks = append(hooks, r.Name)
		}
		if r.Name == name {
			named = r
		}
	}
	valid := "none: add a receiver with webhook: {url, secret_file}"
	if len(hooks) > 0 {
		valid = strings.Join(hooks, ", ")
	}
	switch {
	case named == nil:
		d.errorf(p, "%q names no webhook receiver; valid: %s", name, valid)
	case named.Webhook == nil:
		d.errorf(p, "%q is a %s receiver, and reports go only to a webhook receiver; valid: %s", name, named.kind(), valid)
	}
}
