package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// feed is one configured source as the loop reads it.
type feed struct {
	src *slo.Source
	// samples reads a server's history over (from, to]: Prometheus or
	// Datadog; nil for the events source.
	samples func(ctx context.Context, from, to time.Time) ingest.Samples
	// delay is how far behind now the server's data is complete.
	delay    time.Duration
	cursor   int64 // ms: read up to here
	lastData int64 // ms: the last cycle that brought anything
	since    int64 // ms: when the service started watching it
	failing  error
	// baseline: the first read since the service started or reloaded,
	// whose unseen series only give their baselines.
	baseline bool
	// backfilling: a backfill has not reached its end.
	backfilling bool
}

// noDataAlert is an SLO's alert on its source delivering nothing.
type noDataAlert struct {
	alert burnrate.Alert
}

// cyclePending is what the cycle (or the backfill chunks) changed and the
// store has not committed yet. A failed commit keeps it for the next.
type cyclePending struct {
	journal     map[journalKey]burnrate.Events
	cursors     map[string]store.SeriesCursor // by source and series
	alerts      map[string]store.AlertState
	records     []store.TransitionRecord
	transitions []burnrate.Transition
	outbox      []store.OutboxEntry
	consumed    []int64
	// history are the hours flushHistory wrote, and historyCursors the
	// hour each SLO's history is written up to.
	history        []store.HistoryHour
	historyCursors map[string]int64
}

type journalKey struct {
	in     *burnrate.Instance
	minute int64
}

func (p *cyclePending) reset() {
	*p = cyclePending{
		journal: map[journalKey]burnrate.Events{},
		cursors: map[string]store.SeriesCursor{},
		alerts:  map[string]store.AlertState{},

		historyCursors: map[string]int64{},
	}
}

// onAdd journals every increment counted, per instance and minute.
func (s *Service) onAdd(in *burnrate.Instance, ts int64, e burnrate.Events) {
	k := journalKey{in, burnrate.MinuteOf(ts)}
	s.pending.journal[k] = s.pending.journal[k].Add(e)
}

// Cycle reads every source up to now, evaluates every instance with data,
// and commits what changed in one transaction. It is what Run does each
// evaluation interval; tests call it with their own clock.
func (s *Service) Cycle(ctx context.Context) error {
	if s.o.ReadOnly {
		return errReadOnly
	}
	err := s.cycle(ctx)
	// Reports read the state, so they are written once the cycle has let
	// go of it.
	s.scheduledReports(ctx)
	return err
}

func (s *Service) cycle(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	now := s.now().UnixMilli()
	ready := true
	for _, f := range s.feeds {
		err := s.read(ctx, f, now)
		if f.cursor == 0 || f.backfilling {
			// Not yet read whole since the first start.
			ready = false
		}
		if err != nil {
			f.failing = err
			s.metrics.SourceErrors.WithLabelValues(f.src.Name).Inc()
			s.log.Warn("reading a source failed; its instances hold their alerts", "source", f.src.Name, "err", err)
			continue
		}
		f.failing = nil
	}
	s.evaluate(now)
	if err := s.releaseHeld(ctx, time.UnixMilli(now)); err != nil {
		s.log.Error("releasing held triggers", "err", err)
	}
	s.cycles++
	err := s.commit(ctx, now, s.cycles%snapshotEvery == 0)
	s.metrics.Evaluations.Inc()
	s.metrics.EvaluationDuration.Observe(time.Since(start).Seconds())
	if ready && !s.ready.Load() {
		s.ready.Store(true)
		s.notReady.Store("")
		s.log.Info("ready", "instances", len(s.router.Instances()))
	}
	return err
}

// read counts what a source has that is new since its cursor.
func (s *Service) read(ctx context.Context, f *feed, now int64) error {
	if f.samples != nil {
		return s.readRange(ctx, f, now)
	}
	return s.readEvents(ctx, f, now)
}

