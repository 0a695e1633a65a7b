package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/burnwatch/burnwatch/service"
)

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	config := fs.String("config", "", "the config file (default: the embedded default config: an events source)")
	listen := fs.String("web.listen-address", ":9099", "the address of the HTTP API, /metrics and /playbooks")
	webConfig := fs.String("web.config.file", "", "a Prometheus web configuration file: TLS, and basic auth of every request (docs/serve.md)")
	lifecycle := fs.Bool("web.enable-lifecycle", false, "let POST /-/reload reload the config, as in Prometheus (SIGHUP always does)")
	storage := fs.String("storage.path", "./data", "the directory of burnwatch's SQLite state")
	logFormat := fs.String("log.format", "text", "text or json")
	logLevel := fs.String("log.level", "info", "debug, info, warn or error")
	perInstance := fs.Bool("metrics.per-instance", false, "export a burn-rate series per instance and window, and a budget-remaining series per instance, on /metrics (tens of thousands of instances make as many series)")
	ha := haFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return usageError{err}
	}
	// Whatever logs to slog.Default() (a receiver made without a logger)
	// logs as --log.format and --log.level say, not through the standard
	// log package.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(log)
	// The engine's heap is mostly its instances' rings, which hold no
	// pointers and cost the collector next to nothing to mark: a target
	// of 25% over the live heap instead of Go's 100% keeps the resident
	// set near what the engine holds (docs/serve.md), for a few percent of
	// CPU. GOGC, when set, decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	election, err := ha.election(log)
	if err != nil {
		return err
	}
	return runService(ctx, service.Options{
		ConfigPath:         *config,
		StoragePath:        *storage,
		Logger:             log,
		PerInstanceMetrics: *perInstance,
		Election:           election,
		WebConfigFile:      *webConfig,
		EnableLifecycle:    *lifecycle,
	}, *listen, log, nil)
}

// runService runs the service and its HTTP server until ctx ends, reloading
// the config on SIGHUP. started, when set, runs once both are up, with the
// address the server listens on.
func runService(ctx context.Context, o service.Options, listen string, log *slog.Logger, started func(*service.Service, net.Addr)) error {
	// A web configuration file that does not load stops serve before it
	// starts, not at its first request.
	if err := web.Validate(o.WebConfigFile); err != nil {
		return fmt.Errorf("--web.config.file %s: %w", o.WebConfigFile, err)
	}
	svc, err := service.New(ctx, o)
	if err != nil {
		return err
	}
	if err := svc.EnsureTokens(); err != nil {
		svc.Close()
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		svc.Close()
		return err
	}
	log.Info("burnwatch serving", append([]any{"address", ln.Addr().String(), "storage", o.StoragePath}, version.Slog()...)...)
	srv := service.NewHTTPServer(svc.Handler(), log)
	// A listener that fails (its TLS certificate unreadable) stops serve.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() {
		defer stop()
		served <- web.Serve(ln, srv, &web.FlagConfig{WebListenAddresses: &[]string{listen}, WebSystemdSocket: new(bool), WebConfigFile: &o.WebConfigFile}, log)
	}()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if ctx.Err() != nil {
					return // stopping: the store is closing
				}
				if err := svc.Reload(ctx); err != nil {
					log.Error("SIGHUP: config rejected", "err", err)
				}
			}
		}
	}()
	if started != nil {
		started(svc, ln.Addr())
	}

	runErr := svc.Run(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("HTTP shutdown", "err", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(runErr, fmt.Errorf("HTTP server: %w", err))
	}
	return runErr
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format %q: valid: text, json", format)
}
