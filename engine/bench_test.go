package engine

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// BenchmarkSteadyCycle is the engine's part of a steady cycle of a large
// fleet: a live batch of 30 seconds (two samples of each of three series
// per instance) applied and counted, every instance evaluated at the
// minute it completes, then the view made and the pending cycle taken
// for the store. It reports the CPU time per instance and cycle, which
// issue 10 asks to keep, with reading and committing, under 10 µs.
func BenchmarkSteadyCycle(b *testing.B) {
	for _, n := range []int{1_000, 20_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			start := int64(1_793_836_800_000)
			clock := start
			e := newTestEngine(b, &clock)
			type series struct {
				lset labels.Labels
				v    float64
			}
			var all []series
			for i := range n {
				db := fmt.Sprintf("db-%05d", i)
				all = append(all,
					series{lset: labels.FromStrings("__name__", "neo4j_queries_total", "database", db)},
					series{lset: labels.FromStrings("__name__", "neo4j_query_errors_total", "database", db, "code", "Neo.ClientError.Statement.SyntaxError")},
					series{lset: labels.FromStrings("__name__", "neo4j_query_errors_total", "database", db, "code", "Neo.DatabaseError.General.UnknownError")},
				)
			}
			through := start
			batch := func() Batch {
				from := through
				through += 30_000
				runs := make([]Run, len(all))
				for i := range all {
					s := &all[i]
					r := Run{Labels: s.lset, T: []int64{from + 7_000, from + 22_000}}
					// 1,000 queries a minute, a syntax error every 30s, no
					// failure of the platform: a healthy fleet.
					step := []float64{250, 0.5, 0}[i%3]
					r.V = []float64{s.v + step, s.v + 2*step}
					s.v += 2 * step
					runs[i] = r
				}
				return Batch{Source: "prom", Mode: Live, From: from, Through: through, Runs: runs}
			}
			// An hour first, so that the windows and the view are full.
			for range 120 {
				clock = through + 40_000
				if _, err := e.Apply(batch()); err != nil {
					b.Fatal(err)
				}
				e.Committed(e.Cycle(clock, Record))
			}
			e.Committed(e.Cycle(clock, Snapshot))
			e.View()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap := ms.HeapAlloc
			batches := make([]Batch, 0, 64)
			cycles := 0
			b.ResetTimer()
			for b.Loop() {
				if len(batches) == 0 {
					b.StopTimer()
					for range cap(batches) {
						batches = append(batches, batch())
					}
					b.StartTimer()
				}
				bt := batches[0]
				batches = batches[1:]
				clock = bt.Through + 10_000
				if _, err := e.Apply(bt); err != nil {
					b.Fatal(err)
				}
				e.View()
				// A checkpoint every 20 cycles, as serve takes one every 10
				// minutes.
				kind := Record
				if cycles++; cycles%20 == 0 {
					kind = Checkpoint
				}
				e.Committed(e.Cycle(clock, kind))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1000, "µs/instance/cycle")
			// The live heap after an hour: what the engine holds, view and
			// all, per instance (with the test's own series list, about
			// 0.3 KB an instance, in it).
			b.ReportMetric(float64(heap)/float64(n), "B/instance")
		})
	}
}
