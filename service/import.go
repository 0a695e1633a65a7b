package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/store"
)

// Import counts a recording into the service's state as serve would have
// counted it live: the same apply, every minute evaluated, its transitions
// in the transition log (and handed to emit), its history in the store,
// its alerts' states kept; nothing is paged. Reports and exports then read
// it like a serve's own history. The state must not already hold anything
// after the recording's start.
func (s *Service) Import(ctx context.Context, rd ingest.Samples, emit func(burnrate.Transition) error) (ingest.Stats, error) {
	if s.o.ReadOnly {
		return ingest.Stats{}, errReadOnly
	}
	var st ingest.Stats
	err := s.do(ctx, func() error {
		defer s.eng.EndImport()
		var err error
		st, err = s.eng.Import(ctx, rd, emit, func(at int64) error { return s.commitAt(ctx, at, engine.Record) })
		if err != nil || st.Samples == 0 {
			return err
		}
		if err := s.commitAt(ctx, st.To, engine.Snapshot); err != nil {
			if errors.Is(err, store.ErrCycleOrder) {
				return fmt.Errorf("the state already holds cycles after %s; import into an empty --storage.path: %w", time.UnixMilli(st.To).UTC().Format(time.RFC3339), err)
			}
			return err
		}
		s.publish()
		return nil
	})
	return st, err
}

// WriteSummary writes what an Import counted, as replay sums it up.
func (s *Service) WriteSummary(w io.Writer, st ingest.Stats, took time.Duration) {
	_ = s.do(context.Background(), func() error {
		s.eng.Router().WriteSummary(w, st, took)
		return nil
	})
}
