package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// importCommitRows is how many history hours an import gathers before it
// commits them: about 10 MB, however long the recording.
const importCommitRows = 10_000

// Import counts a recording as serve would have read it: every sample in
// time order, every SLO evaluated at every whole minute, exactly as Apply
// does. Its transitions go to the log (and to emit); nothing is
// notified. Its history is written hour by hour: commit is called, at a
// time (ms), whenever the pending history has grown large. The state must
// not already hold anything after the recording's start.
//
// While importing, and until EndImport, nothing is forgotten or pruned by
// the clock, whose time is not the recording's.
func (e *Engine) Import(ctx context.Context, rd ingest.Samples, emit func(burnrate.Transition) error, commit func(at int64) error) (ingest.Stats, error) {
	e.importing = true
	f := &Feed{Source: &slo.Source{Name: "import"}, latest: map[string]burnrate.Transition{}, counted: map[int64]bool{}}
	specs := e.router.Specs
	checked := false
	transitions, fired := 0, 0
	st, err := e.router.ReplayWith(ctx, rd, ingest.ReplayOptions{
		Lookback: lookback.Milliseconds(),
		Minutes: func(T int64) error {
			before := len(e.pending.transitions)
			var res Result
			e.evaluateAt(f, specs, T, Import, &res)
			for _, t := range e.pending.transitions[before:] {
				transitions++
				if t.State == burnrate.Firing {
					fired++
				}
				if err := emit(t); err != nil {
					return fmt.Errorf("writing transitions: %w", err)
				}
			}
			return nil
		},
		Progress: func(through int64) error {
			if !checked {
				// The first hour of the recording is counted; nothing is
				// committed yet.
				checked = true
				if first := through - hourMS + 1; e.lastCommit >= first {
					return fmt.Errorf("%w: the state already holds cycles up to %s, after the recording begins (%s); import into an empty --storage.path",
						store.ErrCycleOrder, time.UnixMilli(e.lastCommit).UTC().Format(time.RFC3339), time.UnixMilli(first).UTC().Format(time.RFC3339))
				}
			}
			for _, sp := range specs {
				e.flushSLOHistory(sp, f, through)
			}
			if len(e.pending.history) >= importCommitRows {
				return commit(through)
			}
			return nil
		},
	})
	st.Transitions, st.Fired = transitions, fired
	return st, err
}

// EndImport ends what Import began: the clock judges again what to forget
// and prune.
func (e *Engine) EndImport() { e.importing = e.importOnly }
