package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/burnwatch/burnwatch/slo"
)

// Timeouts of serve's HTTP server, each with why. Reports and exports,
// which may compute or stream for longer, set their own deadlines.
const (
	// ReadHeaderTimeout: a client that sends its headers slowly holds a
	// connection for nothing.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request, body included: a full
	// 10 MB batch of events needs 1.4 Mbit/s.
	ReadTimeout = time.Minute
	// WriteTimeout bounds the time from a request's headers to the end of
	// its answer: the API answers from the view in milliseconds.
	WriteTimeout = 2 * time.Minute
	// IdleTimeout closes a kept-alive connection no request came on.
	IdleTimeout = 2 * time.Minute
	// reportTimeout bounds making and writing a report.
	reportTimeout = 5 * time.Minute
	// exportStall is how long an export waits on a client that takes
	// nothing before it gives up on it; an export that streams goes on
	// for as long as it needs.
	exportStall = time.Minute
)

// NewHTTPServer is serve's HTTP server for h, with its timeouts and its
// errors logged to log.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// longAnswer lifts the server's deadlines off a request whose answer takes
// longer than WriteTimeout (a report, an export): no read deadline, since
// the request is read whole and a client that hangs up is still seen, and
// a write deadline of d from now, which the handler may move on.
func longAnswer(w http.ResponseWriter, d time.Duration) *http.ResponseController {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(d))
	return rc
}

// HandlerOptions is what the HTTP side of burnwatch serve needs from the rest
// of the service. View, Batches and Config are required.
type HandlerOptions struct {
	View    View
	Batches BatchStore
	// Config returns the running config; it changes on reload.
	Config func() *slo.Config
	// EventsToken returns the bearer token of POST /api/v1/events, read from
	// its file and trimmed. An error, or an empty token, turns the endpoint
	// off (503): pushing never works without authentication.
	EventsToken func() (string, error)
	// MaxBody is the largest events body accepted, DefaultMaxBody when 0;
	// larger ones get 413.
	MaxBody int64
	// Reload reloads the config for POST /-/reload; its error lists the new
	// config's problems, and the running config stays. Nil turns reload off
	// (403), as Prometheus does without --web.enable-lifecycle.
	Reload func(ctx context.Context) error
	// Registry is served at /metrics when non-nil.
	Registry *prometheus.Registry
	// Metrics, when non-nil, counts accepted and rejected pushed events.
	Metrics *Metrics
	// Playbooks is mounted at /playbooks/ when non-nil; it sees the whole
	// path, /playbooks/database-unavailable.
	Playbooks http.Handler
	Now       func() time.Time // time.Now when nil
	Logger    *slog.Logger     // discards when nil
}

// apiServer holds the options, with defaults applied, behind the handler.
type apiServer struct {
	o   HandlerOptions
	log *slog.Logger
}

// Handler returns the HTTP handler of burnwatch serve: the JSON API, the
// events endpoint, reload, health and /metrics. Every request is logged at
// debug level with its method, path, status and duration; headers, and with
// them the events token, are never logged.
func Handler(o HandlerOptions) http.Handler {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	a := &apiServer{o: o, log: o.Logger}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/slos", a.listSLOs)
	mux.HandleFunc("GET /api/v1/slos/{name}", a.getSLO)
	mux.HandleFunc("GET /api/v1/alerts", a.listAlerts)
	mux.HandleFunc("POST /api/v1/events", a.pushEvents)
	mux.HandleFunc("POST /-/reload", a.reload)
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	if o.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelError),
		}))
	}
	if o.Playbooks != nil {
		mux.Handle("GET /playbooks/", o.Playbooks)
	}
	// Profiles as Prometheus serves them: go tool pprof
	// http://host:9099/debug/pprof/profile.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return a.logRequests(mux)
}

// reloadFailure is the body of a 400 from POST /-/reload: the whole message,
// and each problem of the config on its own when the error lists them.
type reloadFailure struct {
	Error  string   `json:"error"`
	Errors []string `json:"errors,omitempty"`
}

func (a *apiServer) reload(w http.ResponseWriter, r *http.Request) {
	if a.o.Reload == nil {
		// As Prometheus answers without --web.enable-lifecycle.
		respondError(w, http.StatusForbidden, "the lifecycle API is not enabled: start serve with --web.enable-lifecycle, or send it SIGHUP")
		return
	}
	if err := a.o.Reload(r.Context()); err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "config reload rejected; the running config stays", slog.Any("err", err))
		body := reloadFailure{Error: err.Error()}
		var problems slo.Errors
		if errors.As(err, &problems) {
			for _, p := range problems {
				body.Errors = append(body.Errors, p.Error())
			}
		}
		respondJSON(w, http.StatusBadRequest, body)
		return
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "config reloaded")
	respondJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
}

// healthz answers while the process serves HTTP at all: a liveness probe.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz answers 200 once the service has the history it needs to evaluate,
// and 503 with the reason while it backfills.
func (a *apiServer) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ok, reason := a.o.View.Ready()
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:", reason)
		return
	}
	fmt.Fprintln(w, "ready")
}

// apiError is the body of every JSON error.
type apiError struct {
	Error string `json:"error"`
}

// respondJSON answers with v as JSON. It encodes v whole before the
// status goes out, so that a value JSON cannot hold (a NaN, an infinity)
// is a 500 that says so, never a 200 with an empty or cut body.
func respondJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		// apiError of a string always encodes.
		_ = json.NewEncoder(&buf).Encode(apiError{Error: "the answer could not be written as JSON: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// An error here is the client gone; there is no one left to tell.
	_, _ = w.Write(buf.Bytes())
}

func respondError(w http.ResponseWriter, status int, format string, args ...any) {
	respondJSON(w, status, apiError{Error: fmt.Sprintf(format, args...)})
}

// logRequests logs each request at debug level once it is answered.
func (a *apiServer) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)))
	})
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (flushing,
// deadlines, and the connection close that MaxBytesReader asks for).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
