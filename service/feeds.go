package service

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
	"github.com/burnwatch/burnwatch/store"
)

// reader reads a source's counter samples: Prometheus (or anything that
// speaks its APIs) or Datadog. Pushed events have no reader: they are in
// the store already.
type reader interface {
	// read calls fn with every series' samples with time in (from, to]
	// (ms), a few series at a time; an error from fn stops it.
	read(ctx context.Context, from, to int64, fn func([]engine.Run) error) error
	// delay is how far behind now the source's data is complete.
	delay() time.Duration
}

// partSamples is how many samples the runs handed to the engine at once
// hold: a few MB, so that a large read streams into the engine without
// being held whole.
const partSamples = 256 << 10

// parts gathers runs into parts of about partSamples samples, adding the
// source's labels (slo.Source.Labels) to each run's.
type parts struct {
	fn    func([]engine.Run) error
	extra labels.Labels
	runs  []engine.Run
	n     int
}

func (p *parts) add(r engine.Run) error {
	if !p.extra.IsEmpty() {
		b := labels.NewBuilder(r.Labels)
		p.extra.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		r.Labels = b.Labels()
	}
	p.runs = append(p.runs, r)
	if p.n += len(r.T); p.n >= partSamples {
		return p.flush()
	}
	return nil
}

func (p *parts) flush() error {
	if len(p.runs) == 0 {
		return nil
	}
	err := p.fn(p.runs)
	p.runs, p.n = nil, 0
	return err
}

// promReader reads a Prometheus source in bulk: a request per selector and
// slice of time.
type promReader struct {
	p       *source.Prometheus
	queries []string
	labels  labels.Labels // added to every series
}

func (r promReader) delay() time.Duration { return readDelay }

func (r promReader) read(ctx context.Context, from, to int64, fn func([]engine.Run) error) error {
	p := &parts{fn: fn, extra: r.labels}
	err := r.p.Read(ctx, r.queries, time.UnixMilli(from), time.UnixMilli(to), func(lset labels.Labels, ts []int64, vs []float64) error {
		return p.add(engine.Run{Labels: lset, T: ts, V: vs})
	})
	if err != nil {
		return err
	}
	return p.flush()
}

// samplesReader reads a source through its ingest.Samples iterator.
type samplesReader struct {
	samples func(ctx context.Context, from, to time.Time) ingest.Samples
	wait    time.Duration
	labels  labels.Labels // added to every series
}

func (r samplesReader) delay() time.Duration { return r.wait }

func (r samplesReader) read(ctx context.Context, from, to int64, fn func([]engine.Run) error) error {
	it := r.samples(ctx, time.UnixMilli(from), time.UnixMilli(to))
	p := &parts{fn: fn, extra: r.labels}
	var cur engine.Run
	for it.Next() {
		if it.NewSeries() && len(cur.T) > 0 {
			if err := p.add(cur); err != nil {
				return err
			}
			cur = engine.Run{}
		}
		if len(cur.T) == 0 {
			cur.Labels = it.Labels()
		}
		ts, v := it.At()
		cur.T = append(cur.T, ts)
		cur.V = append(cur.V, v)
	}
	if err := it.Err(); err != nil {
		return err
	}
	if len(cur.T) > 0 {
		if err := p.add(cur); err != nil {
			return err
		}
	}
	return p.flush()
}

// newReaders makes a reader for each source that has one.
func (s *Service) newReaders(cfg *slo.Config) (map[string]reader, error) {
	out := map[string]reader{}
	for _, src := range cfg.Sources {
		var queries []string
		for _, x := range cfg.SLOs {
			if !x.Reads(src.Name) {
				continue
			}
			if src.Datadog != nil {
				total, errs := x.DatadogQueries()
				queries = append(queries, total, errs)
			} else {
				queries = append(queries, x.SLI.Total, x.SLI.Errors)
			}
		}
		switch {
		case src.Prometheus != nil:
			p, err := source.NewPrometheus(*src.Prometheus)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src.Name, err)
			}
			p.Logger = s.log
			out[src.Name] = promReader{p: p, queries: queries, labels: src.LabelSet()}
		case src.Datadog != nil:
			d, err := source.NewDatadog(*src.Datadog)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src.Name, err)
			}
			d.Log = s.log
			out[src.Name] = samplesReader{wait: datadogDelay, labels: src.LabelSet(), samples: func(ctx context.Context, from, to time.Time) ingest.Samples {
				return d.Samples(ctx, queries, from, to)
			}}
		}
	}
	return out, nil
}

