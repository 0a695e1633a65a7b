package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/burnwatch/burnwatch/agent"
)

// labelFlags is a repeated name=value flag.
type labelFlags map[string]string

func (l labelFlags) String() string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (l labelFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("%q is not name=value", s)
	}
	l[k] = v
	return nil
}

// agentCmd runs burnwatch agent: it reads a Neo4j query log and serves its
// counts as an exporter, and with --push also pushes completed minutes to
// a serve.
func agentCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("agent", stderr)
	queryLog := fs.String("query-log", "", "the path of Neo4j's query.log (required); rotated files beside it are read when needed")
	storage := fs.String("storage.path", "./data/agent", "the directory of the agent's state and spool; it must survive restarts")
	listen := fs.String("web.listen-address", ":9098", "the address of /metrics")
	telemetry := fs.String("web.telemetry-path", "/metrics", "the path the counters and the agent's own metrics are served at")
	webConfig := fs.String("web.config.file", "", "a Prometheus web configuration file: TLS and basic authentication of the listener")
	push := fs.String("push", "", "a serve's URL: push completed minutes to its POST /api/v1/events")
	tokenFile := fs.String("push.token-file", "", "the file holding serve's events bearer token (with --push)")
	sloName := fs.String("push.slo", "cypher-availability", "the SLO the pushed counts belong to")
	dbLabel := fs.String("push.database-label", "database", "the label the database name goes in")
	labels := labelFlags{}
	fs.Var(labels, "push.label", "a further label of every pushed event, name=value (repeatable)")
	poll := fs.Duration("poll", agent.DefaultPoll, "how often the query log is read and a checkpoint written")
	logFormat := fs.String("log.format", "text", "text or json")
	logLevel := fs.String("log.level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *queryLog == "" {
		return usageError{errors.New("--query-log is required")}
	}
	if *push != "" && *tokenFile == "" {
		return usageError{errors.New("--push needs --push.token-file")}
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return usageError{err}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := agent.Options{QueryLog: *queryLog, Dir: *storage, Poll: *poll, Registerer: reg, Logger: log}
	if *push != "" {
		o.Push = &agent.PushOptions{URL: *push, TokenFile: *tokenFile, SLO: *sloName, DatabaseLabel: *dbLabel, Labels: labels}
	}
	a, err := agent.New(o)
	if err != nil {
		return err
	}
	defer a.Close()
	reg.MustRegister(a.Collector())

	mux := http.NewServeMux()
	mux.Handle("GET "+*telemetry, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	log.Info("burnwatch agent", "query_log", *queryLog, "storage", *storage, "address", ln.Addr().String(), "push", *push != "", "version", version.Version)
	// A listener that fails (a bad --web.config.file) stops the agent.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	served := make(chan error, 1)
	go func() {
		defer stop()
		served <- web.Serve(ln, srv, &web.FlagConfig{WebListenAddresses: &[]string{*listen}, WebSystemdSocket: new(bool), WebConfigFile: webConfig}, log)
	}()

	runErr := a.Run(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(runErr, err)
	}
	return runErr
}
