// Package service is burnwatch serve: it reads live sources each
// evaluation interval, counts and evaluates with the same code replay runs,
// keeps its state in SQLite across restarts and crashes, and answers over
// HTTP where every SLO stands.
package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// Options configure a Service.
type Options struct {
	// ConfigPath is the config file; empty means the embedded default.
	ConfigPath string
	// StoragePath is the directory of the SQLite file (burnwatch.db) and of
	// the events token the service makes when the config names none.
	StoragePath string
	Logger      *slog.Logger
	// Now is the clock; time.Now when nil. Tests drive cycles with it.
	Now func() time.Time
	// Registry receives burnwatch's metrics; a new one when nil.
	Registry *prometheus.Registry
	// PerInstanceMetrics exports one burn-rate series per instance and
	// window: off by default, since tens of thousands would flood Prometheus.
	PerInstanceMetrics bool
	// OnTransition, when set, is called with each transition once its
	// cycle is committed.
	OnTransition func(burnrate.Transition)
	// Console is where console receivers write; standard output when nil.
	Console io.Writer
	// Receivers are receivers beyond the config's, by name, for routes to
	// name: a program embedding the service, or a test, brings its own.
	Receivers map[string]notify.Receiver
	// ReadOnly opens the store for reading beside the serve that may be
	// writing it, for reports and exports from the command line: the
	// state is restored, nothing is read from sources, evaluated, sent or
	// written.
	ReadOnly bool
}

// Timing of the loop, each with why.
const (
	// snapshotEvery is how many cycles pass between full snapshots of
	// every instance; between them only a journal of increments is
	// written, about a hundredth of a snapshot's bytes.
	snapshotEvery = 20
	// readDelay is how far behind now a cycle reads a Prometheus source:
	// a sample is stamped at its scrape's start and becomes queryable only
	// once the scrape is ingested.
	readDelay = 10 * time.Second
	// datadogDelay is the same for Datadog, whose one-minute counts are
	// complete only a while after their minute: a minute read too early
	// would be counted short, and never again.
	datadogDelay = 3 * time.Minute
	// backfillChunk is the span of history replayed at a time while
	// backfilling; each chunk is committed with a snapshot, not a journal
	// row a minute, and with its hours of per-minute history, so that a
	// restart resumes from the last and the history waiting to be written
	// never exceeds six hours of the fleet.
	backfillChunk = 6 * time.Hour
	// transitionRetention is how long the transition log is kept: a year
	// of reports and postmortems.
	transitionRetention = 400 * 24 * time.Hour
	// tidyAfter is how long finished notifications and the states of
	// alerts no longer firing are kept: a week to look back at.
	tidyAfter = 7 * 24 * time.Hour
	// minBackfill is the least history a first start reads: the longest
	// workbook window.
	minBackfill = 72 * time.Hour
)

// Service is the running burnwatch serve.
type Service struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	db      *store.DB
	metrics *Metrics
	reg     *prometheus.Registry

	ready    atomic.Bool
	notReady atomic.Value // string: why not ready

	mu      sync.RWMutex // guards the rest; a cycle holds it to write
	cfg     *slo.Config
	router  *ingest.Router
	feeds   []*feed
	noData  map[string]*noDataAlert // by SLO name
	cycles  int
	pending cyclePending
	keys    map[*burnrate.Instance]store.InstanceKey
	// receivers deliver notifications, by name.
	receivers map[string]notify.Receiver
	// dashboard is the config's dashboard URL template, if any.
	dashboard *template.Template
	// onsets are the firing alerts' onsets, for their resolves.
	onsets map[string]time.Time
	// committed wakes the sender after a commit.
	committed chan struct{}
	// worst are each SLO's instances with the least budget left, as of
	// the last evaluation.
	worst map[*burnrate.Spec][]*burnrate.Instance
	// silences holds the silences and maintenance windows in force.
	silences *silence.Set
	// nextReport is when the scheduled report is next due; only the
	// goroutine running cycles reads and writes it.
	nextReport time.Time
	// reportsSending counts the scheduled reports being posted to their
	// receiver, each in a goroutine of its own; Run waits for them.
	reportsSending sync.WaitGroup
	// resent is when each receiver last had its firing alerts re-posted.
	resent map[string]int64
	// playbooks are served at /playbooks/ and linked from alerts.
	playbooks     *playbooks.Set
	playbooksHTTP http.Handler
	// lastCommit is the time of the last committed cycle; cycles commit in
	// increasing time.
	lastCommit int64
	// historyCursor is, per SLO, the hour before which its history is
	// written (flushHistory).
	historyCursor map[string]int64
	// importing is set while Import counts a recording: its commits
	// neither prune nor forget by the clock.
	importing bool
	// exports lets one export read the store at a time, so that exports
	// never take the read connections the cycles need.
	exports chan struct{}
}

