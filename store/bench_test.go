package store

import (
	"context"
	"fmt"
	"testing"
)

// benchInstances and benchSeries are the sizes the service plans for: 10,000
// SLO instances, each with a total and an errors series per code seen.
const (
	benchInstances = 10_000
	benchSeries    = 40_000
	benchBlob      = 15_000 // bytes of an instance's marshalled state
)

// BenchmarkCommitCycle commits checkpoint cycles: a journal of 10,000
// entries (a minute of 10,000 instances) and the cursors of 40,000 series.
func BenchmarkCommitCycle(b *testing.B) {
	ctx := context.Background()
	db, _ := openTemp(b)
	series := make([]string, benchSeries)
	for s := range series {
		series[s] = fmt.Sprintf(`{__name__="neo4j_query_errors_total",code="Neo.TransientError.General.DatabaseUnavailable",database="db-%05d"}`, s/4)
	}
	cycle := func(n int64) Cycle {
		t := cycleTime(n)
		c := Cycle{Time: t, SourceCursors: map[string]int64{"prom": t}}
		c.Journal = make([]JournalEntry, benchInstances)
		for i := range c.Journal {
			c.Journal[i] = JournalEntry{Instance: instanceKey(i), Minute: t / 60_000, Total: float64(1000 + i%17), User: 3, Platform: float64(i % 2)}
		}
		set := make([]SeriesCursor, benchSeries)
		for s := range set {
			set[s] = SeriesCursor{Source: "prom", Series: series[s], TS: t, Value: float64(n*100 + int64(s))}
		}
		c.CursorSets = map[string][]SeriesCursor{"prom": set}
		return c
	}
	// The first cycle creates the instances and cursors; the measured ones
	// update them, as a running service does.
	if err := db.Commit(ctx, cycle(1)); err != nil {
		b.Fatal(err)
	}
	cycles := []Cycle{cycle(2), cycle(3)}
	n := int64(1)
	for b.Loop() {
		n++
		c := cycles[n%2]
		c.Time = cycleTime(n)
		if err := db.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/cycle")
	b.ReportMetric(0, "ns/op")
	reportSize(b, db)

	// What a journal entry costs on disk, pages included.
	var bytes, blobs int64
	if err := db.r.QueryRow(`SELECT sum(pgsize) FROM dbstat WHERE name = 'journal_blobs'`).Scan(&bytes); err != nil {
		b.Fatal(err)
	}
	if err := db.r.QueryRow(`SELECT count(*) FROM journal_blobs`).Scan(&blobs); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bytes)/float64(blobs*benchInstances), "B/journal-entry")
}

// BenchmarkSnapshot commits snapshot cycles of 10,000 instances of 15 KB:
// 150 MB replaced in one transaction.
func BenchmarkSnapshot(b *testing.B) {
	ctx := context.Background()
	db, _ := openTemp(b)
	snaps := make([]Snapshot, benchInstances)
	for i := range snaps {
		snaps[i] = Snapshot{Instance: instanceKey(i), Labels: fmt.Sprintf(`{"database":"db-%d"}`, i), State: blob(1, i, benchBlob)}
	}
	n := int64(0)
	for b.Loop() {
		n++
		if err := db.Commit(ctx, Cycle{Time: cycleTime(n), Snapshots: snaps}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/snapshot")
	b.ReportMetric(float64(benchInstances*benchBlob)/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
	b.ReportMetric(0, "ns/op")
	reportSize(b, db)
}

// reportSize reports the file and WAL size at the end of a benchmark.
func reportSize(b *testing.B, db *DB) {
	size, err := db.Size()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(size)/1e6, "MB-on-disk")
}

// BenchmarkLoad reads what a restart reads: 10,000 snapshots of 15 KB and
// 20 cycles (10 minutes) of journal, 10,000 rows each.
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	db, _ := openTemp(b)
	snaps := make([]Snapshot, benchInstances)
	for i := range snaps {
		snaps[i] = Snapshot{Instance: instanceKey(i), Labels: fmt.Sprintf(`{"database":"db-%d"}`, i), State: blob(1, i, benchBlob)}
	}
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1), Snapshots: snaps}); err != nil {
		b.Fatal(err)
	}
	for n := int64(2); n <= 21; n++ {
		c := Cycle{Time: cycleTime(n), Journal: make([]JournalEntry, benchInstances)}
		for i := range c.Journal {
			c.Journal[i] = JournalEntry{Instance: instanceKey(i), Minute: c.Time / 60_000, Total: 1000, User: 3, Platform: 1}
		}
		if err := db.Commit(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		st, err := db.Load(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(st.Snapshots) != benchInstances || len(st.Journal) != 20*benchInstances {
			b.Fatalf("loaded %d snapshots and %d journal entries", len(st.Snapshots), len(st.Journal))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCommitHistoryHour commits the cycle that writes an hour of
// per-minute history for 10,000 instances, as serve does once an hour:
// after 24 such hours, so that each lands in a table that has some.
func BenchmarkCommitHistoryHour(b *testing.B) {
	ctx := context.Background()
	db, _ := openTemp(b)
	hour := func(h int64) Cycle {
		c := Cycle{Time: (h + 1) * 3_600_000, History: make([]HistoryHour, benchInstances), HistoryCursors: map[string]int64{"slo": h + 1}}
		for i := range c.History {
			row := &c.History[i]
			row.Instance, row.Hour = instanceKey(i), h
			for m := range row.Valid {
				row.Valid[m], row.Bad[m] = float64(1000+(i+m)%37), float64((i*m)%3/2)
			}
			row.Codes = []HourCode{{Code: "Neo.ClientError.Statement.SyntaxError", Class: "user", Rule: "neo4j", Count: 12}}
		}
		return c
	}
	h := int64(490_000) // 2025-11
	for range 24 {
		if err := db.Commit(ctx, hour(h)); err != nil {
			b.Fatal(err)
		}
		h++
	}
	for b.Loop() {
		if err := db.Commit(ctx, hour(h)); err != nil {
			b.Fatal(err)
		}
		h++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/hour")
	b.ReportMetric(0, "ns/op")
	var bytes, rows int64
	if err := db.r.QueryRow(`SELECT sum(pgsize) FROM dbstat WHERE name IN ('history', 'history_by_hour')`).Scan(&bytes); err != nil {
		b.Fatal(err)
	}
	if err := db.r.QueryRow(`SELECT count(*) FROM history`).Scan(&rows); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(bytes)/float64(rows), "B/instance-hour")
}
