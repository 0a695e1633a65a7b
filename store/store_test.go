package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var small = gen{instances: 40, series: 30, alerts: 12, snapEvery: 5, blob: 3000}

func TestCommitLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	m := newModel()
	m.check(t, db) // an empty file loads as the zero state

	for n := int64(1); n <= 17; n++ {
		c := small.cycle(n)
		if err := db.Commit(ctx, c); err != nil {
			t.Fatalf("cycle %d: %v", n, err)
		}
		m.apply(c)
		for i, tr := range c.Transitions {
			if want := m.transitions[len(m.transitions)-len(c.Transitions)+i].Seq; tr.Seq != want {
				t.Fatalf("cycle %d: transition %d got Seq %d, want %d", n, i, tr.Seq, want)
			}
		}
		m.check(t, db)
		if t.Failed() {
			t.Fatalf("after cycle %d", n)
		}
		if n == 9 {
			// A close and reopen changes nothing, and the instance ids read
			// back at open serve the next cycles.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if db, _ = Open(path); db == nil {
				t.Fatal("reopen failed")
			}
			t.Cleanup(func() { db.Close() })
			m.check(t, db)
		}
	}
	st, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.SnapshotTime != cycleTime(15) || len(st.Journal) == 0 {
		t.Fatalf("after 17 cycles: snapshot of %d with %d journal entries, want the snapshot of cycle 15 and the journal of 16 and 17",
			st.SnapshotTime, len(st.Journal))
	}
}

