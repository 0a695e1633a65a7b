// Package service is burnwatch serve: it reads live sources, hands what
// they bring to the engine (one writer, engine.Apply), commits each result
// to SQLite, sends the notifications it makes, and answers over HTTP from
// an immutable view the engine publishes after each apply. docs/dataflow.md
// draws the path.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
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
	// Import makes the service count a recording (Import): nothing is
	// pruned or forgotten by the clock.
	Import bool
	// Election, when set, makes this one of several replicas: it reads
	// and evaluates, and sends only while it leads (leader.go). Nil runs
	// alone, sending everything.
	Election Election
	// WebConfigFile is the web configuration file the listener serves
	// with (--web.config.file): its basic-auth users and verified client
	// certificates authenticate API requests (auth.go).
	WebConfigFile string
	// EnableLifecycle turns POST /-/reload on (--web.enable-lifecycle),
	// as in Prometheus; SIGHUP reloads regardless.
	EnableLifecycle bool
}

// Timing of the loop, each with why.
const (
	// checkpointEvery is how often the engine's counts are made
	// restorable (the journal since the last checkpoint, the series
	// cursors); a restart reads its sources again from the last one, so
	// this bounds what it reads twice.
	checkpointEvery = 10 * time.Minute
	// snapshotEvery is how often every instance's whole state is written,
	// so that a restart replays no more than this much journal.
	snapshotEvery = 6 * time.Hour
	// readDelay is how far behind now a cycle reads a Prometheus source:
	// a sample is stamped at its scrape's start and becomes queryable only
	// once the scrape is ingested.
	readDelay = 10 * time.Second
	// datadogDelay is the same for Datadog, whose one-minute counts are
	// complete only a while after their minute: a minute read too early
	// would be counted short, and never again.
	datadogDelay = 3 * time.Minute
	// backfillChunk is the span of history read and applied at a time
	// while backfilling: each is one request per selector, and is
	// committed, so that a restart resumes from the last.
	backfillChunk = time.Hour
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

	// The writer: one goroutine owns the engine and the pending cycle, and
	// runs the jobs sent to it one at a time (apply, commit, queries).
	jobs    chan func()
	stopped chan struct{}
	once    sync.Once
	// eng and what follows are touched only by the writer.
	eng            *engine.Engine
	lastCheckpoint int64
	lastSnapshot   int64
	// early are the alerts a first start's early look paged, by ID, until
	// its backfill ends.
	early map[string]burnrate.Transition
	// warned are the sources whose unmatched selectors were logged.
	warned map[string]bool

	// view is where everything stands, as of the last apply.
	view atomic.Pointer[engine.View]
	// cur is the running config and what was built from it.
	cur atomic.Pointer[installation]

	// committed wakes the senders after a commit with notifications.
	committed chan struct{}
	// exports and reports are their slots (slots.go), so that they never
	// take the read connections the cycles need, nor memory without bound.
	exports, reports chan struct{}
	// nextReport is when the scheduled report is next due; only the
	// goroutine running housekeeping reads and writes it.
	nextReport time.Time
	// reportsSending counts the scheduled reports being posted to their
	// receiver, each in a goroutine of its own; Run waits for them.
	reportsSending sync.WaitGroup
	// senders deliver the outbox, a worker per receiver.
	senders *senders
	// lead is whether this replica sends (leader.go).
	lead leadership
	// silencing lets one silence be added at a time, for the limit.
	silencing sync.Mutex
	// drops is what the router dropped and the log has not said yet.
	drops dropLog
	// health counts the evaluation cycles failed in a row, for /readyz.
	health cycleHealth
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
		jobs:      make(chan func()),
		stopped:   make(chan struct{}),
		committed: make(chan struct{}, 1),
		exports:   make(chan struct{}, maxExports),
		reports:   make(chan struct{}, maxReports),
		early:     map[string]burnrate.Transition{},
	}
	s.lead.init(o.Election != nil)
	s.metrics.setLeader(s.Leading())
	s.senders = newSenders(s)
	go s.write()
	if err := s.install(ctx, cfg, nil); err != nil {
		s.Close()
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

// errClosed refuses work once the service is closed.
var errClosed = errors.New("the service is closed")

// Close stops the writer and closes the store. Run closes it itself when
// it returns.
func (s *Service) Close() error {
	var err error
	s.once.Do(func() {
		close(s.jobs)
		<-s.stopped
		err = s.db.Close()
	})
	return err
}

// write runs the writer's jobs until Close.
func (s *Service) write() {
	defer close(s.stopped)
	for job := range s.jobs {
		job()
	}
}

// do runs fn on the writer and waits for it: fn may use the engine. It
// fails without running fn if ctx ends first or the service is closed.
func (s *Service) do(ctx context.Context, fn func() error) (err error) {
	done := make(chan error, 1)
	job := func() { done <- fn() }
	defer func() {
		if recover() != nil { // the jobs channel is closed
			err = errClosed
		}
	}()
	select {
	case s.jobs <- job:
	case <-s.stopped:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-done
}

// installation is the running config and what was built from it, replaced
// whole by a reload.
type installation struct {
	cfg           *slo.Config
	readers       map[string]reader
	receivers     map[string]notify.Receiver
	stages        []stage
	enrich        enrichStage // the pipeline's first stage, for the API's alerts too
	silences      *silence.Set
	playbooks     *playbooks.Set
	playbooksHTTP http.Handler
	heartbeat     *heartbeat // nil: none configured
}

// install builds what cfg needs and restores the engine from the store
// under it. A reload passes the engine it replaces, whose codes of the
// hours under way the new one inherits.
func (s *Service) install(ctx context.Context, cfg *slo.Config, old *engine.Engine) error {
	in, err := s.build(ctx, cfg)
	if err != nil {
		return err
	}
	s.metrics.known(cfg, in.receivers)
	return s.do(ctx, func() error {
		st, err := s.db.Load(ctx)
		if err != nil {
			return fmt.Errorf("loading state: %w", err)
		}
		eng, err := engine.New(cfg, engine.Options{Logger: s.log, Now: s.now, Import: s.o.Import})
		if err != nil {
			return err
		}
		if err := eng.Restore(st); err != nil {
			return err
		}
		if old != nil {
			eng.Inherit(old)
		}
		s.eng = eng
		s.cur.Store(in)
		if src := eventsSourceOf(cfg); src != nil && len(st.Counted) > 0 && !s.o.ReadOnly {
			// What was pushed and counted after the last checkpoint, which
			// the journal does not hold, is counted again.
			now := s.now().UnixMilli()
			b := engine.Batch{Source: src.Name, From: now, Through: now, Pushed: s.pushed(cfg, st.Counted), Recount: true}
			if _, err := s.apply(ctx, b); err != nil {
				return fmt.Errorf("counting again the batches pushed since the last checkpoint: %w", err)
			}
		}
		s.publish()
		return nil
	})
}

// Run reads every source on its interval, each in its own goroutine, and
// delivers notifications, until ctx ends; then it writes a last snapshot
// and closes the store.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	if s.o.ReadOnly {
		return errReadOnly
	}
	sending, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.senders.run(sending)
	}()
	// A report being posted ends with ctx, so this wait is short.
	defer s.reportsSending.Wait()
	// The election outlives the senders: the lease is released (for the
	// other replica to take at once) only once nothing is being sent.
	stopCampaign := s.startLeading(ctx)
	s.runFeeds(ctx)
	stopSending()
	wg.Wait()
	stopCampaign()
	return s.shutdown()
}

