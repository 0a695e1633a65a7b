package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/burnwatch/burnwatch/service"
)

// stateFlags are where the report and export commands find the state:
// serve's directory, read beside it, or a running serve to ask.
type stateFlags struct{ config, storage, server *string }

func addStateFlags(fs *flag.FlagSet) stateFlags {
	return stateFlags{
		config:  fs.String("config", "", "the config file serve runs with (default: the embedded default config)"),
		storage: fs.String("storage.path", "./data", "the directory of burnwatch serve's state, read beside a running serve"),
		server:  fs.String("server", "", "ask a running burnwatch serve at this URL instead, such as http://127.0.0.1:9099"),
	}
}

// open opens the state serve keeps in storage for reading, beside that
// serve if it runs.
func (f stateFlags) open(ctx context.Context, stderr io.Writer) (*service.Service, error) {
	storage := *f.storage
	if _, err := os.Stat(filepath.Join(storage, "burnwatch.db")); err != nil {
		return nil, fmt.Errorf("no burnwatch state in %s (--storage.path): %w; point it at the directory burnwatch serve keeps, or ask a running serve with --server", storage, err)
	}
	return service.New(ctx, service.Options{
		ConfigPath:  *f.config,
		StoragePath: storage,
		ReadOnly:    true,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

// fetch copies what a running serve answers at path?q to w.
func fetch(ctx context.Context, server, path string, q url.Values, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+path+"?"+q.Encode(), nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s: %w", server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s answered %s: %s", server, resp.Status, strings.TrimSpace(string(b)))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", server, err)
	}
	return nil
}

// outFile creates DIR/name, or returns stdout when dir is empty. done
// closes the file and says where it went.
func outFile(dir, name string, stdout, stderr io.Writer) (w io.Writer, done func() error, err error) {
	if dir == "" {
		return stdout, func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", path)
		return nil
	}, nil
}

// stringList is a flag that may be given many times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

var errNoWindow = errors.New("--from and --to are required: the incident's window, such as --from 2026-11-05T02:00:00Z --to 2026-11-05T02:30:00Z")
