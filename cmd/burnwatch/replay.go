package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/readable"
	"github.com/burnwatch/burnwatch/service"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
)

func replayCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	config := fs.String("config", "", "the config file (default: the embedded default config)")
	data := fs.String("data", "", "the recorded OpenMetrics or Prometheus text file; - reads standard input, .gz is decompressed")
	promURL := fs.String("prometheus", "", "instead of --data, read the history from this Prometheus server (or Thanos, Mimir, VictoriaMetrics)")
	from := fs.String("from", "", "with --prometheus: the start of the history (a sample at this time is read): RFC 3339, a date (UTC) or relative (now-1d)")
	to := fs.String("to", "", "with --prometheus: the end of the history, in the same forms (default: now)")
	format := fs.String("format", "", "the file's format, openmetrics or prometheus (default: prometheus for .prom and .txt, else openmetrics)")
	output := fs.String("output", "json", "json: one JSON line per transition; text: one readable line per transition")
	storage := fs.String("storage.path", "", "also keep what the replay counted in a burnwatch state directory (empty or older than the recording), for report and export")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*data == "") == (*promURL == "") {
		return usageError{errors.New("give either --data, the recorded file to replay, or --prometheus with --from and --to")}
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
	var samples ingest.Samples
	if *promURL != "" {
		ps, closeFn, err := prometheusHistory(ctx, cfg, *promURL, *from, *to)
		if err != nil {
			return err
		}
		defer closeFn()
		samples = ps
	} else {
		rd, err := source.Open(*data, stdin, f)
		if err != nil {
			return err
		}
		defer rd.Close()
		samples = rd
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	emit := func(t burnrate.Transition) error { return write(out, t) }
	start := time.Now()
	router := ingest.NewRouter(cfg, classifier)
	replay, summary := router.Replay, router.WriteSummary
	closeState := func() error { return nil }
	if *storage != "" {
		// The same replay, through the service, into its state.
		svc, err := service.New(ctx, service.Options{
			ConfigPath:  *config,
			StoragePath: *storage,
			Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		})
		if err != nil {
			return err
		}
		replay, summary, closeState = svc.Import, svc.WriteSummary, svc.Close
	}
	st, err := replay(ctx, samples, emit)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if cerr := closeState(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if st.SLOSeries == 0 {
		what := "the recording " + *data
		switch {
		case *promURL != "":
			what = "Prometheus at " + *promURL
		case *data == "-":
			what = "standard input"
		}
		return noSeriesRead(cfg, st, what)
	}
	summary(stderr, st, time.Since(start))
	return nil
}

// noSeriesRead is the error of a replay that read no series any SLO
// reads: nothing was evaluated, and "0 transitions" would read as health.
func noSeriesRead(cfg *slo.Config, st ingest.Stats, from string) error {
	var sels []string
	for _, s := range cfg.SLOs {
		sels = append(sels, fmt.Sprintf("%s reads %s and %s", s.Name, s.SLI.Total, s.SLI.Errors))
	}
	if st.Series == 0 {
		return fmt.Errorf("%s has no samples: nothing to evaluate (%s)", from, strings.Join(sels, "; "))
	}
	return fmt.Errorf("none of the %d series of %s matches an SLO's selectors, so nothing was evaluated (%s, from %s); replay with the config the recording was made for (--config)",
		st.Series, from, strings.Join(sels, "; "), cfg.File)
}

// prometheusHistory reads every SLO's total and error series from a
// Prometheus server over [from, to]: both ends included, as a person
// naming the times of the first and the last sample of a recording means.
func prometheusHistory(ctx context.Context, cfg *slo.Config, url, from, to string) (ingest.Samples, func(), error) {
	if from == "" {
		return nil, nil, usageError{errors.New("--prometheus needs --from, the start of the history to replay")}
	}
	now := time.Now()
	start, err := parseTime("from", from, now)
	if err != nil {
		return nil, nil, err
	}
	end := now
	if to != "" {
		if end, err = parseTime("to", to, now); err != nil {
			return nil, nil, err
		}
	}
	if !end.After(start) {
		return nil, nil, usageError{errors.New("--to must be after --from")}
	}
	pc := source.DefaultPrometheusConfig()
	pc.URL = url
	p, err := source.NewPrometheus(pc)
	if err != nil {
		return nil, nil, err
	}
	var selectors []string
	for _, s := range cfg.SLOs {
		selectors = append(selectors, s.SLI.Total, s.SLI.Errors)
	}
	// The source reads (from, to]: a millisecond earlier includes from.
	return p.Samples(ctx, selectors, start.Add(-time.Millisecond), end), p.Close, nil
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
//	2026-11-05T02:01:00Z FIRING   page   cypher-availability{database="db-1"} burn 1h=16.7 5m=200 codes Neo.DatabaseError.General.UnknownError×1000 playbook=database-unavailable
//
// Numbers are written as people write them (readable): a burn of 10000 is
// 10000, never 1e+04. Labels and codes come from the recording and are
// written through readable.Text.
func writeText(w *bufio.Writer, t burnrate.Transition) error {
	fmt.Fprintf(w, "%s %-8s %-6s ", t.Time.Format(time.RFC3339), strings.ToUpper(t.State.String()), t.Severity)
	if t.Alert == burnrate.UserFaultSurgeAlert {
		fmt.Fprintf(w, "%s %s: %d of %d instances", t.Alert, t.SLO, t.Surging, t.Fleet)
	} else {
		fmt.Fprintf(w, "%s%s burn", t.SLO, t.Labels)
		for _, r := range t.BurnRates {
			fmt.Fprintf(w, " %s=%s", model.Duration(r.Window), readable.Number(r.Rate))
		}
	}
	if len(t.Codes) > 0 {
		w.WriteString(" codes")
		for _, c := range t.Codes {
			fmt.Fprintf(w, " %s×%s", readable.Text(c.Code), readable.Number(c.Count))
		}
	}
	if t.Playbook != "" {
		fmt.Fprintf(w, " playbook=%s", t.Playbook)
	}
	return w.WriteByte('\n')
}
