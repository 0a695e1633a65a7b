package source

import (
	"context"
	"fmt"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// queryRead reads the series that a selector matches over (fromMs, toMs]
// through the HTTP query API, one request, for servers without remote
// read. The series come in label order, each once.
func (p *Prometheus) queryRead(ctx context.Context, sel promSelector, fromMs, toMs int64) ([]promSeries, error) {
	m, err := p.rangeRead(ctx, sel.text, fromMs, toMs)
	if err != nil {
		return nil, err
	}
	out := make([]promSeries, 0, len(m))
	for _, ss := range m {
		s := promSeries{lset: promLabels(ss.Metric), ts: make([]int64, len(ss.Values)), vs: make([]float64, len(ss.Values))}
		for i, x := range ss.Values {
			s.ts[i], s.vs[i] = int64(x.Timestamp), float64(x.Value)
		}
		out = append(out, s)
	}
	return promMerge(out), nil
}

// rangeRead returns the raw samples of the series a selector matches with
// time in (fromMs, toMs], one request.
//
// It is an instant query of the range-vector selector "selector[span]" at
// the end of the range. Range selectors include their start in Prometheus
// 2 and exclude it in Prometheus 3, and the query time is sent in seconds,
// so the query is evaluated at the range's end rounded up to a second
// over a span, in whole seconds, that reaches back to the range's start
// or before it; the samples are then cut to (fromMs, toMs] here, the same
// whatever the server's version.
func (p *Prometheus) rangeRead(ctx context.Context, selector string, fromMs, toMs int64) (model.Matrix, error) {
	at := promCeilSecond(toMs)
	span := promCeilSecond(at - fromMs)
	q := selector + "[" + model.Duration(time.Duration(span)*time.Millisecond).String() + "]"
	what := fmt.Sprintf("reading %s at %s", q, time.UnixMilli(at).UTC().Format(time.RFC3339))
	var v model.Value
	err := p.call(ctx, what, func(ctx context.Context, _ *promAttempt) error {
		var (
			warnings v1.Warnings
			err      error
		)
		v, warnings, _, err = p.api.Query(ctx, q, time.UnixMilli(at), v1.WithTimeout(p.timeout))
		if len(warnings) > 0 {
			p.log().Warn("prometheus warns", "server", p.name, "query", q, "warnings", warnings)
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
		i := 0
		for _, s := range ss.Values {
			if t := int64(s.Timestamp); fromMs < t && t <= toMs {
				ss.Values[i] = s
				i++
			}
		}
		ss.Values = ss.Values[:i]
	}
	return m, nil
}

// promCeilSecond rounds a time or span in milliseconds up to a whole second.
func promCeilSecond(ms int64) int64 {
	if r := ms % 1000; r > 0 {
		return ms - r + 1000
	}
	return ms
}

func promLabels(m model.Metric) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for k, v := range m {
		b.Add(string(k), string(v))
	}
	b.Sort()
	return b.Labels()
}

// promTime formats a time in milliseconds for errors and logs.
func promTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}