// readRange reads a Prometheus or Datadog source from its cursor to its
// delay before now, backfilling when it is far behind.
func (s *Service) readRange(ctx context.Context, f *feed, now int64) error {
	to := now - f.delay.Milliseconds()
	to -= to % 1000 // whole seconds, as both APIs take them
	from := f.cursor
	if from == 0 {
		from = to - s.backfillSpan().Milliseconds()
	}
	if to <= from {
		return nil
	}
	if to-from > 3*s.cfg.EvaluationInterval.Std().Milliseconds()+readDelay.Milliseconds() {
		return s.backfill(ctx, f, from, to)
	}
	it := f.samples(ctx, time.UnixMilli(from), time.UnixMilli(to))
	var (
		cur *ingest.Series
		n   int
	)
	nop := func(*burnrate.Instance) {}
	for it.Next() {
		if it.NewSeries() {
			cur = s.router.Resolve(it.Labels())
		}
		if cur == nil {
			continue
		}
		ts, v := it.At()
		// A series we have not seen, appearing while we watch, started
		// from zero; but in the first read after a start or a reload, a
		// series new to us (a new SLO, a wider selector) has been counting
		// all along, and its first sample is only a baseline.
		s.router.Observe(cur, ts, v, !f.baseline, nop)
		n++
	}
	if it.Err() == nil {
		f.baseline = false
	}
	s.keepCursors(f)
	if err := it.Err(); err != nil {
		return err
	}
	s.metrics.SamplesRead.WithLabelValues(f.src.Name).Add(float64(n))
	f.cursor = to
	if n > 0 {
		f.lastData = now
	}
	s.flushHistory(f, to-historySettle.Milliseconds())
	return nil
}

// backfill replays a source's history over (from, to] in chunks, with
// progress in the log and in /metrics. A first start is not ready until it
// is done.
//
// The history is history: its transitions go to the log, not to the
// pagers; once it is read, the alerts that still fire are paged. Its
// increments are kept by a snapshot after each chunk, not
// journalled minute by minute, and each snapshot commits the cursor with
// them, so a restart resumes from the last.
func (s *Service) backfill(ctx context.Context, f *feed, from, to int64) error {
	if f.cursor == 0 {
		s.ready.Store(false)
		s.notReady.Store(fmt.Sprintf("backfilling source %s from %s", f.src.Name, time.UnixMilli(from).UTC().Format(time.RFC3339)))
	}
	f.backfilling = true
	s.log.Info("backfilling", "source", f.src.Name, "from", time.UnixMilli(from).UTC(), "to", time.UnixMilli(to).UTC())
	s.router.OnAdd = nil
	s.router.Baseline = true
	defer func() { s.router.OnAdd, s.router.Baseline, s.router.Progress = s.onAdd, false, nil }()
	latest := map[string]burnrate.Transition{}
	chunk := backfillChunk.Milliseconds()
	for a := from; a < to; a += chunk {
		b := min(a+chunk, to)
		// The history of each hour is taken as the replay passes it,
		// while the engine still holds its minutes.
		s.router.Progress = func(through int64) error {
			s.flushHistory(f, min(through, b))
			return nil
		}
		it := f.samples(ctx, time.UnixMilli(a), time.UnixMilli(b))
		st, err := s.router.Replay(ctx, it, func(t burnrate.Transition) error {
			s.record(t, false)
			latest[t.ID] = t
			return nil
		})
		s.keepCursors(f)
		if err != nil {
			// Keep what was read: a snapshot with the cursor where it got.
			if cerr := s.commit(ctx, f.cursor, true); cerr != nil && !errors.Is(cerr, store.ErrCycleOrder) {
				s.log.Error("writing the backfill so far", "err", cerr)
			}
			return fmt.Errorf("backfilling %s: %w", f.src.Name, err)
		}
		s.metrics.SamplesRead.WithLabelValues(f.src.Name).Add(float64(st.Samples))
		f.cursor = b
		if st.Samples > 0 {
			f.lastData = s.now().UnixMilli()
		}
		done := float64(b-from) / float64(to-from)
		s.metrics.BackfillProgress.WithLabelValues(f.src.Name).Set(done)
		s.log.Info("backfill progress", "source", f.src.Name, "through", time.UnixMilli(b).UTC(), "done", fmt.Sprintf("%.0f%%", 100*done), "samples", st.Samples)
		if err := s.commit(ctx, b, true); err != nil {
			return err
		}
	}
	f.backfilling = false
	// The alerts that fired while burnwatch was not watching and fire
	// still are paged now; those that came and went are in the log.
	ids := slices.Sorted(maps.Keys(latest))
	for _, id := range ids {
		if t := latest[id]; t.State == burnrate.Firing {
			s.notify(ctx, t, store.NoTransition)
		}
	}
	return nil
}

