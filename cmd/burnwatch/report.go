package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// reportCmd fetches the weekly report from a running burnwatch serve,
// which holds the history: the store is its own while it runs.
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	server := fs.String("server", "http://127.0.0.1:9099", "the burnwatch serve to ask")
	week := fs.String("week", "", "the ISO week, such as 2026-W47 (default: the last complete week)")
	format := fs.String("format", "md", "md, html, json or csv")
	out := fs.String("out", "", "a directory to write the report to, as burnwatch-WEEK.FORMAT (default: standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case "md", "html", "json", "csv":
	default:
		return usageError{fmt.Errorf("unknown --format %q; valid: md, html, json, csv", *format)}
	}
	q := url.Values{"format": {*format}}
	if *week != "" {
		q.Set("week", *week)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*server, "/")+"/api/v1/report?"+q.Encode(), nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s for the report: %w", *server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s answered %s: %s", *server, resp.Status, strings.TrimSpace(string(b)))
	}
	w := stdout
	if *out != "" {
		name := "burnwatch-" + *week
		if *week == "" {
			name = "burnwatch-last-week"
		}
		path := filepath.Join(*out, name+"."+*format)
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
		defer fmt.Fprintln(stderr, "wrote", path)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return errors.Join(errors.New("reading the report"), err)
	}
	return nil
}