// backfillSpan is how much history a first start reads: enough for every
// window, and the SLO period for the budget.
func backfillSpan(cfg *slo.Config) time.Duration {
	span := minBackfill
	for _, x := range cfg.SLOs {
		span = max(span, x.Window.Std())
		for _, p := range x.Pairs() {
			span = max(span, p.Long.Std())
		}
	}
	return span
}

// Cycle reads every source up to now, one after the other, applies what
// each brought, steps what the clock moves, and commits. Run does the
// same with each source in its own goroutine; tests call Cycle with their
// own clock.
func (s *Service) Cycle(ctx context.Context) error {
	if s.o.ReadOnly {
		return errReadOnly
	}
	in := s.cur.Load()
	now := s.now()
	var errs []error
	for _, src := range in.cfg.Sources {
		errs = append(errs, s.readSource(ctx, in, src, now))
	}
	errs = append(errs, s.housekeeping(ctx))
	return errors.Join(errs...)
}

// housekeeping steps the clock's alerts and commits, counts the cycle,
// and makes the scheduled report when it is due.
func (s *Service) housekeeping(ctx context.Context) error {
	start := time.Now()
	err := s.do(ctx, func() error { return s.tick(ctx) })
	s.metrics.Evaluations.Inc()
	s.metrics.EvaluationDuration.Observe(time.Since(start).Seconds())
	s.metrics.cycled(err, s.now())
	s.health.cycled(err)
	// Reports read the state, so they are made once the cycle has let go
	// of it.
	s.scheduledReports(ctx)
	return err
}

// readSource reads what a source has that is new since its cursor and
// applies it: a read failure is logged and counted, and the source's
// instances hold their alerts; the error returned is the engine's or the
// store's.
func (s *Service) readSource(ctx context.Context, in *installation, src *slo.Source, now time.Time) error {
	if src.Events != nil {
		return s.readEvents(ctx, in, src)
	}
	rd := in.readers[src.Name]
	if rd == nil {
		return nil
	}
	cursor := int64(0)
	if fv := s.feedView(src.Name); fv != nil {
		cursor = fv.Cursor
	}
	to := now.Add(-rd.delay()).UnixMilli()
	to -= to % 1000 // whole seconds, as the APIs take them
	from := cursor
	if from == 0 {
		from = to - backfillSpan(in.cfg).Milliseconds()
		if _, ok := rd.(boundaryReader); ok {
			// A first start reads its older history by the hour: from an
			// hour, whose values are the baselines.
			from -= from % hourMS
		}
	}
	if to <= from {
		return nil
	}
	if to-from > 3*in.cfg.EvaluationInterval.Std().Milliseconds()+readDelay.Milliseconds() {
		if cursor == 0 && to-from > earlyLook.Milliseconds() {
			s.lookEarly(ctx, in, src.Name, rd, to)
		}
		return s.backfill(ctx, src.Name, rd, from, to)
	}
	if cursor > 0 && to-to%minuteMS <= cursor-cursor%minuteMS {
		// No minute has ended since the last read: nothing new can be
		// evaluated, and half the reads of a 30s interval would cost the
		// server and burnwatch for nothing. The next cycle reads it.
		return nil
	}
	_, err := s.applyRead(ctx, rd, engine.Batch{Source: src.Name, Mode: engine.Live, From: from, Through: to})
	return s.readResult(ctx, src.Name, err)
}