// backfillSpan is how much history a first start reads: enough for every
// window, and the SLO period for the budget.
func (s *Service) backfillSpan() time.Duration {
	span := minBackfill
	for _, x := range s.cfg.SLOs {
		span = max(span, x.Window.Std())
		for _, p := range x.Pairs() {
			span = max(span, p.Long.Std())
		}
	}
	return span
}

// keepCursors notes the last sample of every series read from f.
func (s *Service) keepCursors(f *feed) {
	for _, ser := range s.router.TakeDirty() {
		ts, v, ok := ser.Cursor()
		if !ok {
			continue
		}
		key := labelsJSON(ser.Labels)
		s.pending.cursors[f.src.Name+"\xff"+key] = store.SeriesCursor{Source: f.src.Name, Series: key, TS: ts, Value: v}
	}
}

// readEvents counts the batches pushed since the last cycle.
func (s *Service) readEvents(ctx context.Context, f *feed, now int64) error {
	batches, err := s.db.PendingBatches(ctx)
	if err != nil {
		return err
	}
	nop := func(*burnrate.Instance) {}
	n := 0
	// After a failed commit the batches counted then are still pending in
	// the store, and counted in memory: not again.
	counted := map[int64]bool{}
	for _, id := range s.pending.consumed {
		counted[id] = true
	}
	for _, b := range batches {
		if counted[b.ID] {
			continue
		}
		s.pending.consumed = append(s.pending.consumed, b.ID)
		events, err := ParseEvents(b.NDJSON, s.cfg, time.UnixMilli(b.Received))
		if err != nil {
			// Accepted under another config (an SLO since removed):
			// nothing of it can be counted now.
			s.log.Warn("dropping a pushed batch the config no longer accepts", "batch", b.ID, "err", err)
			continue
		}
		for _, e := range events {
			// A line counts one minute; its counts are at the minute's end,
			// as a scrape at that time would have seen them.
			ts := e.Time.Truncate(time.Minute).Add(time.Minute).UnixMilli()
			lset := labels.FromMap(e.Labels)
			if tot := s.router.Pushed(e.SLO, lset, ""); tot != nil {
				s.router.Increment(tot, ts, e.Total, nop)
			}
			for code, c := range e.Errors {
				if ser := s.router.Pushed(e.SLO, lset, code); ser != nil {
					s.router.Increment(ser, ts, c, nop)
				}
			}
			n++
		}
	}
	s.metrics.SamplesRead.WithLabelValues(f.src.Name).Add(float64(n))
	if n > 0 {
		f.lastData = now
	}
	f.cursor = now
	s.flushHistory(f, now-historySettle.Milliseconds())
	return nil
}

// evaluate evaluates every instance with recent data, and each SLO's
// no-data alert. An instance without data for no_data.hold is not
// evaluated: its windows would empty and its alerts resolve, and missing
// data is not health.
//
// Instances are evaluated over complete minutes: at the last whole minute
// at or before now, so that a window (T−W, T] holds exactly the samples of
// those minutes whatever the cycle's offset within the minute (replay, which
// evaluates at each sample's own time, needs no rounding).
func (s *Service) evaluate(now int64) {
	at := now - now%60_000
	hold := s.cfg.NoData.Hold.Std().Milliseconds()
	var live []*burnrate.Instance
	for _, in := range s.router.Instances() {
		if last := in.LastData(); last > 0 && at-last <= hold {
			live = append(live, in)
		}
	}
	s.router.Evaluate(at, live, func(t burnrate.Transition) { s.record(t, true) })
	s.updateGauges(at)
	after := s.cfg.NoData.After.Std().Milliseconds()
	for _, x := range s.cfg.SLOs {
		f := s.feedOf(x)
		if f == nil {
			continue
		}
		last := max(f.lastData, f.since)
		nd := s.noData[x.Name]
		if nd.alert.Step(now, now-last > after) {
			sev := s.cfg.NoData.Severity
			lset := noDataLabels(f)
			s.record(burnrate.Transition{
				Time:     time.UnixMilli(now).UTC(),
				Alert:    burnrate.NoDataAlert,
				SLO:      x.Name,
				Labels:   lset,
				Severity: sev,
				State:    nd.alert.State,
				Playbook: s.cfg.NoData.Playbook,
				ID:       burnrate.AlertID(x.Name+"/"+burnrate.NoDataAlert, lset, sev),
			}, true)
		}
	}
}

