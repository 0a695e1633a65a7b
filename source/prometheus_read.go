package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Read calls fn with the samples of every series that any of the
// selectors matches, with time in (from, to], to the millisecond.
//
// The range is read in slices: it is cut at the multiples of the chunk
// since 1970 (the configured chunk, or DefaultRemoteReadChunk, 2h, for
// remote read and DefaultQueryChunk, 1h, for the query API), so a range
// within one such interval is one slice. Slices are read in time order,
// and each slice with one request per selector, never per series (with
// api auto, the very first request to a server without remote read is
// made again through the query API, which is used from then on). For each
// slice, fn is called once for every series with samples in it, however
// many selectors match the series, with the slice's samples in time
// order. Within a slice the series come selector by selector (in the order
// given), each selector's series in label order, less those an earlier
// selector yielded in the slice.
//
// So a range of several slices yields a series once per slice in which
// it has samples, those calls in time order, and the samples of all its
// calls, taken in order, are its samples in (from, to], each once, in
// time order. A range of one slice yields each series once.
//
// fn may keep the slices. An error from fn stops the read and is returned
// as it is. A selector that does not parse is an error, before any
// request. Memory holds what one selector matches in one slice, as the
// server sent it (chunks, or samples), plus the series fn is given.
func (p *Prometheus) Read(ctx context.Context, selectors []string, from, to time.Time, fn func(lset labels.Labels, ts []int64, vs []float64) error) error {
	r, err := p.newReader(ctx, selectors, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return err
	}
	for {
		run, ok, err := r.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(run.lset, run.ts, run.vs); err != nil {
			return err
		}
	}
}

// promSelector is a series selector, as written and parsed.
type promSelector struct {
	text     string
	matchers []*labels.Matcher
}

// promRun is the samples of one series in one slice.
type promRun struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// promReader reads selectors over a range, a slice at a time, a selector
// at a time: what Read and Samples share.
type promReader struct {
	p            *Prometheus
	ctx          context.Context
	sels         []promSelector
	fromMs, toMs int64

	a, b  int64        // the slice being read: (a, b]
	sel   int          // the selector to read next in the slice
	batch []promSeries // what the last selector read, yet to yield
	// seen holds the series yielded in the slice, by hash, when more
	// than one selector may match a series.
	seen map[uint64][]labels.Labels
}

func (p *Prometheus) newReader(ctx context.Context, selectors []string, fromMs, toMs int64) (*promReader, error) {
	sels := make([]promSelector, len(selectors))
	for i, s := range selectors {
		ms, err := p.promql.ParseMetricSelector(s)
		if err != nil {
			return nil, fmt.Errorf("selector %q: %w", s, err)
		}
		sels[i] = promSelector{text: s, matchers: ms}
	}
	r := &promReader{p: p, ctx: ctx, sels: sels, fromMs: fromMs, toMs: toMs, a: fromMs, b: fromMs, sel: len(sels)}
	if len(sels) > 1 {
		r.seen = map[uint64][]labels.Labels{}
	}
	return r, nil
}

// next returns the next series with samples in its slice; false at the
// end.
func (r *promReader) next() (promRun, bool, error) {
	if len(r.sels) == 0 {
		return promRun{}, false, nil
	}
	for {
		for len(r.batch) > 0 {
			s := r.batch[0]
			r.batch[0] = promSeries{} // yielded: its chunks may go
			r.batch = r.batch[1:]
			if !r.first(s.lset) {
				continue
			}
			ts, vs, err := s.samples(r.a, r.b)
			if err != nil {
				return promRun{}, false, fmt.Errorf("%s: %w", r.p.name, err)
			}
			if len(ts) > 0 {
				return promRun{lset: s.lset, ts: ts, vs: vs}, true, nil
			}
		}
		if r.sel == len(r.sels) {
			if r.b >= r.toMs {
				return promRun{}, false, nil
			}
			r.a, r.b = r.b, min(promSliceEnd(r.b, r.p.sliceSpan()), r.toMs)
			r.sel = 0
			clear(r.seen)
		}
		batch, err := r.p.readSlice(r.ctx, r.sels[r.sel], r.a, r.b)
		if err != nil {
			return promRun{}, false, err
		}
		r.sel++
		r.batch = batch
	}
}

// first reports whether a series is yielded for the first time in the
// slice, and notes it.
func (r *promReader) first(lset labels.Labels) bool {
	if r.seen == nil {
		return true
	}
	h := lset.Hash()
	for _, l := range r.seen[h] {
		if labels.Equal(l, lset) {
			return false
		}
	}
	r.seen[h] = append(r.seen[h], lset)
	return true
}

