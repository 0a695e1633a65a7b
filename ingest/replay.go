package ingest

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
)

// Stats sums up a replay.
type Stats struct {
	Samples     int // samples read
	Series      int // series read
	SLOSeries   int // series that some SLO reads
	Instances   int
	Transitions int
	Fired       int // transitions to firing
	From, To    int64
}

// Samples is a source of counter samples grouped by series, each series
// in time order: a recorded file (*source.Reader) or a range read from a
// live server.
type Samples interface {
	// Next advances to the next sample; false at the end or on an error.
	Next() bool
	// NewSeries reports whether the sample starts a different series.
	NewSeries() bool
	// Labels returns the current series' labels.
	Labels() labels.Labels
	// At returns the sample's time in milliseconds and its value.
	At() (int64, float64)
	// Err returns the error that stopped Next.
	Err() error
	// Errorf returns an error located at the current sample.
	Errorf(format string, args ...any) error
}

// cancelCheck is how many samples are read between checks for cancellation.
const cancelCheck = 1 << 16

// Replay evaluates a recorded exposition: it reads every sample, puts them
// in time order, and evaluates each instance at every timestamp it has a
// sample, calling emit for every alert transition in time order.
//
// A recording is grouped by series, not by time, so the samples are read
// in one pass into a spool on disk and evaluated from there block by block;
// memory grows with series and instances, not with the file.
func (r *Router) Replay(ctx context.Context, rd Samples, emit func(burnrate.Transition) error) (Stats, error) {
	return r.ReplayWith(ctx, rd, ReplayOptions{Emit: emit})
}

// ReplayOptions say how ReplayWith evaluates and what it tells.
type ReplayOptions struct {
	// Emit is called with every transition, in time order, when Minutes
	// is not set.
	Emit func(burnrate.Transition) error
	// Minutes, when set, is called at every whole minute T (ms) of the
	// recording once every sample up to T is counted, instead of
	// evaluating each instance at each of its samples: the live service's
	// instants, which an import of a recording takes so that it counts and
	// evaluates as serve would have.
	Minutes func(T int64) error
	// Progress, when set, is told as the replay goes that every sample with
	// time up to through (ms) has been counted: after each hour of time,
	// and at the end. An error stops the replay.
	Progress func(through int64) error
	// Lookback is how long after the recording's first sample a series'
	// first sample is still a baseline (ms): a series seen first later
	// began while it was recorded, and counts from zero. Replay takes 0,
	// a recording whose series all share its first timestamp; an import
	// takes the live service's, whose reads see each series at its own
	// offset within the scrape interval.
	Lookback int64
}

// ReplayWith is Replay with options.
func (r *Router) ReplayWith(ctx context.Context, rd Samples, o ReplayOptions) (Stats, error) {
	emit := o.Emit
	if emit == nil {
		emit = func(burnrate.Transition) error { return nil }
	}
	var st Stats
	sp := newSpool()
	defer sp.close()

	// Pass 1: read, resolve each series once, spool.
	var (
		series []*Series
		cur    *Series
		ref    uint32
		lastTS int64
	)
	st.From, st.To = math.MaxInt64, math.MinInt64
	index := map[*Series]uint32{}
	for rd.Next() {
		ts, v := rd.At()
		st.Samples++
		if st.Samples%cancelCheck == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		if rd.NewSeries() {
			st.Series++
			cur = r.Resolve(rd.Labels())
			if cur != nil {
				var ok bool
				if ref, ok = index[cur]; !ok {
					ref = uint32(len(series))
					index[cur] = ref
					series = append(series, cur)
				}
			}
			lastTS = math.MinInt64
		}
		if ts < 0 {
			return st, rd.Errorf("timestamp %d is before 1970", ts)
		}
		if ts < lastTS {
			return st, rd.Errorf("sample at %d is older than the one before it in the same series (%d); samples of a series must be in time order", ts, lastTS)
		}
		lastTS = ts
		st.From, st.To = min(st.From, ts), max(st.To, ts)
		if cur == nil {
			continue
		}
		if err := sp.add(ts, ref, v); err != nil {
			return st, err
		}
	}
	if err := rd.Err(); err != nil {
		return st, err
	}
	st.SLOSeries = len(series)

	// Pass 2: in time order, count increases and evaluate the instances
	// touched at each timestamp once all its samples are in.
	var touched []*burnrate.Instance
	touch := func(in *burnrate.Instance) {
		if !in.Evaluated(lastTS) {
			touched = append(touched, in)
		}
	}
	var emitErr error
	var batch []burnrate.Transition
	nextMinute := int64(math.MinInt64)
	minutesUpTo := func(ts int64) {
		if nextMinute == math.MinInt64 {
			nextMinute = ts - ts%60_000 + 60_000
			if ts%60_000 == 0 {
				nextMinute = ts
			}
		}
		for ; nextMinute <= ts && emitErr == nil; nextMinute += 60_000 {
			emitErr = o.Minutes(nextMinute)
		}
	}
	evaluate := func(ts int64) {
		if ts == math.MinInt64 {
			return
		}
		if o.Minutes != nil {
			touched = touched[:0]
			return
		}
		r.Evaluate(ts, touched, func(t burnrate.Transition) { batch = append(batch, t) })
		touched = touched[:0]
		// Transitions of one timestamp come out in a canonical order,
		// whatever order the source gave the series in.
		if len(batch) > 1 {
			slices.SortStableFunc(batch, burnrate.CompareTransitions)
		}
		for _, t := range batch {
			st.Transitions++
			if t.State == burnrate.Firing {
				st.Fired++
			}
			if emitErr == nil {
				emitErr = emit(t)
			}
		}
		batch = batch[:0]
	}
	lastTS = math.MinInt64
	err := sp.each(func(start int64, recs []record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Before a block after a gap: the hours before it are complete,
		// and must be taken before its samples move the engine on.
		if o.Minutes != nil && nextMinute != math.MinInt64 {
			minutesUpTo(start - 1)
		}
		if o.Progress != nil && emitErr == nil {
			if emitErr = o.Progress(start - 1); emitErr != nil {
				return emitErr
			}
		}
		for _, rec := range recs {
			ts := start + int64(rec.off)
			if ts != lastTS {
				evaluate(lastTS)
				if o.Minutes != nil {
					if lastTS == math.MinInt64 {
						// The first minute evaluated is the recording's first.
						nextMinute = ts - ts%60_000
						if ts%60_000 > 0 {
							nextMinute += 60_000
						}
					}
					minutesUpTo(ts - 1)
				}
				lastTS = ts
			}
			// A series first seen after the recording began started from
			// zero while it was being recorded.
			r.Observe(series[rec.ref], ts, rec.v, ts > st.From+o.Lookback, touch)
		}
		// Hours complete within the block are told now, while the
		// engine holds them.
		if o.Minutes != nil && emitErr == nil {
			minutesUpTo(start + blockMS - 1)
		}
		if o.Progress != nil && emitErr == nil {
			emitErr = o.Progress(start + blockMS - 1)
		}
		return emitErr
	})
	if err != nil {
		return st, err
	}
	evaluate(lastTS)
	if o.Minutes != nil && lastTS != math.MinInt64 && emitErr == nil {
		minutesUpTo(st.To)
	}
	if o.Progress != nil && st.To >= 0 && emitErr == nil {
		emitErr = o.Progress(st.To)
	}
	st.Instances = len(r.all)
	if emitErr != nil {
		return st, fmt.Errorf("writing transitions: %w", emitErr)
	}
	return st, nil
}
