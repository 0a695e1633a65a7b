package service

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	in := s.cur.Load()
	start := time.Now()
	res, err := s.eng.Apply(b)
	s.metrics.stage(stageApply, start)
	if err != nil {
		if s.eng.Broken() != nil {
			s.log.Error("applying a batch failed part way; rebuilding the engine from the store", "source", b.Source, "err", err)
			if rerr := s.rebuild(ctx); rerr != nil {
				return res, errors.Join(err, rerr)
			}
		}
		return res, err
	}
	if res.Samples > 0 {
		s.metrics.SamplesRead.WithLabelValues(b.Source).Add(float64(res.Samples))
	}
	s.notify(ctx, in, res.Notify)
	err = s.commit(ctx, s.commitKind())
	s.publish()
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
	err := s.commit(ctx, s.commitKind())
	s.publish()
	return err
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
	v := s.eng.View()
	s.view.Store(v)
	s.metrics.update(v)
}