// promSliceEnd returns the end of the slice that starts after ms: the
// next multiple of span since 1970.
func promSliceEnd(ms, span int64) int64 {
	return ms - ((ms%span)+span)%span + span
}

// sliceSpan is the span of a slice in ms for the API in use; auto takes
// remote read's until the server is known.
func (p *Prometheus) sliceSpan() int64 {
	switch {
	case p.chunk > 0:
		return p.chunk
	case promMode(p.mode.Load()) == promQuery:
		return DefaultQueryChunk.Milliseconds()
	}
	return DefaultRemoteReadChunk.Milliseconds()
}

// readSlice reads what a selector matches over (fromMs, toMs] with the
// API in use. In auto, the server's first answer decides it: remote read
// if it serves it, else the query API, for as long as the Prometheus
// lasts.
func (p *Prometheus) readSlice(ctx context.Context, sel promSelector, fromMs, toMs int64) ([]promSeries, error) {
	switch promMode(p.mode.Load()) {
	case promRemoteRead:
		return p.remoteRead(ctx, sel, fromMs, toMs)
	case promQuery:
		return p.queryRead(ctx, sel, fromMs, toMs)
	}
	out, err := p.remoteRead(ctx, sel, fromMs, toMs)
	var none *promNoRemoteRead
	switch {
	case err == nil:
		if p.mode.CompareAndSwap(int32(promUndecided), int32(promRemoteRead)) {
			p.log().Debug("reading prometheus through remote read", "server", p.name)
		}
		return out, nil
	case errors.As(err, &none):
		if p.mode.CompareAndSwap(int32(promUndecided), int32(promQuery)) {
			p.log().Info("prometheus serves no remote read; reading through the query API", "server", p.name, "answer", none.answer)
		}
		return p.queryRead(ctx, sel, fromMs, toMs)
	}
	return nil, err
}

// Samples reads what Read reads, as an iterator: the ingest.Samples of a
// recording read with Reader, but grouped by series within each slice of
// the range. NewSeries is true at the first sample of every call Read
// would make, so a series read over several slices starts again in each,
// after the other series of the slice before; its runs come in time
// order. A replay (ingest.Router.Replay puts samples in time order) gives
// what it gives for the recording. Nothing is read until the first call to
// Next.
func (p *Prometheus) Samples(ctx context.Context, selectors []string, from, to time.Time) *PromSamples {
	return &PromSamples{p: p, ctx: ctx, selectors: selectors, fromMs: from.UnixMilli(), toMs: to.UnixMilli()}
}

// PromSamples iterates over samples read from a Prometheus server,
// grouped by series within each slice, each series in time order. It
// implements the same interface as Reader.
type PromSamples struct {
	p            *Prometheus
	ctx          context.Context
	selectors    []string
	fromMs, toMs int64

	r   *promReader // nil until the first Next
	run promRun     // the run being yielded
	i   int         // the current sample's index in run
	err error
}

// Next advances to the next sample. It returns false at the end or on an
// error, which Err returns.
func (s *PromSamples) Next() bool {
	if s.i+1 < len(s.run.ts) {
		s.i++
		return true
	}
	s.run, s.i = promRun{}, 0
	if s.err != nil {
		return false
	}
	if s.r == nil {
		if s.r, s.err = s.p.newReader(s.ctx, s.selectors, s.fromMs, s.toMs); s.err != nil {
			return false
		}
	}
	run, ok, err := s.r.next()
	if err != nil || !ok {
		s.err = err
		return false
	}
	s.run = run
	return true
}

// NewSeries reports whether the current sample starts a series' run:
// the series differs from the one before, or it is the same series in
// the next slice.
func (s *PromSamples) NewSeries() bool { return s.i == 0 }

// Labels returns the current series' labels.
func (s *PromSamples) Labels() labels.Labels { return s.run.lset }

// At returns the current sample's time in milliseconds and its value.
func (s *PromSamples) At() (int64, float64) { return s.run.ts[s.i], s.run.vs[s.i] }

// Err returns the error that stopped Next, if any.
func (s *PromSamples) Err() error { return s.err }

// Errorf returns an error naming the server, the current series and the
// sample's time.
func (s *PromSamples) Errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if s.i >= len(s.run.ts) {
		return fmt.Errorf("%s: %s", s.p.name, msg)
	}
	return fmt.Errorf("%s: %s at %s: %s", s.p.name, s.run.lset, promTime(s.run.ts[s.i]), msg)
}
