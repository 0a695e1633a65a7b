package source

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// boundaryPoints bounds the points one range query returns per series:
// a day of hours, so that a query of tens of thousands of series stays a
// few tens of MB.
const boundaryPoints = 24

// Boundaries calls fn with, for every series the selectors match, its
// value at each step boundary in [from, to] (the times that are whole
// multiples of step): the value of its last sample at or before the
// boundary, within the server's lookback (5 minutes unless it was
// configured otherwise). The server computes them, with a range query of
// the bare selector, so a first start reads a few values per series and
// day of its older history instead of every sample. A boundary whose last
// sample is older than the lookback gives no value.
//
// The queries go a day of boundaries at a time; within a day each series
// comes once, its values in time order, a series two selectors match
// once. Over several days a series comes once a day, in time order.
func (p *Prometheus) Boundaries(ctx context.Context, selectors []string, from, to time.Time, step time.Duration, fn func(lset labels.Labels, ts []int64, vs []float64) error) error {
	if step < time.Second || step%time.Second != 0 {
		return fmt.Errorf("a boundary step of %s: want whole seconds", step)
	}
	sels := make([]promSelector, 0, len(selectors))
	for _, s := range selectors {
		ms, err := p.promql.ParseMetricSelector(s)
		if err != nil {
			return fmt.Errorf("selector %q: %w", s, err)
		}
		sels = append(sels, promSelector{text: s, matchers: ms})
	}
	stepMs := step.Milliseconds()
	first := (from.UnixMilli() + stepMs - 1) / stepMs * stepMs
	last := to.UnixMilli() / stepMs * stepMs
	for a := first; a <= last; a += boundaryPoints * stepMs {
		b := min(a+(boundaryPoints-1)*stepMs, last)
		seen := map[uint64][]labels.Labels{}
		for _, sel := range sels {
			m, err := p.boundaries(ctx, sel.text, a, b, step)
			if err != nil {
				return err
			}
			for _, ss := range m {
				lset := promLabels(ss.Metric)
				h := lset.Hash()
				if len(sels) > 1 {
					dup := false
					for _, l := range seen[h] {
						dup = dup || labels.Equal(l, lset)
					}
					if dup {
						continue
					}
					seen[h] = append(seen[h], lset)
				}
				ts, vs := make([]int64, 0, len(ss.Values)), make([]float64, 0, len(ss.Values))
				for _, x := range ss.Values {
					ts, vs = append(ts, int64(x.Timestamp)), append(vs, float64(x.Value))
				}
				if len(ts) == 0 {
					continue
				}
				if err := fn(lset, ts, vs); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// boundaries is one range query of a bare selector over [fromMs, toMs].
func (p *Prometheus) boundaries(ctx context.Context, selector string, fromMs, toMs int64, step time.Duration) (model.Matrix, error) {
	what := fmt.Sprintf("reading %s every %s from %s to %s", selector, model.Duration(step), promTime(fromMs), promTime(toMs))
	var v model.Value
	err := p.call(ctx, what, func(ctx context.Context, _ *promAttempt) error {
		var (
			warnings v1.Warnings
			err      error
		)
		v, warnings, _, err = p.api.QueryRange(ctx, selector, v1.Range{Start: time.UnixMilli(fromMs), End: time.UnixMilli(toMs), Step: step}, v1.WithTimeout(p.timeout))
		if len(warnings) > 0 {
			p.log().Warn("prometheus warns", "server", p.name, "query", selector, "warnings", warnings)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s from %s: got a %s, want a matrix", what, p.name, v.Type())
	}
	for _, ss := range m {
		if len(ss.Histograms) > 0 {
			return nil, fmt.Errorf("%s from %s: %w", what, p.name, promHistogramError(promLabels(ss.Metric)))
		}
	}
	return m, nil
}
