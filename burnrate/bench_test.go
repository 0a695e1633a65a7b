package burnrate

import (
	"testing"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// BenchmarkEvaluate measures one evaluation of every window of the workbook
// policy for one instance with a full 30-day history, and reports the
// memory an instance takes.
func BenchmarkEvaluate(b *testing.B) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		b.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	const n = 1000
	insts := make([]*Instance, n)
	k0 := t0 / m
	for i := range insts {
		insts[i] = NewInstance(sp, labels.FromStrings("database", "db"))
		for k := k0; k < k0+31*24*60; k += 7 {
			insts[i].store.Add(k, Counts{Valid: 1000, Bad: float64(k % 3)})
		}
	}
	ts := (k0 + 31*24*60) * m
	emit := func(Transition) {}
	b.ResetTimer()
	evals := 0
	for b.Loop() {
		for _, in := range insts {
			in.Evaluate(ts, emit)
		}
		evals += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(evals), "ns/instance-eval")
	b.ReportMetric(float64(instanceBytes(sp)), "B/instance")
}

// instanceBytes is the memory one instance of sp takes: its burn-rate
// history, its surge guard's history, and the structs that hold them.
func instanceBytes(sp *Spec) int {
	n := sp.Layout.Bytes() + int(unsafe.Sizeof(Instance{}))
	if sp.surge != nil {
		n += sp.surge.layout.Bytes() + int(unsafe.Sizeof(instanceSurge{}))
	}
	return n
}