// noDataLabels are the labels of a no-data alert: the source that stopped.
func noDataLabels(f *feed) labels.Labels {
	if f == nil {
		return labels.EmptyLabels()
	}
	return labels.FromStrings("source", f.src.Name)
}

// updateGauges sets the per-SLO aggregates on /metrics (and the
// per-instance burn rates, when asked for) after an evaluation at ts.
func (s *Service) updateGauges(ts int64) {
	m := s.metrics
	s.worst = map[*burnrate.Spec][]*burnrate.Instance{}
	for _, sp := range s.router.Specs {
		name := sp.SLO.Name
		m.SLOInstances.WithLabelValues(name).Set(float64(len(sp.Instances())))
		firing := map[slo.Severity]int{}
		worst := 1.0
		// The instances with the least budget left, for GET
		// /api/v1/slos: kept here, where every instance is visited
		// anyway, so that the API need not visit them all again.
		var ranked worstInstances
		for _, in := range sp.Instances() {
			left := in.BudgetRemaining(ts)
			worst = min(worst, left)
			ranked.offer(in, left)
			for _, sev := range sp.Severities {
				if in.Alert(sev).State == burnrate.Firing {
					firing[sev]++
				}
			}
			if m.InstanceBurnRate != nil {
				lm := in.Labels.Map()
				for _, r := range in.BurnRates(ts) {
					m.SetInstanceBurnRate(name, lm, model.Duration(r.Window).String(), r.Rate)
				}
			}
		}
		for _, sev := range slo.Severities {
			m.SLOAlertsFiring.WithLabelValues(name, string(sev)).Set(float64(firing[sev]))
		}
		m.SLOBudgetRemainingMin.WithLabelValues(name).Set(worst)
		s.worst[sp] = ranked.instances()
	}
}

// worstInstances keeps the MaxWorst instances with the least budget left.
type worstInstances struct {
	in   []*burnrate.Instance
	left []float64
}

func (w *worstInstances) offer(in *burnrate.Instance, left float64) {
	if len(w.in) == MaxWorst && left >= w.left[len(w.left)-1] {
		return
	}
	i, _ := slices.BinarySearch(w.left, left)
	for i < len(w.left) && w.left[i] == left {
		i++ // after equals: the first seen stays first
	}
	w.in, w.left = slices.Insert(w.in, i, in), slices.Insert(w.left, i, left)
	if len(w.in) > MaxWorst {
		w.in, w.left = w.in[:MaxWorst], w.left[:MaxWorst]
	}
}

func (w *worstInstances) instances() []*burnrate.Instance { return w.in }

func (s *Service) feedOf(x *slo.SLO) *feed {
	for _, f := range s.feeds {
		if f.src.Name == x.Source {
			return f
		}
	}
	return nil
}

// record keeps a transition for the cycle's commit, and with page its
// notifications.
func (s *Service) record(t burnrate.Transition, page bool) {
	line, err := t.MarshalJSON()
	if err != nil {
		s.log.Error("encoding a transition", "err", err)
		return
	}
	ms := t.Time.UnixMilli()
	s.pending.records = append(s.pending.records, store.TransitionRecord{Time: ms, AlertID: t.ID, JSON: line})
	s.pending.alerts[t.ID] = store.AlertState{
		ID: t.ID, SLO: t.SLO, Alert: t.Alert, Severity: string(t.Severity),
		Labels: labelsJSON(t.Labels), State: t.State.String(), Since: ms,
	}
	s.pending.transitions = append(s.pending.transitions, t)
	if page {
		s.notify(context.Background(), t, len(s.pending.records)-1)
	}
}

