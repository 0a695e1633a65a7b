package ingest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
)

// benchRecording writes (once, then reuses) an OpenMetrics recording of
// instances databases over one day at one-minute resolution: a total and a
// platform-error counter each, every 50th database failing for 20 minutes.
func benchRecording(b *testing.B, instances int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "burnwatch-bench")
	path := filepath.Join(dir, fmt.Sprintf("fleet-%d-1d.om", instances))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	const minutes = 24 * 60
	start := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC).Unix()
	var line []byte
	series := func(name string, db int, code string, value func(i int) int) {
		for i := range minutes {
			line = append(line[:0], name...)
			line = append(line, `{database="db-`...)
			line = strconv.AppendInt(line, int64(db), 10)
			line = append(line, '"')
			if code != "" {
				line = append(line, `,code="`...)
				line = append(line, code...)
				line = append(line, '"')
			}
			line = append(line, "} "...)
			line = strconv.AppendInt(line, int64(value(i)), 10)
			line = append(line, ' ')
			line = strconv.AppendInt(line, start+int64(i)*60, 10)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	w.WriteString("# TYPE neo4j_queries counter\n")
	for db := range instances {
		series("neo4j_queries_total", db, "", func(i int) int { return i * 1000 })
	}
	w.WriteString("# TYPE neo4j_query_errors counter\n")
	for db := range instances {
		series("neo4j_query_errors_total", db, "Neo.DatabaseError.General.UnknownError", func(i int) int {
			failing := db%50 == 0 && i > 600
			if failing {
				return min(i-600, 20) * 1000
			}
			return i / 100
		})
	}
	w.WriteString("# EOF\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchReplay(b *testing.B, instances int) {
	path := benchRecording(b, instances)
	cfg, err := slo.LoadDefault()
	if err != nil {
		b.Fatal(err)
	}
	c, err := classify.New(nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var samples int
	for b.Loop() {
		rd, err := source.Open(path, nil, source.OpenMetrics)
		if err != nil {
			b.Fatal(err)
		}
		st, err := NewRouter(cfg, c).Replay(context.Background(), rd, func(burnrate.Transition) error { return nil })
		rd.Close()
		if err != nil {
			b.Fatal(err)
		}
		if st.Fired == 0 {
			b.Fatal("no alert fired")
		}
		samples += st.Samples
	}
	b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkReplay replays the fleet recording end to end: read, parse,
// spool, sort, count and evaluate. The figure is the 10,000
// instance one: make bench.
func BenchmarkReplay(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) { benchReplay(b, n) })
	}
}
