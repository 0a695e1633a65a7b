package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/store"
)

// The writer's side of a cycle: apply a batch, make its notifications,
// commit, publish. Everything here runs on the writer goroutine.

// apply applies one batch and commits it: the "apply", "notify" and
// "commit" stages of a cycle. An engine left broken by a failed apply is
// rebuilt from the store, which the source is then read again from.
func (s *Service) apply(ctx context.Context, b engine.Batch) (engine.Result, error) {
	start := time.Now()
	res, err := s.eng.Apply(b)
	return s.applied(ctx, b.Source, start, res, err)
}

// applied finishes what an apply began: it notifies, commits and
// publishes, or rebuilds a broken engine.
func (s *Service) applied(ctx context.Context, source string, start time.Time, res engine.Result, err error) (engine.Result, error) {
	s.metrics.stage(stageApply, start)
	if err != nil {
		if s.eng.Broken() != nil {
			s.log.Error("applying a batch failed part way; rebuilding the engine from the store", "source", source, "err", err)
			if rerr := s.rebuild(ctx); rerr != nil {
				return res, errors.Join(err, rerr)
			}
		}
		return res, err
	}
	if res.Samples > 0 {
		s.metrics.SamplesRead.WithLabelValues(source).Add(float64(res.Samples))
	}
	if res.BackfillDone && len(s.early) > 0 {
		res.Notify = s.handOver(res.Notify)
	}
	s.notify(ctx, s.cur.Load(), res.Notify)
	err = s.commit(ctx, s.commitKind())
	s.publish()
	return res, err
}

// readFailure is a source's read that failed, as applyRead returns it.
type readFailure struct{ err error }

func (r readFailure) Error() string { return r.err.Error() }
func (r readFailure) Unwrap() error { return r.err }

// errReplaced is why a batch streaming in is dropped: a reload replaced
// the engine it was opened on. The source is read again from its cursor.
var errReplaced = errors.New("the engine was replaced by a reload while the batch was read")

// applyRead reads a source's samples over (b.From, b.Through] and applies
// them as one batch, streamed into the engine a part at a time, so that
// neither a large read nor the engine waits on the other: the writer
// takes each part between its other work, and counts the whole at the end.
func (s *Service) applyRead(ctx context.Context, rd reader, b engine.Batch) (engine.Result, error) {
	return s.applyParts(ctx, b, func(fn func([]engine.Run) error) error { return rd.read(ctx, b.From, b.Through, fn) })
}

// applyParts applies as one batch the runs that read hands to its
// function, a part at a time.
func (s *Service) applyParts(ctx context.Context, b engine.Batch, read func(fn func([]engine.Run) error) error) (engine.Result, error) {
	var (
		o       *engine.OpenBatch
		eng     *engine.Engine
		res     engine.Result
		adding  time.Duration
		started = time.Now()
	)
	if err := s.do(ctx, func() (err error) {
		eng = s.eng
		o, err = s.eng.Open(b)
		return err
	}); err != nil {
		return res, err
	}
	rerr := read(func(runs []engine.Run) error {
		return s.do(ctx, func() error {
			if s.eng != eng {
				return errReplaced
			}
			t := time.Now()
			err := o.Add(runs)
			adding += time.Since(t)
			return err
		})
	})
	s.metrics.observe(stageRead, time.Since(started)-adding)
	err := s.do(context.WithoutCancel(ctx), func() error {
		if s.eng != eng {
			o.Abort(errReplaced)
			return errReplaced
		}
		if rerr != nil {
			o.Abort(rerr)
			if s.eng.Broken() != nil {
				if err := s.rebuild(ctx); err != nil {
					return errors.Join(rerr, err)
				}
			}
			return readFailure{rerr}
		}
		start := time.Now().Add(-adding)
		r, err := o.Close()
		res, err = s.applied(ctx, b.Source, start, r, err)
		return err
	})
	return res, err
}

// tick steps what the clock alone moves: the no-data alerts, and the
// triggers held by a silence now over. It commits what they changed.
func (s *Service) tick(ctx context.Context) error {
	in := s.cur.Load()
	start := time.Now()
	res := s.eng.Tick()
	s.metrics.stage(stageApply, start)
	s.notify(ctx, in, res.Notify)
	if err := s.releaseHeld(ctx, in, s.now()); err != nil {
		s.log.Error("releasing held triggers", "err", err)
	}
	kind := s.commitKind()
	if kind == engine.Record && !s.eng.Pending() {
		// Nothing moved: the view and the store stand as they are.
		return nil
	}
	err := s.commit(ctx, kind)
	s.publish()
	return err
}

// handOver takes what a first start's early look paged into account when
// its backfill ends: an alert paged then and firing still is not paged
// again, one paged then and firing no more is resolved.
func (s *Service) handOver(notices []engine.Notice) []engine.Notice {
	out := notices[:0:0]
	for _, n := range notices {
		if _, paged := s.early[n.Transition.ID]; paged && n.Transition.State == burnrate.Firing {
			delete(s.early, n.Transition.ID)
			continue
		}
		out = append(out, n)
	}
	for _, id := range slices.Sorted(maps.Keys(s.early)) {
		t := s.early[id]
		t.State, t.Onset, t.Time = burnrate.Resolved, t.Time, s.now().UTC().Truncate(time.Minute)
		out = append(out, engine.Notice{Transition: t, Index: store.NoTransition})
	}
	clear(s.early)
	return out
}

