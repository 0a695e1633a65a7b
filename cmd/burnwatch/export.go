package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/service"
)

// exportCmd writes the postmortem data of an incident: from the state a
// serve keeps, read from its storage directory, or asked of the running
// serve with --server.
func exportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	state := addStateFlags(fs)
	from := fs.String("from", "", "the incident's start: RFC 3339, a date (UTC) or relative (now-2h); required")
	to := fs.String("to", "", "the incident's end, in the same forms; required")
	margin := fs.String("margin", model.Duration(service.DefaultExportMargin).String(), "how far before and after the incident the minutes and the timeline reach")
	sloName := fs.String("slo", "", "only this SLO")
	var match stringList
	fs.Var(&match, "match", "only instances with this label=value (repeatable)")
	all := fs.Bool("all", false, "every matching instance, not only those that failed or alerted in the window")
	format := fs.String("format", "json", "json (everything), csv (a row per instance and minute; with --out also the timeline) or md (impact and timeline, for the postmortem document)")
	out := fs.String("out", "", "a directory to write the export to (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usageError{errNoWindow}
	}
	v := url.Values{"from": {*from}, "to": {*to}, "margin": {*margin}, "slo": {*sloName}, "match": match, "format": {*format}}
	now := time.Now()
	for _, name := range []string{"from", "to"} {
		t, err := parseTime(name, v.Get(name), now)
		if err != nil {
			return err
		}
		v.Set(name, t.UTC().Format(time.RFC3339))
	}
	if *all {
		v.Set("all", "true")
	}
	q, err := service.ParseExportQuery(v)
	if err != nil {
		return usageError{err}
	}
	if _, err := report.NewExportWriter(*format, io.Discard, nil); err != nil {
		return usageError{err}
	}
	name := "burnwatch-export-" + q.From.UTC().Format("20060102T1504Z")
	ext := map[string]string{"json": "json", "csv": "csv", "md": "md", "markdown": "md"}[*format]
	mainName := name + "." + ext
	if *format == "csv" {
		mainName = name + "-minutes.csv"
	}

	if *state.server != "" {
		c, err := state.client()
		if err != nil {
			return err
		}
		w, done, err := outFile(*out, mainName, stdout, stderr)
		if err != nil {
			return err
		}
		if err := c.fetch(ctx, "/api/v1/export", v, w); err != nil {
			return err
		}
		if err := done(); err != nil {
			return err
		}
		if *format == "csv" && *out != "" {
			v.Set("table", "timeline")
			tw, done, err := outFile(*out, name+"-timeline.csv", stdout, stderr)
			if err != nil {
				return err
			}
			if err := c.fetch(ctx, "/api/v1/export", v, tw); err != nil {
				return err
			}
			return done()
		}
		return nil
	}

	svc, err := state.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	w, done, err := outFile(*out, mainName, stdout, stderr)
	if err != nil {
		return err
	}
	var timeline io.Writer
	doneTimeline := func() error { return nil }
	if *format == "csv" && *out != "" {
		if timeline, doneTimeline, err = outFile(*out, name+"-timeline.csv", stdout, stderr); err != nil {
			return err
		}
	}
	ew, _ := report.NewExportWriter(*format, w, timeline)
	if err := svc.Export(ctx, q, &progress{ExportWriter: ew, w: stderr, last: time.Now()}); err != nil {
		return err
	}
	if err := done(); err != nil {
		return err
	}
	return doneTimeline()
}

// progress tells on standard error how a long export goes, every
// progressEvery.
type progress struct {
	report.ExportWriter
	w                  io.Writer
	last               time.Time
	instances, minutes int
}

const progressEvery = 5 * time.Second

func (p *progress) Instance(in report.ExportInstance) error {
	p.instances++
	if time.Since(p.last) >= progressEvery {
		p.last = time.Now()
		fmt.Fprintf(p.w, "exporting: %d instances, %d minutes so far\n", p.instances-1, p.minutes)
	}
	return p.ExportWriter.Instance(in)
}

func (p *progress) Minute(m report.ExportMinute) error {
	p.minutes++
	return p.ExportWriter.Minute(m)
}