func TestSnapshotCycleTruncatesJournal(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	g := gen{instances: 10, series: 4, alerts: 2, snapEvery: 3, blob: 100}
	for n := int64(1); n <= 3; n++ {
		if err := db.Commit(ctx, g.cycle(n)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Journal) != 0 {
		t.Errorf("after a snapshot cycle the journal has %d entries, want none: the snapshot includes them", len(st.Journal))
	}
	if st.SnapshotTime != cycleTime(3) || len(st.Snapshots) != len(g.cycle(3).Snapshots) {
		t.Errorf("snapshot time %d with %d snapshots, want %d with %d", st.SnapshotTime, len(st.Snapshots), cycleTime(3), len(g.cycle(3).Snapshots))
	}
	// Instances left out of the snapshot are forgotten, and only those.
	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM instances`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(st.Snapshots) {
		t.Errorf("%d instance rows after the snapshot, want %d", n, len(st.Snapshots))
	}
}

func TestTransitionsRangeAndPrune(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	m := newModel()
	for n := int64(1); n <= 12; n++ {
		c := small.cycle(n)
		if err := db.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
		m.apply(c)
	}

	t.Run("a range is from inclusive to exclusive, in time order", func(t *testing.T) {
		from, to := cycleTime(4), cycleTime(8)
		var got []TransitionRecord
		if err := db.Transitions(ctx, from, to, func(tr TransitionRecord) error {
			got = append(got, tr)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var want []TransitionRecord
		for _, tr := range m.transitions {
			if tr.Time >= from && tr.Time < to {
				want = append(want, tr)
			}
		}
		if len(want) == 0 {
			t.Fatal("the generator made no transitions in range")
		}
		checkSlice(t, "Transitions", got, want, func(a, b TransitionRecord) bool {
			return a.Seq == b.Seq && a.Time == b.Time && a.AlertID == b.AlertID && string(a.JSON) == string(b.JSON)
		})
	})

	t.Run("an error from fn stops the walk and is returned", func(t *testing.T) {
		stop := errors.New("enough")
		calls := 0
		err := db.Transitions(ctx, 0, 1<<62, func(TransitionRecord) error {
			calls++
			return stop
		})
		if err != stop || calls != 1 {
			t.Errorf("got %v after %d calls, want the fn's error after 1", err, calls)
		}
	})

	t.Run("prune drops what is older and sequence numbers go on", func(t *testing.T) {
		if err := db.Prune(ctx, cycleTime(12)); err != nil {
			t.Fatal(err)
		}
		var kept []TransitionRecord
		for _, tr := range m.transitions {
			if tr.Time >= cycleTime(12) {
				kept = append(kept, tr)
			}
		}
		checkTransitions(t, db, kept)
		// Prune everything: the next transition's Seq still follows the last.
		if err := db.Prune(ctx, 1<<62); err != nil {
			t.Fatal(err)
		}
		c := Cycle{Time: cycleTime(13), Transitions: []TransitionRecord{{Time: cycleTime(13), AlertID: "a", JSON: []byte(`{}`)}}}
		if err := db.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
		if want := int64(len(m.transitions) + 1); c.Transitions[0].Seq != want {
			t.Errorf("after pruning all, the next Seq is %d, want %d", c.Transitions[0].Seq, want)
		}
	})
}

// TestCommitAllOrNothing: a cycle that cannot be committed whole leaves the
// file as the cycle before left it, and the same cycle can then be committed.
func TestCommitAllOrNothing(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	for _, tc := range []struct {
		name   string
		ctx    context.Context
		spoil  func(c *Cycle)
		wantIs error
	}{
		{"a cancelled context stores nothing", cancelled, func(*Cycle) {}, context.Canceled},
		{"a consumed batch that is not pending fails the cycle after its rows were written", ctx,
			func(c *Cycle) { c.Consumed = []int64{424242} }, ErrNotPending},
		{"an instance snapshotted twice fails the snapshot midway", ctx,
			func(c *Cycle) { c.Snapshots = append(c.Snapshots, c.Snapshots[len(c.Snapshots)-1]) }, nil},
		{"a cycle time already committed is refused", ctx,
			func(c *Cycle) { c.Time = cycleTime(5) }, ErrCycleOrder},
		{"a NaN count is refused before anything is written", ctx,
			func(c *Cycle) { c.Journal[len(c.Journal)-1].Platform = math.NaN() }, nil},
		{"a NaN cursor is refused", ctx,
			func(c *Cycle) { c.CursorSets["prom"][0].Value = math.NaN() }, nil},
		{"an alert state outside the machine is refused", ctx,
			func(c *Cycle) { c.Alerts = append(c.Alerts, AlertState{ID: "x", State: "pending"}) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTemp(t)
			m := newModel()
			for n := int64(1); n <= 6; n++ { // 5 is a snapshot cycle
				c := small.cycle(n)
				if err := db.Commit(ctx, c); err != nil {
					t.Fatal(err)
				}
				m.apply(c)
			}
			// Cycle 10 is a snapshot cycle with journal, cursors, alerts and
			// transitions: every table is touched before the spoilt part.
			next := small.cycle(10)
			next.Time = cycleTime(7)
			if len(next.Transitions) == 0 || len(next.Snapshots) == 0 {
				t.Fatal("the generated cycle lacks transitions or snapshots")
			}
			bad := small.cycle(10)
			bad.Time = cycleTime(7)
			tc.spoil(&bad)
			err := db.Commit(tc.ctx, bad)
			if err == nil {
				t.Fatal("Commit succeeded, want an error")
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Commit error %v, want %v", err, tc.wantIs)
			}
			for _, tr := range bad.Transitions {
				if tr.Seq != 0 {
					t.Errorf("a failed Commit set a transition's Seq to %d", tr.Seq)
				}
			}
			m.check(t, db)

			// The file works on: the good cycle commits, and its transitions
			// follow the last committed ones without a gap.
			if err := db.Commit(ctx, next); err != nil {
				t.Fatal(err)
			}
			m.apply(next)
			m.check(t, db)
		})
	}
}

// TestCommitCancelledMidway cancels big commits at varying moments: each
// either happened whole or not at all.
func TestCommitCancelledMidway(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	g := gen{instances: 400, series: 1000, alerts: 50, snapEvery: 1, blob: 15_000}

	// The second snapshot cycle replaces the first: time it, to know when
	// a cancel lands inside a commit.
	m := newModel()
	var took time.Duration
	for n := int64(1); n <= 2; n++ {
		c := g.cycle(n)
		start := time.Now()
		if err := db.Commit(ctx, c); err != nil {
			t.Fatal(err)
		}
		took = time.Since(start)
		m.apply(c)
	}

	n := int64(3)
	var aborted, committed int
	for i := range 10 {
		c := g.cycle(n)
		cctx, cancel := context.WithCancel(ctx)
		after := took * time.Duration(i) / 5 // from at once to 1.8 times a commit
		timer := time.AfterFunc(after, cancel)
		err := db.Commit(cctx, c)
		timer.Stop()
		cancel()
		if err == nil {
			committed++
			m.apply(c)
			n++
		} else {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Commit: %v, want nil or context.Canceled", err)
			}
			aborted++
		}
		m.check(t, db)
		if t.Failed() {
			t.Fatalf("after attempt %d (cancel after %v)", i, after)
		}
	}
	t.Logf("a commit took %v; %d attempts aborted, %d committed", took, aborted, committed)
}

// TestConcurrentUse reads while cycles commit and batches arrive: every Load
// sees one committed cycle whole.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	const cycles = 15
	models := make([]State, cycles+1)
	m := newModel()
	models[0] = m.state()
	for n := int64(1); n <= cycles; n++ {
		m.apply(small.cycle(n))
		models[n] = m.state()
	}

	done := make(chan struct{})
	errs := make(chan error, 2)
	go func() {
		defer close(done)
		for n := int64(1); n <= cycles; n++ {
			if err := db.Commit(ctx, small.cycle(n)); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	go func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			if _, err := db.AppendBatch(ctx, int64(i), []byte("{}\n")); err != nil {
				errs <- err
				return
			}
		}
	}()
	var last int64
	for loads := 0; ; loads++ {
		st, err := db.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		if st.LastCycle != 0 {
			n = (st.LastCycle - t0) / cycleInterval
		}
		if n < last {
			t.Fatalf("Load went back from cycle %d to %d", last, n)
		}
		last = n
		checkState(t, st, models[n])
		if t.Failed() {
			t.Fatalf("Load %d, at cycle %d", loads, n)
		}
		if n == cycles {
			break
		}
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestPushedBatches(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)

	var ids []int64
	for i, body := range []string{`{"slo":"a"}`, `{"slo":"b"}`, `{"slo":"c"}`} {
		id, err := db.AppendBatch(ctx, int64(1000+i), []byte(body+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	pending := func() []Batch {
		t.Helper()
		bs, err := db.PendingBatches(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}
	bs := pending()
	if len(bs) != 3 || bs[0].ID != ids[0] || bs[1].ID != ids[1] || bs[2].ID != ids[2] ||
		string(bs[1].NDJSON) != "{\"slo\":\"b\"}\n" || bs[2].Received != 1002 {
		t.Fatalf("pending = %+v, want the three batches in id order", bs)
	}

	// Durable across a close and reopen.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if bs := pending(); len(bs) != 3 {
		t.Fatalf("after reopening, %d pending batches, want 3", len(bs))
	}

	// A cycle consumes the first two.
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1), Consumed: ids[:2]}); err != nil {
		t.Fatal(err)
	}
	if bs := pending(); len(bs) != 1 || bs[0].ID != ids[2] {
		t.Fatalf("after consuming two, pending = %+v, want only batch %d", bs, ids[2])
	}

	// Consuming a batch twice is an error, and the cycle stores nothing.
	err = db.Commit(ctx, Cycle{Time: cycleTime(2), Consumed: []int64{ids[2], ids[0]}})
	if !errors.Is(err, ErrNotPending) {
		t.Fatalf("consuming batch %d again: %v, want ErrNotPending", ids[0], err)
	}
	if bs := pending(); len(bs) != 1 {
		t.Fatalf("a failed cycle consumed a batch: pending = %+v", bs)
	}

	// Gone after a reload; ids are not reused.
	if err := db.Commit(ctx, Cycle{Time: cycleTime(2), Consumed: ids[2:]}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if bs := pending(); len(bs) != 0 {
		t.Fatalf("after consuming all and reopening, pending = %+v", bs)
	}
	id, err := db.AppendBatch(ctx, 2000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id <= ids[2] {
		t.Errorf("a new batch got id %d, reusing one at or below %d", id, ids[2])
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("creates parent directories, even with URI characters in the path", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a?b#c%d", "deep", "state.db")
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Commit(ctx, Cycle{Time: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the file is not at the path given: %v", err)
		}
		if n, err := db.Size(); err != nil || n == 0 {
			t.Errorf("Size() = %d, %v; want a positive size", n, err)
		}
	})

	t.Run("the write connection runs WAL, synchronous FULL and foreign keys", func(t *testing.T) {
		db, _ := openTemp(t)
		for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1"} {
			var got string
			if err := db.w.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
			}
		}
	})

	t.Run("a second open of the same file is refused while the first is open", func(t *testing.T) {
		db, path := openTemp(t)
		if _, err := Open(path); !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open: %v, want ErrLocked", err)
		}
		db.Close()
		db2, err := Open(path)
		if err != nil {
			t.Fatalf("Open after Close: %v", err)
		}
		db2.Close()
	})

	t.Run("a newer schema version is refused with a clear error", func(t *testing.T) {
		db, path := openTemp(t)
		db.Close()
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`UPDATE schema_version SET version = ?`, schemaVersion+1); err != nil {
			t.Fatal(err)
		}
		raw.Close()

		_, err = Open(path)
		if !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("Open: %v, want ErrNewerSchema", err)
		}
		for _, want := range []string{path, fmt.Sprintf("version %d", schemaVersion+1), fmt.Sprintf("up to %d", schemaVersion), "newer burnwatch"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})

	t.Run("an older schema is migrated forward", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		// Version 0: the version table exists, nothing else does.
		if _, err := raw.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (0)`); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v int
		if err := db.r.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != schemaVersion {
			t.Fatalf("schema version %d (%v), want %d", v, err, schemaVersion)
		}
	})
}