// minuteMS is a minute in milliseconds.
const minuteMS = int64(time.Minute / time.Millisecond)

// readResult handles the outcome of a read: a source's failure is logged
// and counted, and noted in the engine, whose no-data clock runs on;
// the error returned is the engine's or the store's.
func (s *Service) readResult(ctx context.Context, source string, err error) error {
	var rf readFailure
	if !errors.As(err, &rf) {
		return err
	}
	s.readFailed(source, rf.err)
	return s.do(ctx, func() error {
		_, err := s.apply(ctx, engine.Batch{Source: source, Err: rf.err})
		return err
	})
}

func (s *Service) readFailed(source string, err error) {
	s.metrics.SourceErrors.WithLabelValues(source).Inc()
	s.log.Warn("reading a source failed; its instances hold their alerts", "source", source, "err", err)
}

// feedView is a source's progress as of the last apply.
func (s *Service) feedView(name string) *engine.FeedView {
	v := s.view.Load()
	for i := range v.Feeds {
		if v.Feeds[i].Name == name {
			return &v.Feeds[i]
		}
	}
	return nil
}

// The spans of a long backfill (a first start, a restart after hours),
// each with why.
const (
	// exactSpan is how much of it is read sample by sample: the windows of
	// its evaluated part (up to 6 hours) reach this far back.
	exactSpan = 8 * time.Hour
	// evaluatedSpan is how much of it is evaluated minute by minute, its
	// transitions logged, its history written and what still fires at its
	// end paged.
	evaluatedSpan = 2 * time.Hour
	// coarseChunk is the span of older history applied at a time: a day of
	// hourly values per series, a few tens of MB for a large fleet.
	coarseChunk = 24 * time.Hour
)

// earlyLook is how much of its last history a first start reads first, to
// page an outage under way without waiting for the rest: enough for the
// fast page pair (1h, confirmed over 5m).
const earlyLook = time.Hour + 5*time.Minute

// lookEarly reads the source's last hour and five minutes into an engine
// of its own that knows only the page pairs whose windows that span holds
// (the workbook's 1h/5m), evaluates them at the last minute, and pages
// what fires: a first start of a large fleet reads its history for
// minutes, and an outage under way must not wait for it. The backfill,
// when it ends, pages only what this did not, and resolves what this paged
// and no longer fires.
func (s *Service) lookEarly(ctx context.Context, in *installation, name string, rd reader, to int64) {
	cfg := in.cfg.PagesOnly(slo.Duration(time.Hour))
	any := false
	for _, x := range cfg.SLOs {
		any = any || slices.Contains(x.SourceNames(), name) && len(x.Pairs()) > 0
	}
	if !any {
		return
	}
	eng, err := engine.New(cfg, engine.Options{Logger: s.log, Now: s.now})
	if err != nil {
		return
	}
	from := to - earlyLook.Milliseconds()
	o, err := eng.Open(engine.Batch{Source: name, Mode: engine.Backfill, From: from, Through: to, Quiet: true})
	if err != nil {
		return
	}
	if err := rd.read(ctx, from, to, func(runs []engine.Run) error { return o.Add(runs) }); err != nil {
		o.Abort(err)
		s.log.Warn("the early look at the last hour failed; the backfill pages when it ends", "source", name, "err", err)
		return
	}
	if _, err := o.Close(); err != nil {
		return
	}
	notices := eng.FiringNow(name)
	s.log.Info("looked at the last hour before the backfill", "source", name, "firing", len(notices))
	if len(notices) == 0 {
		return
	}
	err = s.do(ctx, func() error {
		for _, n := range notices {
			s.early[n.Transition.ID] = n.Transition
		}
		s.notify(ctx, in, notices)
		return s.commit(ctx, engine.Record)
	})
	if err != nil {
		s.log.Error("paging what fires before the backfill", "source", name, "err", err)
	}
}

