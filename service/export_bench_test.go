package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/store"
)

// The filled history: 30 days of every instance, from a midnight.
var exportBenchStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

const (
	exportBenchDays = 30
	// exportBenchFill names the fill's data in the cache's name: change it
	// when exportBenchStore writes other minutes.
	exportBenchFill = 1
)

// exportBenchStore returns a storage directory (burnwatch.db inside) with
// 30 days of history for instances databases of cypher-availability,
// written once and then reused from the temporary directory. A cache this
// build's store cannot read (another schema version) is written again.
func exportBenchStore(b *testing.B, instances int) string {
	b.Helper()
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), "burnwatch-bench", fmt.Sprintf("export-%d-%dd-v%d", instances, exportBenchDays, exportBenchFill))
	if db, err := store.OpenReadOnly(filepath.Join(dir, "burnwatch.db")); err == nil {
		keys, err := db.HistoryInstances(ctx, "cypher-availability", exportBenchHour(0), exportBenchHour(exportBenchDays*24))
		db.Close()
		if err == nil && len(keys) == instances {
			b.Logf("reusing the store filled in %s", dir)
			return dir
		}
		b.Logf("the cached store %s does not read as %d instances (%v): filling it again", dir, instances, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	tmp := dir + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	db, err := store.Open(filepath.Join(tmp, "burnwatch.db"))
	if err != nil {
		b.Fatal(err)
	}
	if err := fillExportBench(ctx, db, instances); err != nil {
		db.Close()
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d instances × %d days (%d history rows) in %s into %s", instances, exportBenchDays, instances*exportBenchDays*24, time.Since(began).Round(time.Millisecond), dir)
	return dir
}

// exportBenchHour is the store hour of the fill's hour i.
func exportBenchHour(i int) int64 { return exportBenchStart.Unix()/3600 + int64(i) }

// exportBenchDB makes one database's minutes: 1,000 queries a minute give
// or take 50, an error now and then, and about one outage a month of 5 to
// 60 minutes failing 10 to 100% of the queries.
type exportBenchDB struct {
	key       store.InstanceKey
	rng       *rand.Rand
	outage    int     // minutes left of the outage
	outageBad float64 // the share of queries it fails
}

func (d *exportBenchDB) minute() (valid, bad float64) {
	valid = float64(950 + d.rng.IntN(101))
	if d.outage == 0 && d.rng.IntN(exportBenchDays*24*60) == 0 {
		d.outage = 5 + d.rng.IntN(56)
		d.outageBad = 0.1 + 0.9*d.rng.Float64()
	}
	switch {
	case d.outage > 0:
		d.outage--
		bad = float64(int(valid * d.outageBad))
	case d.rng.IntN(500) == 0:
		bad = float64(1 + d.rng.IntN(3))
	}
	return valid, bad
}

// fillExportBench commits the history a day at a time, each day's rows in
// instance order, as one cycle; the history cursor ends after the last hour.
func fillExportBench(ctx context.Context, db *store.DB, instances int) error {
	dbs := make([]exportBenchDB, instances)
	for i := range dbs {
		dbs[i] = exportBenchDB{
			key: store.InstanceKey{SLO: "cypher-availability", Key: engine.LabelsJSON(labels.FromStrings("database", fmt.Sprintf("db-%05d", i)))},
			rng: rand.New(rand.NewPCG(20261001, uint64(i))),
		}
	}
	rows := make([]store.HistoryHour, instances*24)
	for day := range exportBenchDays {
		for i := range dbs {
			d := &dbs[i]
			for h := range 24 {
				row := &rows[i*24+h]
				row.Instance, row.Hour = d.key, exportBenchHour(day*24+h)
				for m := range store.MinutesPerHour {
					row.Valid[m], row.Bad[m] = d.minute()
				}
			}
		}
		end := exportBenchHour((day + 1) * 24)
		c := store.Cycle{Time: end * 3600_000, History: rows, HistoryCursors: map[string]int64{"cypher-availability": end}}
		if err := db.Commit(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// countingExport counts what an export writes.
type countingExport struct {
	report.ExportWriter
	instances, minutes int
}

func (c *countingExport) Instance(in report.ExportInstance) error {
	c.instances++
	return c.ExportWriter.Instance(in)
}

func (c *countingExport) Minute(m report.ExportMinute) error {
	c.minutes++
	return c.ExportWriter.Minute(m)
}

// memPeaks samples the heap in use and the process's resident memory
// until stop, keeping the largest of each.
type memPeaks struct {
	heap, rss uint64
	stop      chan struct{}
	done      sync.WaitGroup
}

func sampleMemPeaks(every time.Duration) *memPeaks {
	p := &memPeaks{stop: make(chan struct{})}
	p.sample()
	p.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.sample()
			}
		}
	})
	return p
}

func (p *memPeaks) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.heap = max(p.heap, ms.HeapInuse)
	p.rss = max(p.rss, residentBytes())
}

// Stop ends the sampling, with a last sample.
func (p *memPeaks) Stop() {
	close(p.stop)
	p.done.Wait()
	p.sample()
}

// residentBytes is the process's resident memory, which unlike the Go
// heap includes SQLite's page cache; 0 where /proc does not say.
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func benchExport(b *testing.B, instances int) {
	ctx := context.Background()
	dir := exportBenchStore(b, instances)
	cfg := filepath.Join(b.TempDir(), "burnwatch.yaml")
	if err := os.WriteFile(cfg, []byte(eventsConfig), 0o644); err != nil {
		b.Fatal(err)
	}
	end := exportBenchStart.Add(exportBenchDays * 24 * time.Hour)
	svc, err := New(ctx, Options{
		ConfigPath:  cfg,
		StoragePath: dir,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         func() time.Time { return end.Add(time.Hour) },
		Console:     io.Discard,
		ReadOnly:    true,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	q := ExportQuery{From: exportBenchStart, To: end, All: true}
	want := instances * exportBenchDays * 24 * 60

	// What the fill or an earlier size left is not this export's.
	runtime.GC()
	debug.FreeOSMemory()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	peaks := sampleMemPeaks(50 * time.Millisecond)
	minutes := 0
	for b.Loop() {
		w, err := report.NewExportWriter("csv", io.Discard, nil)
		if err != nil {
			b.Fatal(err)
		}
		cw := &countingExport{ExportWriter: w}
		if err := svc.Export(ctx, q, cw); err != nil {
			b.Fatal(err)
		}
		if cw.instances != instances || cw.minutes != want {
			b.Fatalf("exported %d instances and %d minutes, want %d and %d", cw.instances, cw.minutes, instances, want)
		}
		minutes += cw.minutes
	}
	peaks.Stop()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(minutes)/b.Elapsed().Seconds(), "minutes/s")
	b.ReportMetric(float64(peaks.heap)/1e6, "MB-heap-peak")
	if peaks.rss > 0 {
		b.ReportMetric(float64(peaks.rss)/1e6, "MB-rss-peak")
	}
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(instances*b.N), "B/instance")
}

// BenchmarkExport exports 30 days of every instance (a month's
// postmortem of a whole fleet) as CSV, from a store filled once per size
// under $TMPDIR (1.6 GB for 10,000 instances, filled in about 3 minutes).
// The point is the memory: an export holds one instance at a time, so its
// heap peak should not grow with the fleet.
func BenchmarkExport(b *testing.B) {
	for _, n := range []int{100, 1000, 10_000} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) { benchExport(b, n) })
	}
}
