package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStep measures the agent's whole work per query on a VERBOSE
// JSON query log (a start and an end line per query, 5% long queries,
// a quarter failing): reading, parsing, counting per minute and database,
// spooling the minutes and committing the checkpoint. It reports lines/s
// and the CPU one agent needs per 1,000 queries a second (ms of CPU per
// second: 10 is 1% of a core).
func BenchmarkStep(b *testing.B) {
	dir := b.TempDir()
	l := newTestLog(b, filepath.Join(dir, "query.log"), logStart, 9)
	const queries = 20000
	l.write(queries)
	fi, err := os.Stat(l.path)
	if err != nil {
		b.Fatal(err)
	}
	push := &PushOptions{URL: "http://127.0.0.1:1", TokenFile: "unused", SLO: "cypher-availability"}
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		a, err := New(Options{QueryLog: l.path, Dir: filepath.Join(dir, "agent", string(rune('a'+i%26)), time.Now().Format("150405.000000000")),
			Push: push, Now: func() time.Time { return logStart.Add(24 * time.Hour) }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := a.Step(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		a.Close()
		b.StartTimer()
	}
	perQuery := b.Elapsed().Seconds() / float64(b.N*queries)
	b.ReportMetric(float64(2*queries*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(perQuery*1000*1000, "cpu-ms/s@1000qps")
	b.ReportMetric(0, "ns/op")
}