// shutdown writes a snapshot so that the next start has nothing to replay.
func (s *Service) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.do(ctx, func() error {
		// The hours complete by the sources' cursors are written now,
		// without waiting for late data: their codes are in memory only.
		s.eng.FlushHistory()
		if err := s.commit(ctx, engine.Snapshot); err != nil && !errors.Is(err, store.ErrCycleOrder) {
			return fmt.Errorf("writing the last snapshot: %w", err)
		}
		s.log.Info("stopped; state written", "instances", len(s.eng.Router().Instances()))
		return nil
	})
}

// Reload reads the config again. A config with errors is rejected with
// them, and the running one keeps running; a good one replaces it, the
// instances' history carried over.
func (s *Service) Reload(ctx context.Context) error {
	cfg, err := loadConfig(s.o.ConfigPath)
	if err != nil {
		s.log.Error("config reload rejected; the running config stays", "err", err)
		s.metrics.reloaded(false)
		return err
	}
	var old *engine.Engine
	err = s.do(ctx, func() error {
		// Everything goes to the store, and comes back under the new
		// config.
		old = s.eng
		if err := s.commit(ctx, engine.Snapshot); err != nil && !errors.Is(err, store.ErrCycleOrder) {
			return fmt.Errorf("writing state before the reload: %w", err)
		}
		return nil
	})
	if err == nil {
		err = s.install(ctx, cfg, old)
	}
	if err != nil {
		s.metrics.reloaded(false)
		return err
	}
	s.metrics.reloaded(true)
	for _, x := range old.Config().SLOs {
		if cfg.SLO(x.Name) == nil {
			s.metrics.ForgetSLO(x.Name)
		}
	}
	s.log.Info("config reloaded", "slos", len(cfg.SLOs))
	return nil
}

// Handler is the service's HTTP API, behind its access rules (auth.go).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.silenceRoutes(mux)
	s.reportRoute(mux)
	s.exportRoute(mux)
	var reload func(context.Context) error
	if s.o.EnableLifecycle {
		reload = s.Reload
	}
	mux.Handle("/", Handler(HandlerOptions{
		View:        s,
		Batches:     s.db,
		Config:      s.config,
		EventsToken: s.eventsToken,
		MaxBody:     s.maxBody(),
		Reload:      reload,
		Registry:    s.reg,
		Metrics:     s.metrics,
		Playbooks:   http.HandlerFunc(s.servePlaybook),
		Now:         s.now,
		Logger:      s.log,
	}))
	a := &access{config: s.config, webConfig: s.o.WebConfigFile, tokens: s.apiTokens, csrf: http.NewCrossOriginProtection(), log: s.log}
	return a.guard(mux)
}

// servePlaybook serves the running config's playbooks, which a reload
// may change.
func (s *Service) servePlaybook(w http.ResponseWriter, r *http.Request) {
	s.cur.Load().playbooksHTTP.ServeHTTP(w, r)
}

// PlaybookURL is the link to a playbook as on-call reaches it.
func (s *Service) PlaybookURL(id string) string {
	return playbooks.URL(s.config().Playbooks.BaseURL, id)
}

func (s *Service) config() *slo.Config { return s.cur.Load().cfg }

func (s *Service) maxBody() int64 {
	if src := s.eventsSource(); src != nil {
		return src.Events.MaxBody
	}
	return slo.DefaultMaxBody
}

func (s *Service) eventsSource() *slo.Source { return eventsSourceOf(s.config()) }

// eventsSourceOf is the config's events source, nil if it has none.
func eventsSourceOf(cfg *slo.Config) *slo.Source {
	for _, src := range cfg.Sources {
		if src.Events != nil {
			return src
		}
	}
	return nil
}

// LastCycle is the time of the last committed cycle, zero if none.
func (s *Service) LastCycle() time.Time {
	ms := s.view.Load().LastCommit
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Store is the service's SQLite store.
func (s *Service) Store() *store.DB { return s.db }