// rebuild replaces the engine with one restored from the store.
func (s *Service) rebuild(ctx context.Context) error {
	st, err := s.db.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	eng, err := engine.New(s.cur.Load().cfg, engine.Options{Logger: s.log, Now: s.now, Import: s.o.Import})
	if err != nil {
		return err
	}
	if err := eng.Restore(st); err != nil {
		return err
	}
	eng.Inherit(s.eng)
	s.eng = eng
	return nil
}

// commitKind is what the next commit writes: a checkpoint every
// checkpointEvery, a snapshot of every instance every snapshotEvery.
func (s *Service) commitKind() engine.Kind {
	now := s.now().UnixMilli()
	switch {
	case s.eng.CheckpointDue():
		return engine.Snapshot
	case now-s.lastSnapshot >= snapshotEvery.Milliseconds():
		return engine.Snapshot
	case now-s.lastCheckpoint >= checkpointEvery.Milliseconds():
		return engine.Checkpoint
	}
	return engine.Record
}

// commit writes what the engine changed, and with kind what a restart
// needs.
func (s *Service) commit(ctx context.Context, kind engine.Kind) error {
	return s.commitAt(ctx, s.now().UnixMilli(), kind)
}

// commitAt is commit with the cycle's time given (ms): an import's is the
// recording's.
func (s *Service) commitAt(ctx context.Context, at int64, kind engine.Kind) error {
	if s.o.ReadOnly {
		return nil
	}
	start := time.Now()
	now := s.now().UnixMilli()
	c := s.eng.Cycle(at, kind)
	if err := s.db.Commit(ctx, c); err != nil {
		s.metrics.stage(stageCommit, start)
		if errors.Is(err, store.ErrCycleOrder) {
			return err
		}
		return fmt.Errorf("committing the cycle: %w", err)
	}
	s.metrics.stage(stageCommit, start)
	transitions := s.eng.Transitions()
	s.eng.Committed(c)
	if c.SourceCursors != nil {
		s.lastCheckpoint = now
		s.prune(ctx)
	}
	if len(c.Snapshots) > 0 {
		s.lastSnapshot = now
	}
	if len(c.Outbox) > 0 {
		select {
		case s.committed <- struct{}{}:
		default:
		}
	}
	cfg := s.cur.Load().cfg
	for _, t := range transitions {
		s.metrics.Transitions.WithLabelValues(t.Alert, string(t.Severity), t.State.String()).Inc()
		s.log.Info("alert "+t.State.String(), "alert", t.Alert, "slo", t.SLO, "labels", t.Labels.String(),
			"severity", t.Severity, "time", t.Time, "playbook", playbooks.URL(cfg.Playbooks.BaseURL, t.Playbook), "id", t.ID)
		if s.o.OnTransition != nil {
			s.o.OnTransition(t)
		}
	}
	if n, err := s.db.Size(); err == nil {
		s.metrics.StoreBytes.Set(float64(n))
	}
	return nil
}

// prune drops what the store keeps no longer: old transitions, finished
// notifications, history past its retention.
func (s *Service) prune(ctx context.Context) {
	r := s.eng.Retention()
	if r.Transitions == 0 {
		return
	}
	if err := s.db.Prune(ctx, r.Transitions); err != nil {
		s.log.Warn("pruning the transition log", "err", err)
	}
	if err := s.db.Tidy(ctx, r.Tidy); err != nil {
		s.log.Warn("tidying the outbox and alert states", "err", err)
	}
	if err := s.db.PruneHistory(ctx, r.History); err != nil {
		s.log.Warn("pruning the history", "err", err)
	}
}

// publish makes the view of where everything stands, for the API.
func (s *Service) publish() {
	s.noteDrops()
	v := s.eng.View()
	s.view.Store(v)
	s.metrics.update(v)
	s.warnUnmatched(v)
}

// warnUnmatched logs, once per source, the SLOs whose selectors match no
// series of it once it has been read whole; the view's warnings say it
// for as long as it lasts. On the writer.
func (s *Service) warnUnmatched(v *engine.View) {
	bySource := map[string][]string{}
	for _, sv := range v.SLOs {
		src := strings.Join(sv.SLO.SourceNames(), ",")
		if len(sv.Warnings) > 0 && !s.warned[src] {
			bySource[src] = append(bySource[src], sv.Warnings...)
		}
	}
	for src, ws := range bySource {
		if s.warned == nil {
			s.warned = map[string]bool{}
		}
		s.warned[src] = true
		s.log.Warn("the selectors of an SLO match no series the source has: it evaluates nothing; check the selectors against the source (GET /api/v1/slos shows the warning while it lasts)",
			"source", src, "warnings", ws)
	}
}