// commit writes what the cycle changed, and with snapshot every
// instance's whole state.
func (s *Service) commit(ctx context.Context, at int64, snapshot bool) error {
	p := &s.pending
	c := store.Cycle{
		Time:           max(at, s.lastCommit+1),
		SourceCursors:  map[string]int64{},
		Transitions:    p.records,
		Outbox:         p.outbox,
		Consumed:       p.consumed,
		History:        p.history,
		HistoryCursors: p.historyCursors,
	}
	for k, e := range p.journal {
		c.Journal = append(c.Journal, store.JournalEntry{
			Instance: s.keyOf(k.in), Minute: k.minute,
			Total: e.Total, User: e.User, Ignore: e.Ignore, Platform: e.Platform,
		})
	}
	for _, cur := range p.cursors {
		c.Cursors = append(c.Cursors, cur)
	}
	for _, a := range p.alerts {
		c.Alerts = append(c.Alerts, a)
	}
	for _, f := range s.feeds {
		if f.cursor > 0 {
			c.SourceCursors[f.src.Name] = f.cursor
		}
	}
	if snapshot {
		for _, in := range s.router.Instances() {
			// An instance without data for its whole period and its
			// longest window (a tenant deleted long ago) has nothing left
			// to say: it is not kept, and is gone at the next start.
			if idle := s.now().UnixMilli() - in.LastData(); !s.importing && idle > s.forgetAfter(in).Milliseconds() && in.Alert(slo.Page).State != burnrate.Firing && in.Alert(slo.Ticket).State != burnrate.Firing {
				continue
			}
			state, err := in.MarshalBinary()
			if err != nil {
				return err
			}
			k := s.keyOf(in)
			c.Snapshots = append(c.Snapshots, store.Snapshot{Instance: k, Labels: k.Key, State: state})
		}
	}
	if err := s.db.Commit(ctx, c); err != nil {
		if errors.Is(err, store.ErrCycleOrder) {
			return err
		}
		return fmt.Errorf("committing the cycle: %w", err)
	}
	s.lastCommit = c.Time
	if len(c.Outbox) > 0 {
		select {
		case s.committed <- struct{}{}:
		default:
		}
	}
	for _, t := range p.transitions {
		s.metrics.Transitions.WithLabelValues(t.Alert, string(t.Severity), t.State.String()).Inc()
		s.log.Info("alert "+t.State.String(), "alert", t.Alert, "slo", t.SLO, "labels", t.Labels.String(),
			"severity", t.Severity, "time", t.Time, "playbook", playbooks.URL(s.cfg.Playbooks.BaseURL, t.Playbook), "id", t.ID)
		if s.o.OnTransition != nil {
			s.o.OnTransition(t)
		}
	}
	p.reset()
	if n, err := s.db.Size(); err == nil {
		s.metrics.StoreBytes.Set(float64(n))
	}
	// Retention is judged by the clock, so not while importing a
	// recording, whose time is its own.
	if cutoff := s.now().Add(-transitionRetention).UnixMilli(); s.cycles%snapshotEvery == 0 && !s.importing {
		if err := s.db.Prune(ctx, cutoff); err != nil {
			s.log.Warn("pruning the transition log", "err", err)
		}
		if err := s.db.Tidy(ctx, s.now().Add(-tidyAfter).UnixMilli()); err != nil {
			s.log.Warn("tidying the outbox and alert states", "err", err)
		}
		if err := s.db.PruneHistory(ctx, s.now().Add(-historyRetention(s.cfg)).UnixMilli()/hourMS); err != nil {
			s.log.Warn("pruning the history", "err", err)
		}
	}
	return nil
}

// forgetAfter is how long an instance may go without data before a
// snapshot drops it: its SLO's period or longest window, whichever is
// longer.
func (s *Service) forgetAfter(in *burnrate.Instance) time.Duration {
	d := in.Spec.SLO.Window.Std()
	for _, p := range in.Spec.SLO.Pairs() {
		d = max(d, p.Long.Std())
	}
	return d
}

// keyOf is an instance's name in the store: its SLO and its labels as JSON.
func (s *Service) keyOf(in *burnrate.Instance) store.InstanceKey {
	k, ok := s.keys[in]
	if !ok {
		k = store.InstanceKey{SLO: in.Spec.SLO.Name, Key: labelsJSON(in.Labels)}
		s.keys[in] = k
	}
	return k
}

func labelsJSON(l labels.Labels) string {
	b, _ := json.Marshal(l.Map())
	return string(b)
}

func parseLabelsJSON(s string) (labels.Labels, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return labels.EmptyLabels(), err
	}
	return labels.FromMap(m), nil
}