// boundaryReader is a reader whose server computes counter values at
// given boundaries: a first start reads its older history that way.
type boundaryReader interface {
	boundaries(ctx context.Context, from, to int64, step time.Duration, fn func([]engine.Run) error) error
}

func (r promReader) boundaries(ctx context.Context, from, to int64, step time.Duration, fn func([]engine.Run) error) error {
	p := &parts{fn: fn, extra: r.labels}
	err := r.p.Boundaries(ctx, r.queries, time.UnixMilli(from), time.UnixMilli(to), step, func(lset labels.Labels, ts []int64, vs []float64) error {
		return p.add(engine.Run{Labels: lset, T: ts, V: vs})
	})
	if err != nil {
		return err
	}
	return p.flush()
}

// backfill reads a source's history over (from, to], each part applied
// and committed as it is read, with progress in the log and in /metrics;
// a first start is not ready until it is done.
//
// A long one reads no more than the engine keeps: the history older than
// its last 8 hours as the counters' values at each hour (the engine keeps
// that span as 1- or 2-hour boundaries), computed by the server where it
// can; the last 8 hours sample by sample; and it evaluates its last 2
// hours minute by minute, their transitions logged, their history written
// and the alerts still firing at its end paged. docs/serve.md says what
// this reconstructs exactly.
func (s *Service) backfill(ctx context.Context, name string, rd reader, from, to int64) error {
	s.log.Info("backfilling", "source", name, "from", time.UnixMilli(from).UTC(), "to", time.UnixMilli(to).UTC())
	progress := func(b int64, samples int) {
		done := float64(b-from) / float64(to-from)
		s.metrics.BackfillProgress.WithLabelValues(name).Set(done)
		s.log.Info("backfill progress", "source", name, "through", time.UnixMilli(b).UTC(), "done", fmt.Sprintf("%.0f%%", 100*done), "samples", samples)
	}
	exact, evalFrom := from, from
	if br, ok := rd.(boundaryReader); ok && to-from > exactSpan.Milliseconds() {
		top := to - to%hourMS
		exact, evalFrom = top-exactSpan.Milliseconds(), top-evaluatedSpan.Milliseconds()
		// The first boundary is where the reading starts, its values only
		// baselines: from is on an hour for a first start.
		a := from - 1
		if a%hourMS != hourMS-1 {
			a = from
		}
		for a < exact {
			// Chunks end on an hour.
			b := min(a-a%hourMS+coarseChunk.Milliseconds(), exact)
			batch := engine.Batch{Source: name, Mode: engine.Backfill, From: a, Through: b, Coarse: true}
			res, err := s.applyParts(ctx, batch, func(fn func([]engine.Run) error) error {
				return br.boundaries(ctx, a+1, b, time.Hour, fn)
			})
			if err != nil {
				return s.readResult(ctx, name, fmt.Errorf("backfilling %s: %w", name, err))
			}
			progress(b, res.Samples)
			a = b
		}
	}
	chunk := backfillChunk.Milliseconds()
	for a := exact; a < to; a += chunk {
		b := min(a+chunk, to)
		batch := engine.Batch{Source: name, Mode: engine.Backfill, From: a, Through: b, Quiet: b <= evalFrom, Done: b == to}
		res, err := s.applyRead(ctx, rd, batch)
		if err != nil {
			return s.readResult(ctx, name, fmt.Errorf("backfilling %s: %w", name, err))
		}
		progress(b, res.Samples)
	}
	// What the backfill's reads and spools held goes back to the system:
	// the steady state needs far less.
	debug.FreeOSMemory()
	return nil
}

