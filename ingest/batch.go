package ingest

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
)

// A Batch is what one read of a source brought, on its way into the
// engine: counter samples turned into each series' increases, gathered
// per series and bin of time, then counted in time order with Count. The
// live service, its backfills and imports all count this way, so that the
// same data gives the same counts and transitions whichever way it came
// (docs/semantics.md).
//
// Increases are computed as the samples are added, with Prometheus's
// counter-reset rule and each series' last sample (its cursor); they are
// counted, and the instances evaluated, only by Count. A batch whose Count
// does not run (an error part way) has moved those cursors on: the caller
// must not count the rest and must rebuild the router from its stored
// state.
type Batch struct {
	r      *Router
	step   int64 // ms per bin
	sp     *spool
	series []*Series
	// Samples and SLOSeries count what was added.
	Samples, SLOSeries int
	// Min and Max are the times of the earliest and latest sample added
	// (ms); Min > Max while none was.
	Min, Max int64
}

// Bin widths of a Batch.
const (
	// MinuteBins counts every minute exactly: the live service, backfills
	// and imports.
	MinuteBins = int64(60_000)
	// HourBins counts hours, the resolution of a first start's older
	// history: the engine keeps that span only at its coarse boundaries,
	// every one or two hours, which hour bins give exactly.
	HourBins = int64(3_600_000)
)

// NewBatch returns an empty batch whose increases are counted in bins of
// step milliseconds (MinuteBins or HourBins).
func (r *Router) NewBatch(step int64) *Batch {
	sp := r.spare
	r.spare = nil
	if sp == nil {
		sp = newSpool()
	}
	series := r.spareSeries
	r.spareSeries = nil
	return &Batch{r: r, step: step, sp: sp, series: series[:0], Min: math.MaxInt64, Max: math.MinInt64}
}

// Close frees what the batch holds (a spool on disk for a large one).
func (b *Batch) Close() error {
	for _, s := range b.series {
		s.batch = nil
	}
	clear(b.series)
	b.r.spareSeries, b.series = b.series, nil
	sp := b.sp
	b.sp = nil
	if sp == nil {
		return nil
	}
	if sp.f == nil {
		// Its memory serves the next batch: a live cycle's is the same
		// size each time.
		sp.reset()
		b.r.spare = sp
		return nil
	}
	return sp.close()
}

// binEnd is the end of the bin that holds ts: every increase in it is
// counted at that time, which falls in the same minute bucket (or hour) as
// ts.
func (b *Batch) binEnd(ts int64) int64 {
	k := ts / b.step
	if ts%b.step > 0 {
		k++
	}
	return k * b.step
}

func (b *Batch) ref(s *Series) uint32 {
	if s.batch != b {
		s.batch, s.ref = b, uint32(len(b.series))
		b.series = append(b.series, s)
		b.SLOSeries++
	}
	return s.ref
}

// firstSample flags the record of a series' first sample ever: whether it
// counts from zero or is only a baseline is decided by Count, once the
// batch's earliest sample is known.
const firstSample = uint32(1) << 31

// Run adds a run of one series' samples, in time order. A series no SLO
// reads is skipped.
func (b *Batch) Run(lset labels.Labels, ts []int64, vs []float64) error {
	_, err := b.RunLike(nil, lset, ts, vs)
	return err
}

// RunLike is Run with a guess at the series: a source that reads the same
// series in the same order each time saves a lookup per series when the
// guess, the series read at this place the time before, is right. It
// returns the series, nil for one no SLO reads.
func (b *Batch) RunLike(guess *Series, lset labels.Labels, ts []int64, vs []float64) (*Series, error) {
	s := guess
	if s == nil || !labels.Equal(s.Labels, lset) {
		s = b.r.Resolve(lset)
	}
	return s, b.run(s, lset, ts, vs)
}

func (b *Batch) run(s *Series, lset labels.Labels, ts []int64, vs []float64) error {
	if len(ts) == 0 {
		return nil
	}
	b.Samples += len(ts)
	b.Min, b.Max = min(b.Min, ts[0]), max(b.Max, ts[len(ts)-1])
	if s == nil {
		return nil
	}
	ref := b.ref(s)
	if ref >= firstSample {
		return fmt.Errorf("more than %d series in one batch", firstSample)
	}
	var (
		bin = int64(math.MinInt64)
		sum float64
		any bool
	)
	flush := func() error {
		// A quiet error series adds nothing worth a record; a quiet total
		// still tells the instance it has data.
		if !any || sum == 0 && s.errors {
			return nil
		}
		return b.sp.add(bin, ref, sum)
	}
	for i, t := range ts {
		if i > 0 && t < ts[i-1] {
			return fmt.Errorf("%s: sample at %d is older than the one before it (%d); a series' samples must be in time order", lset, t, ts[i-1])
		}
		first := !s.seen
		d, ok := b.r.delta(s, t, vs[i], func(int64) bool { return false })
		if !ok {
			continue
		}
		if first {
			// At its own time, which decides, in its own minute.
			if err := b.sp.add(t, ref|firstSample, vs[i]); err != nil {
				return err
			}
			continue
		}
		if e := b.binEnd(t); e != bin {
			if err := flush(); err != nil {
				return err
			}
			bin, sum, any = e, 0, false
		}
		sum += d
		any = true
	}
	return flush()
}

// Increment adds an increase d of s at ts, as pushed events bring them.
func (b *Batch) Increment(s *Series, ts int64, d float64) error {
	b.Samples++
	b.Min, b.Max = min(b.Min, ts), max(b.Max, ts)
	return b.sp.add(b.binEnd(ts), b.ref(s), d)
}

// Count counts the batch's increases in time order. A series' first
// sample ever counts from zero if it is after since (ms): the series
// appeared while it was watched; at or before since it is only a baseline.
// When evaluate is set, it is called with every whole minute T (ms) after
// from and up to through, in order, once every increase up to T is counted
// and before any later one is: the instances are evaluated at T exactly as
// they stood then. journal, when set, is told every increase counted per
// instance.
func (b *Batch) Count(from, through, since int64, evaluate func(T int64), journal func(in *burnrate.Instance, ts int64, e burnrate.Events)) error {
	next := from - from%60_000 + 60_000 // the first minute to evaluate
	evalUpTo := func(ts int64) {
		if evaluate == nil {
			return
		}
		for ; next <= ts && next <= through; next += 60_000 {
			evaluate(next)
		}
	}
	err := b.sp.each(func(start int64, recs []record) error {
		for _, rec := range recs {
			ts := start + int64(rec.off)
			// Every minute before this increase's is complete.
			evalUpTo(ts - 1)
			v := rec.v
			if rec.ref&firstSample != 0 && ts <= since {
				v = 0
			}
			b.r.countWith(b.series[rec.ref&^firstSample], ts, v, b.step, journal)
		}
		return nil
	})
	if err != nil {
		return err
	}
	evalUpTo(through)
	return nil
}
