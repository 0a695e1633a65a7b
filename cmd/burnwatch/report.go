package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/burnwatch/burnwatch/service"
)

// reportCmd writes the error-budget report of a week (or any span) from
// the state a serve keeps: read from its storage directory, or asked of
// the running serve with --server.
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	state := addStateFlags(fs)
	week := fs.String("week", "", "the ISO week, such as 2026-W47, or a time within it, such as now-7d (default: the last complete week)")
	from := fs.String("from", "", "the start of another span instead of a week: RFC 3339, a date (UTC) or relative (now-2h)")
	to := fs.String("to", "", "the end of that span, in the same forms")
	format := fs.String("format", "md", "md, html, json or csv")
	out := fs.String("out", "", "a directory to write the report to, as burnwatch-WEEK.FORMAT (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if _, _, ok := service.ReportWriter(*format); !ok {
		return usageError{fmt.Errorf("unknown --format %q; valid: md, html, json, csv", *format)}
	}
	q := url.Values{"format": {*format}}
	var start, end time.Time
	name := "burnwatch-" + *week
	switch {
	case *from != "" || *to != "":
		if *week != "" || *from == "" || *to == "" {
			return usageError{fmt.Errorf("give --week, or both --from and --to")}
		}
		var err error
		now := time.Now()
		if start, err = parseTime("from", *from, now); err != nil {
			return err
		}
		if end, err = parseTime("to", *to, now); err != nil {
			return err
		}
		if !end.After(start) {
			return usageError{fmt.Errorf("--to %s is not after --from %s", *to, *from)}
		}
		q.Set("from", start.UTC().Format(time.RFC3339))
		q.Set("to", end.UTC().Format(time.RFC3339))
		name = "burnwatch-" + start.UTC().Format("20060102T1504Z") + "-" + end.UTC().Format("20060102T1504Z")
	default:
		wk, err := parseWeek(*week, time.Now())
		if err != nil {
			return err
		}
		start, end = wk, wk.Add(7*24*time.Hour)
		y, n := start.ISOWeek()
		name = fmt.Sprintf("burnwatch-%d-W%02d", y, n)
		q.Set("week", fmt.Sprintf("%d-W%02d", y, n))
	}
	w, done, err := outFile(*out, name+"."+*format, stdout, stderr)
	if err != nil {
		return err
	}
	if *state.server != "" {
		c, err := state.client()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := c.fetch(ctx, "/api/v1/report", q, w); err != nil {
			return err
		}
		return done()
	}
	svc, err := state.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	rep, err := svc.Report(ctx, start, end)
	if err != nil {
		return err
	}
	write, _, _ := service.ReportWriter(*format)
	if err := write(w, rep); err != nil {
		return err
	}
	return done()
}
