package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/source"
)

func replayCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	config := fs.String("config", "", "the config file (default: the embedded default config)")
	data := fs.String("data", "", "the recorded OpenMetrics or Prometheus text file; - reads standard input, .gz is decompressed")
	format := fs.String("format", "", "the file's format, openmetrics or prometheus (default: prometheus for .prom and .txt, else openmetrics)")
	output := fs.String("output", "json", "json: one JSON line per transition; text: one readable line per transition")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *data == "" {
		return usageError{errors.New("--data is required: the recorded file to replay")}
	}
	f := source.FormatOf(*data)
	if *format != "" {
		var err error
		if f, err = source.ParseFormat(*format); err != nil {
			return usageError{err}
		}
	}
	var write func(w *bufio.Writer, t burnrate.Transition) error
	switch *output {
	case "json":
		write = writeJSON
	case "text":
		write = writeText
	default:
		return usageError{fmt.Errorf("unknown --output %q; valid: json, text", *output)}
	}
	cfg, err := loadConfig(*config)
	if err != nil {
		return err
	}
	classifier, err := cfg.Classifier()
	if err != nil {
		return err
	}
	rd, err := source.Open(*data, stdin, f)
	if err != nil {
		return err
	}
	defer rd.Close()

	out := bufio.NewWriterSize(stdout, 64<<10)
	router := ingest.NewRouter(cfg, classifier)
	start := time.Now()
	st, err := router.Replay(ctx, rd, func(t burnrate.Transition) error { return write(out, t) })
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	router.WriteSummary(stderr, st, time.Since(start))
	return nil
}

func writeJSON(w *bufio.Writer, t burnrate.Transition) error {
	b, err := t.MarshalJSON()
	if err != nil {
		return err
	}
	w.Write(b)
	return w.WriteByte('\n')
}

// writeText writes a transition as a person reads it:
//
//	2026-11-05T02:01:00Z FIRING   page   cypher-availability{database="db-1"} burn 1h=16.67 5m=200 codes Neo.DatabaseError.General.UnknownError×1000 playbook=database-unavailable
func writeText(w *bufio.Writer, t burnrate.Transition) error {
	fmt.Fprintf(w, "%s %-8s %-6s ", t.Time.Format(time.RFC3339), strings.ToUpper(t.State.String()), t.Severity)
	if t.Alert == burnrate.UserFaultSurgeAlert {
		fmt.Fprintf(w, "%s %s: %d of %d instances", t.Alert, t.SLO, t.Surging, t.Fleet)
	} else {
		fmt.Fprintf(w, "%s%s burn", t.SLO, t.Labels)
		for _, r := range t.BurnRates {
			fmt.Fprintf(w, " %s=%.4g", model.Duration(r.Window), r.Rate)
		}
	}
	if len(t.Codes) > 0 {
		w.WriteString(" codes")
		for _, c := range t.Codes {
			fmt.Fprintf(w, " %s×%s", c.Code, strconv.FormatFloat(c.Count, 'f', -1, 64))
		}
	}
	if t.Playbook != "" {
		fmt.Fprintf(w, " playbook=%s", t.Playbook)
	}
	return w.WriteByte('\n')
}