// New loads the config, opens the store and restores the state a previous
// run left.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Console == nil {
		o.Console = os.Stdout
	}
	cfg, err := loadConfig(o.ConfigPath)
	if err != nil {
		return nil, err
	}
	if o.StoragePath == "" {
		o.StoragePath = "data"
	}
	open := store.Open
	if o.ReadOnly {
		open = store.OpenReadOnly
	}
	db, err := open(filepath.Join(o.StoragePath, "burnwatch.db"))
	if err != nil {
		return nil, err
	}
	s := &Service{
		o:         o,
		log:       o.Logger,
		now:       o.Now,
		db:        db,
		reg:       o.Registry,
		metrics:   NewMetrics(o.Registry, o.PerInstanceMetrics),
		committed: make(chan struct{}, 1),
		exports:   make(chan struct{}, 1),
		resent:    map[string]int64{},
	}
	s.notReady.Store("starting")
	if err := s.install(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func loadConfig(path string) (*slo.Config, error) {
	if path == "" {
		return slo.LoadDefault()
	}
	return slo.Load(path)
}

// errReadOnly refuses what a read-only service cannot do.
var errReadOnly = errors.New("the service was opened read-only")

// Close closes the store. Run closes it itself when it returns.
func (s *Service) Close() error { return s.db.Close() }

// Run evaluates every evaluation interval until ctx ends, then writes a
// last snapshot and closes the store.
func (s *Service) Run(ctx context.Context) error {
	defer s.db.Close()
	if s.o.ReadOnly {
		return errReadOnly
	}
	sending, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.deliver(sending)
	}()
	defer func() {
		stopSending()
		<-done
	}()
	// A report being posted ends with ctx, so this wait is short.
	defer s.reportsSending.Wait()
	for {
		if err := s.Cycle(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("evaluation cycle failed", "err", err)
		}
		s.mu.RLock()
		interval := s.cfg.EvaluationInterval.Std()
		s.mu.RUnlock()
		select {
		case <-ctx.Done():
			return s.shutdown()
		case <-time.After(interval):
		}
	}
}

// shutdown writes a snapshot so that the next start has nothing to replay.
func (s *Service) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The hours complete by the sources' cursors are written now, without
	// waiting for late data: their codes are in memory only.
	for _, f := range s.feeds {
		if f.cursor > 0 {
			s.flushHistory(f, f.cursor)
		}
	}
	if err := s.commit(ctx, s.now().UnixMilli(), true); err != nil && !errors.Is(err, store.ErrCycleOrder) {
		return fmt.Errorf("writing the last snapshot: %w", err)
	}
	s.log.Info("stopped; state written", "instances", len(s.router.Instances()))
	return nil
}

// Reload reads the config again. A config with errors is rejected with
// them, and the running one keeps running; a good one replaces it, the
// instances' history carried over.
func (s *Service) Reload(ctx context.Context) error {
	cfg, err := loadConfig(s.o.ConfigPath)
	if err != nil {
		s.log.Error("config reload rejected; the running config stays", "err", err)
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Everything goes to the store, and comes back under the new config.
	if err := s.commit(ctx, s.now().UnixMilli(), true); err != nil && !errors.Is(err, store.ErrCycleOrder) {
		return fmt.Errorf("writing state before the reload: %w", err)
	}
	if err := s.installLocked(ctx, cfg); err != nil {
		return err
	}
	s.log.Info("config reloaded", "slos", len(cfg.SLOs))
	return nil
}

func (s *Service) install(ctx context.Context, cfg *slo.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.installLocked(ctx, cfg)
}

// Handler is the service's HTTP API.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.silenceRoutes(mux)
	s.reportRoute(mux)
	s.exportRoute(mux)
	mux.Handle("/", Handler(HandlerOptions{
		View:        s,
		Batches:     s.db,
		Config:      s.config,
		EventsToken: s.eventsToken,
		MaxBody:     s.maxBody(),
		Reload:      s.Reload,
		Registry:    s.reg,
		Metrics:     s.metrics,
		Playbooks:   http.HandlerFunc(s.servePlaybook),
		Now:         s.now,
		Logger:      s.log,
	}))
	return mux
}

// servePlaybook serves the running config's playbooks, which a reload
// may change.
func (s *Service) servePlaybook(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := s.playbooksHTTP
	s.mu.RUnlock()
	h.ServeHTTP(w, r)
}

// PlaybookURL is the link to a playbook as on-call reaches it.
func (s *Service) PlaybookURL(id string) string {
	return playbooks.URL(s.config().Playbooks.BaseURL, id)
}

func (s *Service) config() *slo.Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

func (s *Service) maxBody() int64 {
	if src := s.eventsSource(); src != nil {
		return src.Events.MaxBody
	}
	return slo.DefaultMaxBody
}

func (s *Service) eventsSource() *slo.Source {
	for _, src := range s.config().Sources {
		if src.Events != nil {
			return src
		}
	}
	return nil
}

// EventsTokenFile is where the events token is kept: the config's file, or
// one the service made in its storage directory.
func (s *Service) EventsTokenFile() string {
	if src := s.eventsSource(); src != nil && src.Events.TokenFile != "" {
		return src.Events.TokenFile
	}
	return filepath.Join(s.o.StoragePath, "events.token")
}

// eventsToken reads the bearer token pushers must send, making one the
// first time when the config names no file.
func (s *Service) eventsToken() (string, error) {
	path := s.EventsTokenFile()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && s.eventsSource() != nil && s.eventsSource().Events.TokenFile == "" {
		return s.makeToken(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the events token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("the events token file %s is empty", path)
	}
	return tok, nil
}

func (s *Service) makeToken(path string) (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return s.eventsToken()
	}
	if err != nil {
		return "", fmt.Errorf("making the events token: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(tok + "\n"); err != nil {
		return "", err
	}
	s.log.Info("made an events token; pushers send it as a bearer token", "file", path)
	return tok, nil
}

// EnsureEventsToken makes the events token now if the service will need
// one, so that it exists before the first push.
func (s *Service) EnsureEventsToken() error {
	if s.eventsSource() == nil {
		return nil
	}
	_, err := s.eventsToken()
	return err
}

// LastCycle is the time of the last committed cycle, zero if none.
func (s *Service) LastCycle() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.lastCommit == 0 {
		return time.Time{}
	}
	return time.UnixMilli(s.lastCommit).UTC()
}

// Store is the service's SQLite store.
func (s *Service) Store() *store.DB { return s.db }
