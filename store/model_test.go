package store

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
)

// t0 is the time of cycle 0 of the generated cycles (ms).
const t0 = 1_780_000_000_000

// cycleInterval is the generated cycles' spacing, serve's default.
const cycleInterval = 30_000

// gen makes cycle n's rows from n alone, so that a test (or a crashed child's
// parent) knows what any prefix of cycles must have left in the file.
type gen struct {
	instances int // instances counting each cycle (about two thirds of them)
	series    int // series cursors (a set written every other cycle)
	alerts    int // alerts; alert j changes state every j+2 cycles
	snapEvery int // a snapshot cycle every snapEvery cycles; 0: never
	blob      int // bytes of a snapshot's state
}

func cycleTime(n int64) int64 { return t0 + n*cycleInterval }

func instanceKey(i int) InstanceKey {
	// Keys are opaque bytes: include a NUL and bytes that are not UTF-8.
	return InstanceKey{SLO: fmt.Sprintf("slo-%d", i%3), Key: fmt.Sprintf("db-%d\x00\xff\xfe", i)}
}

func alertID(j int) string { return fmt.Sprintf("alert-%04d", j) }

// alertState is alert j's state after cycle n.
func alertState(j int, n int64) string {
	switch k := n / int64(j+2); {
	case k == 0:
		return StateInactive
	case k%2 == 1:
		return StateFiring
	default:
		return StateResolved
	}
}

// blob is deterministic filler for snapshot n of instance i.
func blob(n int64, i, size int) []byte {
	b := make([]byte, size)
	x := uint64(n)*0x9e3779b97f4a7c15 ^ uint64(i+1)*0xbf58476d1ce4e5b9
	for k := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[k] = byte(x)
	}
	return b
}

func (g gen) isSnapshot(n int64) bool { return g.snapEvery > 0 && n%int64(g.snapEvery) == 0 }

// cycle is cycle n (n >= 1).
func (g gen) cycle(n int64) Cycle {
	t := cycleTime(n)
	c := Cycle{Time: t, SourceCursors: map[string]int64{"prom": t}}
	if n%2 == 0 {
		c.SourceCursors["events"] = t - 1000
	}
	for i := range g.instances {
		if (n+int64(i))%3 == 0 {
			continue
		}
		c.Journal = append(c.Journal, JournalEntry{
			Instance: instanceKey(i),
			Minute:   t / 60_000, // two cycles a minute: the same minute twice
			Total:    float64(n*10 + int64(i)),
			User:     float64(i % 3),
			Ignore:   0.5 * float64(n%2),
			Platform: float64((n * int64(i)) % 7),
		})
	}
	if n%2 == 0 && g.series > 0 {
		// The whole set, but for a series that comes and goes.
		c.CursorSets = map[string][]SeriesCursor{}
		for s := range g.series {
			if s == 1 && n%4 == 0 {
				continue
			}
			c.CursorSets["prom"] = append(c.CursorSets["prom"], SeriesCursor{
				Source: "prom",
				Series: fmt.Sprintf(`{__name__="neo4j_queries_total",database="db-%d"}`, s),
				TS:     t - int64(s),
				Value:  float64(n*1000 + int64(s)),
			})
		}
		c.Evaluated = map[string]int64{"prom": t - t%60_000}
	}
	for j := range g.alerts {
		was, is := alertState(j, n-1), alertState(j, n)
		if was == is {
			continue
		}
		c.Alerts = append(c.Alerts, AlertState{
			ID: alertID(j), SLO: "slo-0", Alert: "burn-rate", Severity: "page",
			Labels: fmt.Sprintf(`{"database":"db-%d"}`, j), State: is, Since: t,
		})
		c.Transitions = append(c.Transitions, TransitionRecord{
			Time: t, AlertID: alertID(j),
			JSON: fmt.Appendf(nil, `{"alert":"burn-rate","id":%q,"state":%q,"cycle":%d}`, alertID(j), is, n),
		})
	}
	if g.isSnapshot(n) {
		for i := range g.instances {
			// Leave some instances out, so that snapshots also forget.
			if (int64(i)+n/int64(g.snapEvery))%5 == 0 {
				continue
			}
			c.Snapshots = append(c.Snapshots, Snapshot{
				Instance: instanceKey(i),
				Labels:   fmt.Sprintf(`{"database":"db-%d"}`, i),
				State:    blob(n, i, g.blob),
			})
		}
	}
	return c
}

// model is what the file must hold after the cycles applied to it: Commit's
// contract, written the plain way.
type model struct {
	snapshotTime  int64
	snapshots     []Snapshot
	journal       []JournalEntry
	cursors       map[[2]string]SeriesCursor
	sourceCursors map[string]int64
	evaluated     map[string]int64
	alerts        map[string]AlertState
	transitions   []TransitionRecord
	lastCycle     int64
}

func newModel() *model {
	return &model{
		cursors:       make(map[[2]string]SeriesCursor),
		sourceCursors: make(map[string]int64),
		evaluated:     make(map[string]int64),
		alerts:        make(map[string]AlertState),
	}
}