// readEvents counts the batches pushed since the last checkpoint. It reads
// them on the writer: what the last checkpoint consumed is gone from the
// store, and what it did not is skipped by the engine if counted already.
func (s *Service) readEvents(ctx context.Context, in *installation, src *slo.Source) error {
	return s.do(ctx, func() error {
		start := time.Now()
		batches, err := s.db.PendingBatches(ctx)
		s.metrics.stage(stageRead, start)
		if err != nil {
			s.readFailed(src.Name, err)
			_, aerr := s.apply(ctx, engine.Batch{Source: src.Name, Err: err})
			return aerr
		}
		now := s.now().UnixMilli()
		b := engine.Batch{Source: src.Name, Mode: engine.Live, From: now, Through: now, Pushed: s.pushed(in.cfg, batches)}
		_, err = s.apply(ctx, b)
		return err
	})
}

// pushed reads stored batches of pushed events as the engine counts them.
func (s *Service) pushed(cfg *slo.Config, batches []store.Batch) []engine.Pushed {
	out := make([]engine.Pushed, 0, len(batches))
	for _, pb := range batches {
		events, err := ParseEvents(pb.NDJSON, cfg, time.UnixMilli(pb.Received))
		if err != nil {
			// Accepted under another config (an SLO since removed):
			// nothing of it can be counted now.
			s.log.Warn("dropping a pushed batch the config no longer accepts", "batch", pb.ID, "err", err)
			out = append(out, engine.Pushed{ID: pb.ID})
			continue
		}
		p := engine.Pushed{ID: pb.ID, Events: make([]engine.Event, 0, len(events))}
		for _, e := range events {
			// A line counts one minute; its counts are at the minute's
			// end, as a scrape at that time would have seen them.
			p.Events = append(p.Events, engine.Event{
				Time: e.Time.Truncate(time.Minute).Add(time.Minute).UnixMilli(), SLO: e.SLO,
				Labels: labels.FromMap(e.Labels), Total: e.Total, Errors: e.Errors,
			})
		}
		out = append(out, p)
	}
	return out
}

// runFeeds reads each source on the evaluation interval in a goroutine of
// its own, so that a slow or failing source delays no other, and steps
// the clock's alerts and commits every interval, until ctx ends.
func (s *Service) runFeeds(ctx context.Context) {
	var wg sync.WaitGroup
	triggers := map[string]chan struct{}{}
	defer func() {
		for _, t := range triggers {
			close(t)
		}
		wg.Wait()
	}()
	for {
		in := s.cur.Load()
		for _, src := range in.cfg.Sources {
			t, ok := triggers[src.Name]
			if !ok {
				t = make(chan struct{}, 1)
				triggers[src.Name] = t
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.feed(ctx, src.Name, t)
				}()
			}
			select {
			case t <- struct{}{}:
			default: // still reading: it goes on from where it gets
			}
		}
		if err := s.housekeeping(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("evaluation cycle failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(untilNextCycle(time.Now(), in.cfg.EvaluationInterval.Std())):
		}
	}
}

// feed reads one source each time it is triggered.
func (s *Service) feed(ctx context.Context, name string, trigger <-chan struct{}) {
	for range trigger {
		in := s.cur.Load()
		src := sourceNamed(in.cfg, name)
		if src == nil {
			continue // a reload removed it
		}
		if err := s.readSource(ctx, in, src, s.now()); err != nil && ctx.Err() == nil {
			s.metrics.cycled(err, s.now())
			s.log.Error("applying what a source read failed", "source", name, "err", err)
		}
	}
}

// sourceNamed returns the config's source of that name, nil if none.
func sourceNamed(cfg *slo.Config, name string) *slo.Source {
	for _, src := range cfg.Sources {
		if src.Name == name {
			return src
		}
	}
	return nil
}

// untilNextCycle is how long to wait for the next cycle: cycles run a read
// delay after each whole multiple of the interval (at :10 and :40 with the
// default 30s), so that a minute is read, evaluated and paged as soon as a
// scrape of its end can be read, not up to an interval later.
func untilNextCycle(now time.Time, interval time.Duration) time.Duration {
	if interval <= 0 {
		return time.Second
	}
	next := now.Truncate(interval).Add(readDelay)
	for !next.After(now) {
		next = next.Add(interval)
	}
	return next.Sub(now)
}
