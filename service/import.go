package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/store"
)

// importCommitRows is how many history hours an import gathers before it
// commits them: about 10 MB, however long the recording.
const importCommitRows = 10_000

// Import counts a recording into the service's state, as a backfill
// would: the same replay, its transitions in the transition log (and
// handed to emit), its history in the store, its alerts' states kept;
// nothing is paged. Reports and exports then read it like a serve's own
// history. The state must not already hold anything after the
// recording's start.
func (s *Service) Import(ctx context.Context, rd ingest.Samples, emit func(burnrate.Transition) error) (ingest.Stats, error) {
	if s.o.ReadOnly {
		return ingest.Stats{}, errReadOnly
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.router.OnAdd = nil
	s.importing = true
	defer func() { s.importing = false }()
	checked := false
	s.router.Progress = func(through int64) error {
		if !checked {
			// The first hour of the recording is counted; nothing is
			// committed yet.
			checked = true
			if first := through - hourMS + 1; s.lastCommit >= first {
				return fmt.Errorf("%w: the state already holds cycles up to %s, after the recording begins (%s); import into an empty --storage.path",
					store.ErrCycleOrder, time.UnixMilli(s.lastCommit).UTC().Format(time.RFC3339), time.UnixMilli(first).UTC().Format(time.RFC3339))
			}
		}
		for _, sp := range s.router.Specs {
			s.flushSLOHistory(sp, through)
		}
		if len(s.pending.history) >= importCommitRows {
			return s.commit(ctx, through, false)
		}
		return nil
	}
	defer func() { s.router.OnAdd, s.router.Progress = s.onAdd, nil }()
	st, err := s.router.Replay(ctx, rd, func(t burnrate.Transition) error {
		s.record(t, false)
		return emit(t)
	})
	if err != nil {
		return st, err
	}
	if st.Samples == 0 {
		return st, nil
	}
	if err := s.commit(ctx, st.To, true); err != nil {
		if errors.Is(err, store.ErrCycleOrder) {
			return st, fmt.Errorf("the state already holds cycles after %s; import into an empty --storage.path: %w", time.UnixMilli(st.To).UTC().Format(time.RFC3339), err)
		}
		return st, err
	}
	return st, nil
}

// WriteSummary writes what an Import counted, as replay sums it up.
func (s *Service) WriteSummary(w io.Writer, st ingest.Stats, took time.Duration) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.router.WriteSummary(w, st, took)
}