func (m *model) apply(c Cycle) {
	if len(c.Snapshots) > 0 {
		m.snapshotTime = c.Time
		m.snapshots = slices.Clone(c.Snapshots)
		m.journal = nil
	} else {
		m.journal = append(m.journal, c.Journal...)
	}
	for source, set := range c.CursorSets {
		for k := range m.cursors {
			if k[0] == source {
				delete(m.cursors, k)
			}
		}
		for _, cur := range set {
			m.cursors[[2]string{cur.Source, cur.Series}] = cur
		}
	}
	maps.Copy(m.sourceCursors, c.SourceCursors)
	maps.Copy(m.evaluated, c.Evaluated)
	for _, a := range c.Alerts {
		m.alerts[a.ID] = a
	}
	for _, tr := range c.Transitions {
		tr.Seq = int64(len(m.transitions) + 1)
		m.transitions = append(m.transitions, tr)
	}
	m.lastCycle = c.Time
}

// state is what Load must return.
func (m *model) state() State {
	s := State{
		SnapshotTime:  m.snapshotTime,
		Snapshots:     slices.Clone(m.snapshots),
		Journal:       slices.Clone(m.journal),
		SourceCursors: maps.Clone(m.sourceCursors),
		Evaluated:     maps.Clone(m.evaluated),
		LastCycle:     m.lastCycle,
	}
	slices.SortFunc(s.Snapshots, func(a, b Snapshot) int {
		return cmp.Or(cmp.Compare(a.Instance.SLO, b.Instance.SLO), cmp.Compare(a.Instance.Key, b.Instance.Key))
	})
	for _, k := range slices.SortedFunc(maps.Keys(m.cursors), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		s.Cursors = append(s.Cursors, m.cursors[k])
	}
	for _, id := range slices.Sorted(maps.Keys(m.alerts)) {
		s.Alerts = append(s.Alerts, m.alerts[id])
	}
	return s
}

// modelAfter is the model after cycles 1..last of g.
func modelAfter(g gen, last int64) *model {
	m := newModel()
	for n := int64(1); n <= last; n++ {
		m.apply(g.cycle(n))
	}
	return m
}

// checkState fails t unless got is want, naming the first difference.
func checkState(t testing.TB, got, want State) {
	t.Helper()
	if got.LastCycle != want.LastCycle {
		t.Errorf("LastCycle = %d, want %d", got.LastCycle, want.LastCycle)
	}
	if got.SnapshotTime != want.SnapshotTime {
		t.Errorf("SnapshotTime = %d, want %d", got.SnapshotTime, want.SnapshotTime)
	}
	if !maps.Equal(got.SourceCursors, want.SourceCursors) {
		t.Errorf("SourceCursors = %v, want %v", got.SourceCursors, want.SourceCursors)
	}
	if !maps.Equal(got.Evaluated, want.Evaluated) {
		t.Errorf("Evaluated = %v, want %v", got.Evaluated, want.Evaluated)
	}
	checkSlice(t, "Snapshots", got.Snapshots, want.Snapshots, func(a, b Snapshot) bool {
		return a.Instance == b.Instance && a.Labels == b.Labels && bytes.Equal(a.State, b.State)
	})
	checkSlice(t, "Journal", got.Journal, want.Journal, func(a, b JournalEntry) bool { return a == b })
	checkSlice(t, "Cursors", got.Cursors, want.Cursors, func(a, b SeriesCursor) bool { return a == b })
	checkSlice(t, "Alerts", got.Alerts, want.Alerts, func(a, b AlertState) bool { return a == b })
}

func checkSlice[E any](t testing.TB, what string, got, want []E, eq func(a, b E) bool) {
	t.Helper()
	for i := range min(len(got), len(want)) {
		if !eq(got[i], want[i]) {
			t.Errorf("%s[%d] = %s, want %s", what, i, short(got[i]), short(want[i]))
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s has %d entries, want %d", what, len(got), len(want))
	}
}

func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// transitions reads the whole log.
func transitions(t testing.TB, db *DB) []TransitionRecord {
	t.Helper()
	var ts []TransitionRecord
	err := db.Transitions(context.Background(), 0, 1<<62, func(tr TransitionRecord) error {
		ts = append(ts, tr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// checkTransitions fails t unless the log is want, sequence numbers included.
func checkTransitions(t testing.TB, db *DB, want []TransitionRecord) {
	t.Helper()
	checkSlice(t, "Transitions", transitions(t, db), want, func(a, b TransitionRecord) bool {
		return a.Seq == b.Seq && a.Time == b.Time && a.AlertID == b.AlertID && bytes.Equal(a.JSON, b.JSON)
	})
}

// check fails t unless db holds exactly what m says.
func (m *model) check(t testing.TB, db *DB) {
	t.Helper()
	got, err := db.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkState(t, got, m.state())
	checkTransitions(t, db, m.transitions)
}

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "burnwatch.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}
