package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
)

// filled is an hour whose minutes are valid(i) and bad(i).
func filled(valid, bad func(i int) float64) HistoryHour {
	var h HistoryHour
	for i := range MinutesPerHour {
		h.Valid[i], h.Bad[i] = valid(i), bad(i)
	}
	return h
}

func constant(v float64) func(int) float64 { return func(int) float64 { return v } }

// sameMinutes reports the first minute whose valid or bad differ in their
// bits between a and b, or -1.
func sameMinutes(a, b *HistoryHour) int {
	for i := range MinutesPerHour {
		if math.Float64bits(a.Valid[i]) != math.Float64bits(b.Valid[i]) ||
			math.Float64bits(a.Bad[i]) != math.Float64bits(b.Bad[i]) {
			return i
		}
	}
	return -1
}

func TestMinutesRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    HistoryHour
		size int // encoded bytes; 0: not checked
	}{
		{"a quiet hour takes one byte a value", filled(constant(0), constant(0)), 2 * MinutesPerHour},
		{"small whole numbers take one byte each", filled(func(i int) float64 { return float64(i) }, constant(63)), 2 * MinutesPerHour},
		{"busy whole numbers come back", filled(func(i int) float64 { return float64(1000 * i) }, func(i int) float64 { return float64(i * i) }), 0},
		{"fractions come back bit for bit", filled(constant(0.5), constant(1e-9)), 2 * MinutesPerHour * 9},
		{"a sum of fractions that is not a round number comes back", filled(func(i int) float64 { return 0.1 * float64(i) }, constant(0.1+0.2)), 0},
		{"huge values come back", filled(constant(1e300), constant(math.MaxFloat64)), 0},
		{"negative values come back", filled(constant(-3), constant(-0.25)), 0},
		{"2^52−1 is the largest value stored as an integer", filled(constant(maxExactInt-1), constant(maxExactInt-2)), 0},
		{"2^52 and above are stored as floats", filled(constant(maxExactInt), constant(maxExactInt+2)), 2 * MinutesPerHour * 9},
		{"2^53+2 and 2^64 come back", filled(constant(1<<53+2), constant(1<<64)), 0},
		{"infinities come back", filled(constant(math.Inf(1)), constant(math.Inf(-1))), 0},
		{"the smallest subnormal comes back", filled(constant(math.SmallestNonzeroFloat64), constant(-math.SmallestNonzeroFloat64)), 0},
		{"a mix of every kind comes back in its minute", filled(func(i int) float64 {
			return []float64{0, 1, 0.5, 1e300, -3, maxExactInt - 1, maxExactInt, 1e-9, 127, 128}[i%10]
		}, func(i int) float64 { return []float64{1e-9, -3, 0, 1 << 60, 7}[i%5] }), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encodeMinutes(&tt.h)
			if tt.size != 0 && len(b) != tt.size {
				t.Errorf("encoded in %d bytes, want %d", len(b), tt.size)
			}
			var got HistoryHour
			if err := decodeMinutes(b, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if i := sameMinutes(&got, &tt.h); i >= 0 {
				t.Errorf("minute %d came back as {%v %v}, want {%v %v}", i, got.Valid[i], got.Bad[i], tt.h.Valid[i], tt.h.Bad[i])
			}
		})
	}
}

func TestMinutesMalformed(t *testing.T) {
	good := encodeMinutes(new(filled(func(i int) float64 { return float64(i) + 0.5 }, func(i int) float64 { return float64(300 * i) })))
	quiet := encodeMinutes(new(filled(constant(0), constant(0))))
	tests := []struct {
		name string
		blob []byte
	}{
		{"an empty blob", nil},
		{"a blob cut after one value", good[:9]},
		{"a blob cut inside a float", good[:len(good)-3]},
		{"a blob cut by one byte", good[:len(good)-1]},
		{"a blob one value short", quiet[:len(quiet)-1]},
		{"a trailing byte", append(slices.Clone(quiet), 0)},
		{"a value after the 120th", append(slices.Clone(good), good[:9]...)},
		{"a varint never ended", bytes.Repeat([]byte{0x80}, 5)},
		{"a varint that overflows 64 bits", append(bytes.Repeat([]byte{0xff}, 10), 0x01)},
		{"an odd tag other than the float marker", append([]byte{3}, quiet[1:]...)},
		{"the float marker without its eight bytes", []byte{1, 0, 0, 0}},
		{"garbage", []byte("this is not a minutes blob at all, it is text")},
		{"every byte 0xff", bytes.Repeat([]byte{0xff}, 2*MinutesPerHour*9)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an error", func(t *testing.T) {
			var h HistoryHour
			if err := decodeMinutes(tt.blob, &h); !errors.Is(err, errMinutesBlob) {
				t.Errorf("decode: %v, want errMinutesBlob", err)
			}
		})
	}
}

func FuzzMinutes(f *testing.F) {
	f.Add([]byte{})
	f.Add(encodeMinutes(new(filled(constant(0), constant(0)))))
	f.Add(encodeMinutes(new(filled(func(i int) float64 { return float64(i * 1000) }, constant(0.5)))))
	f.Add(encodeMinutes(new(filled(constant(maxExactInt), constant(-3)))))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) // a NaN, then nothing
	f.Fuzz(func(t *testing.T, b []byte) {
		var h HistoryHour
		if decodeMinutes(b, &h) != nil {
			return
		}
		// A blob may spell a value in more than one way (a whole number as
		// a float, a varint with redundant bytes): what it decodes to
		// re-encodes to the same values, in the canonical spelling.
		again := encodeMinutes(&h)
		var h2 HistoryHour
		if err := decodeMinutes(again, &h2); err != nil {
			t.Fatalf("a decoded hour re-encodes to a blob that does not decode: %v", err)
		}
		for i := range MinutesPerHour {
			// A negative zero comes back as a positive one: the encoder
			// takes it for the whole number 0.
			if !sameValue(h.Valid[i], h2.Valid[i]) || !sameValue(h.Bad[i], h2.Bad[i]) {
				t.Fatalf("minute %d: {%v %v} came back as {%v %v}", i, h.Valid[i], h.Bad[i], h2.Valid[i], h2.Bad[i])
			}
		}
		if !bytes.Equal(encodeMinutes(&h2), again) {
			t.Fatal("the canonical blob re-encodes differently")
		}
	})
}

// sameValue is bit equality, but for zeros of either sign.
func sameValue(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || a == 0 && b == 0
}

// slo-a and slo-b hold the instances of the history tests; the keys are
// opaque bytes, a NUL and non-UTF-8 included, and sort bytewise.
var (
	histA = InstanceKey{SLO: "slo-a", Key: "db-1\x00\xff"}
	histB = InstanceKey{SLO: "slo-a", Key: "db-0"}
	histC = InstanceKey{SLO: "slo-a", Key: "db-2"}
	histO = InstanceKey{SLO: "slo-b", Key: "db-1\x00\xff"} // A's key, another SLO
)

// histHour is instance k's hour with minutes derived from seed, so that
// every (instance, hour) has its own values.
func histHour(k InstanceKey, hour int64, seed float64, codes ...HourCode) HistoryHour {
	h := filled(func(i int) float64 { return seed*1000 + float64(i) }, func(i int) float64 { return seed + float64(i)/8 })
	h.Instance, h.Hour, h.Codes = k, hour, codes
	return h
}

func code(c string, n float64) HourCode {
	return HourCode{Code: c, Class: "platform", Rule: "rule-" + c, Count: n}
}

// readHistory is the hours History gives, copied.
func readHistory(t testing.TB, db *DB, k InstanceKey, from, to int64) []HistoryHour {
	t.Helper()
	var hs []HistoryHour
	if err := db.History(context.Background(), k, from, to, func(h *HistoryHour) error {
		hs = append(hs, *h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return hs
}

// checkHours fails t unless got has the hours of want, in order, with the
// same minutes bit for bit and no codes (History leaves them to
// HistoryCodes); want's codes are not compared.
func checkHours(t testing.TB, got, want []HistoryHour) {
	t.Helper()
	checkSlice(t, "hours", got, want, func(a, b HistoryHour) bool {
		return a.Instance == b.Instance && a.Hour == b.Hour && sameMinutes(&a, &b) < 0 && len(a.Codes) == 0
	})
}

func readCodes(t testing.TB, db *DB, slo string, key *string, from, to int64) []CodeTotal {
	t.Helper()
	var cs []CodeTotal
	if err := db.HistoryCodes(context.Background(), slo, key, from, to, func(c CodeTotal) error {
		cs = append(cs, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return cs
}

func total(k InstanceKey, c string, n float64) CodeTotal {
	return CodeTotal{Instance: k, Code: c, Class: "platform", Rule: "rule-" + c, Count: n}
}

func checkCodes(t testing.TB, got, want []CodeTotal) {
	t.Helper()
	checkSlice(t, "codes", got, want, func(a, b CodeTotal) bool { return a == b })
}

// instanceRows are the keys of the instances table, sorted.
func instanceRows(t testing.TB, db *DB) []InstanceKey {
	t.Helper()
	ids, err := loadIDs(context.Background(), db.r)
	if err != nil {
		t.Fatal(err)
	}
	return slices.SortedFunc(maps.Keys(ids), func(a, b InstanceKey) int {
		return strings.Compare(a.SLO+"\x00"+a.Key, b.SLO+"\x00"+b.Key)
	})
}

func TestHistoryReadBack(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	a100 := histHour(histA, 100, 1, code("500", 3), code("503", 1))
	a101 := histHour(histA, 101, 2, code("500", 4))
	a103 := histHour(histA, 103, 3) // no codes
	b101 := histHour(histB, 101, 4, code("503", 0.5), code("429", 2))
	b102 := histHour(histB, 102, 5, code("503", 7))
	o101 := histHour(histO, 101, 6, code("500", 100))
	// The cycle lists the hours out of order: the reads sort them.
	c := Cycle{Time: cycleTime(1), History: []HistoryHour{a103, b102, a100, o101, b101, a101},
		HistoryCursors: map[string]int64{"slo-a": 104, "slo-b": 102}}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}

	t.Run("History gives an instance's hours in [from, to), in hour order", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			k        InstanceKey
			from, to int64
			want     []HistoryHour
		}{
			{"every hour of A", histA, 0, 1 << 40, []HistoryHour{a100, a101, a103}},
			{"from is inclusive", histA, 101, 1 << 40, []HistoryHour{a101, a103}},
			{"to is exclusive", histA, 100, 103, []HistoryHour{a100, a101}},
			{"a one-hour range is that hour", histA, 103, 104, []HistoryHour{a103}},
			{"an hour without a row is skipped", histA, 102, 103, nil},
			{"an empty range is empty", histA, 101, 101, nil},
			{"a range after every hour is empty", histA, 104, 200, nil},
			{"B's hours are B's", histB, 0, 1 << 40, []HistoryHour{b101, b102}},
			{"the same key in another SLO is another instance", histO, 0, 1 << 40, []HistoryHour{o101}},
			{"an instance without history has none", histC, 0, 1 << 40, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkHours(t, readHistory(t, db, tt.k, tt.from, tt.to), tt.want)
			})
		}
	})

	t.Run("an error from fn stops History and is returned", func(t *testing.T) {
		stop := errors.New("enough")
		calls := 0
		err := db.History(ctx, histA, 0, 1<<40, func(*HistoryHour) error { calls++; return stop })
		if err != stop || calls != 1 {
			t.Errorf("got %v after %d calls, want fn's error after 1", err, calls)
		}
	})

	t.Run("HistoryInstances lists the instances with history in range, in key order", func(t *testing.T) {
		for _, tt := range []struct {
			name     string
			slo      string
			from, to int64
			want     []InstanceKey
		}{
			{"both instances of slo-a, B's key first", "slo-a", 0, 1 << 40, []InstanceKey{histB, histA}},
			{"only A has hour 100", "slo-a", 100, 101, []InstanceKey{histA}},
			{"only B has hour 102", "slo-a", 102, 103, []InstanceKey{histB}},
			{"to is exclusive", "slo-a", 103, 103, nil},
			{"from is inclusive", "slo-a", 103, 104, []InstanceKey{histA}},
			{"another SLO lists its own", "slo-b", 0, 1 << 40, []InstanceKey{histO}},
			{"an SLO without history lists none", "slo-c", 0, 1 << 40, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.HistoryInstances(ctx, tt.slo, tt.from, tt.to)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("HistoryInstances(%s, %d, %d) = %q, want %q", tt.slo, tt.from, tt.to, got, tt.want)
				}
			})
		}
	})

	t.Run("HistoryCodes sums each instance's codes over the hours, in instance then code order", func(t *testing.T) {
		a, none := histA.Key, "db-9"
		for _, tt := range []struct {
			name     string
			slo      string
			key      *string
			from, to int64
			want     []CodeTotal
		}{
			{"every instance over every hour", "slo-a", nil, 0, 1 << 40, []CodeTotal{
				total(histB, "429", 2), total(histB, "503", 7.5),
				total(histA, "500", 7), total(histA, "503", 1),
			}},
			{"one instance with the key set", "slo-a", &a, 0, 1 << 40, []CodeTotal{total(histA, "500", 7), total(histA, "503", 1)}},
			{"from is inclusive", "slo-a", nil, 101, 1 << 40, []CodeTotal{
				total(histB, "429", 2), total(histB, "503", 7.5), total(histA, "500", 4),
			}},
			{"to is exclusive", "slo-a", nil, 0, 102, []CodeTotal{
				total(histB, "429", 2), total(histB, "503", 0.5),
				total(histA, "500", 7), total(histA, "503", 1),
			}},
			{"one hour of one instance", "slo-a", &a, 100, 101, []CodeTotal{total(histA, "500", 3), total(histA, "503", 1)}},
			{"an hour without codes has none", "slo-a", &a, 103, 104, nil},
			{"the key is of the SLO asked", "slo-b", &a, 0, 1 << 40, []CodeTotal{total(histO, "500", 100)}},
			{"a key without history has none", "slo-a", &none, 0, 1 << 40, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				checkCodes(t, readCodes(t, db, tt.slo, tt.key, tt.from, tt.to), tt.want)
			})
		}
	})

	t.Run("Load returns the history cursors", func(t *testing.T) {
		st, err := db.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"slo-a": 104, "slo-b": 102}; !maps.Equal(st.HistoryCursors, want) {
			t.Errorf("HistoryCursors = %v, want %v", st.HistoryCursors, want)
		}
		// A later cycle moves one cursor and leaves the other.
		if err := db.Commit(ctx, Cycle{Time: cycleTime(2), HistoryCursors: map[string]int64{"slo-b": 105}}); err != nil {
			t.Fatal(err)
		}
		if st, err = db.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"slo-a": 104, "slo-b": 105}; !maps.Equal(st.HistoryCursors, want) {
			t.Errorf("after moving slo-b's cursor, HistoryCursors = %v, want %v", st.HistoryCursors, want)
		}
	})
}

func TestHistoryRewriteReplaces(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	first := histHour(histA, 10, 1, code("500", 3), code("503", 1))
	other := histHour(histA, 11, 2, code("503", 9))
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1), History: []HistoryHour{first, other}}); err != nil {
		t.Fatal(err)
	}
	again := histHour(histA, 10, 7, code("500", 2))
	if err := db.Commit(ctx, Cycle{Time: cycleTime(2), History: []HistoryHour{again}}); err != nil {
		t.Fatal(err)
	}
	t.Run("the minutes of the hour are the new ones", func(t *testing.T) {
		checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{again, other})
	})
	t.Run("the codes of the hour are the new ones, not added to the old", func(t *testing.T) {
		checkCodes(t, readCodes(t, db, "slo-a", nil, 10, 11), []CodeTotal{total(histA, "500", 2)})
	})
	t.Run("the codes of the other hour stay", func(t *testing.T) {
		checkCodes(t, readCodes(t, db, "slo-a", nil, 11, 12), []CodeTotal{total(histA, "503", 9)})
	})
	t.Run("the same code twice in one hour adds up", func(t *testing.T) {
		h := histHour(histA, 12, 3, code("500", 2), code("500", 5))
		if err := db.Commit(ctx, Cycle{Time: cycleTime(3), History: []HistoryHour{h}}); err != nil {
			t.Fatal(err)
		}
		checkCodes(t, readCodes(t, db, "slo-a", nil, 12, 13), []CodeTotal{total(histA, "500", 7)})
	})
}

func TestSnapshotKeepsInstancesWithHistory(t *testing.T) {
	ctx := context.Background()
	top := t
	db, path := openTemp(t)
	je := func(k InstanceKey, minute int64, n float64) JournalEntry {
		return JournalEntry{Instance: k, Minute: minute, Total: n}
	}
	snap := func(k InstanceKey) Snapshot { return Snapshot{Instance: k, Labels: "{}", State: []byte(k.Key)} }
	// A has history, B only a journal, C a snapshot; the snapshot cycle
	// snapshots C alone.
	a5 := histHour(histA, 5, 1, code("500", 1))
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1),
		Journal: []JournalEntry{je(histA, 300, 1), je(histB, 300, 2), je(histC, 300, 3)},
		History: []HistoryHour{a5}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Commit(ctx, Cycle{Time: cycleTime(2), Snapshots: []Snapshot{snap(histC)}}); err != nil {
		t.Fatal(err)
	}

	t.Run("an instance with history keeps its row and its history", func(t *testing.T) {
		if got, want := instanceRows(t, db), []InstanceKey{histA, histC}; !slices.Equal(got, want) {
			t.Errorf("instances %q, want %q: A for its history, C for its snapshot", got, want)
		}
		checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{a5})
		checkCodes(t, readCodes(t, db, "slo-a", nil, 0, 100), []CodeTotal{total(histA, "500", 1)})
		if got, err := db.HistoryInstances(ctx, "slo-a", 0, 100); err != nil || !slices.Equal(got, []InstanceKey{histA}) {
			t.Errorf("HistoryInstances = %q, %v; want A", got, err)
		}
	})

	t.Run("the kept instance and the forgotten one can count again", func(t *testing.T) {
		a6 := histHour(histA, 6, 2)
		b6 := histHour(histB, 6, 3)
		c := Cycle{Time: cycleTime(3),
			Journal: []JournalEntry{je(histA, 400, 4), je(histB, 400, 5)},
			History: []HistoryHour{a6, b6}}
		if err := db.Commit(ctx, c); err != nil {
			t.Fatalf("a journal and history for the kept instance: %v", err)
		}
		st, err := db.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkSlice(t, "Journal", st.Journal, c.Journal, func(a, b JournalEntry) bool { return a == b })
		checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{a5, a6})
		checkHours(t, readHistory(t, db, histB, 0, 100), []HistoryHour{b6})
	})

	t.Run("after a reopen the kept instance's id is read back and serves", func(t *testing.T) {
		db.Close()
		var err error
		if db, err = Open(path); err != nil {
			t.Fatal(err)
		}
		top.Cleanup(func() { db.Close() })
		if err := db.Commit(ctx, Cycle{Time: cycleTime(4), Journal: []JournalEntry{je(histA, 500, 6)},
			History: []HistoryHour{histHour(histA, 7, 4)}}); err != nil {
			t.Fatal(err)
		}
		if n := len(readHistory(t, db, histA, 0, 100)); n != 3 {
			t.Errorf("A has %d hours, want 3", n)
		}
	})

	t.Run("an instance whose history was pruned away is forgotten at the next snapshot", func(t *testing.T) {
		if err := db.PruneHistory(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if err := db.Commit(ctx, Cycle{Time: cycleTime(5), Snapshots: []Snapshot{snap(histC)}}); err != nil {
			t.Fatal(err)
		}
		if got, want := instanceRows(t, db), []InstanceKey{histC}; !slices.Equal(got, want) {
			t.Errorf("instances %q, want %q", got, want)
		}
		// And A comes back as a new instance.
		if err := db.Commit(ctx, Cycle{Time: cycleTime(6), Journal: []JournalEntry{je(histA, 600, 1)},
			History: []HistoryHour{histHour(histA, 9, 5)}}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSnapshotCycleWritesHistoryOfAnInstanceItOmits commits, in one
// snapshot cycle, the first hour of history of a known instance the
// snapshot leaves out: the hour is kept, and so is the instance.
func TestSnapshotCycleWritesHistoryOfAnInstanceItOmits(t *testing.T) {
	// writeSnapshots deletes the instance's row (it has no snapshot and no
	// history yet), then writeHistory takes its id from the ids known
	// before the cycle and the insert fails its foreign key, at every
	// retry of the same cycle.
	ctx := context.Background()
	db, _ := openTemp(t)
	snapC := Snapshot{Instance: histC, Labels: "{}", State: []byte("c")}
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1),
		Journal: []JournalEntry{{Instance: histA, Minute: 300, Total: 1}, {Instance: histC, Minute: 300, Total: 1}}}); err != nil {
		t.Fatal(err)
	}
	a5 := histHour(histA, 5, 1, code("500", 1))
	if err := db.Commit(ctx, Cycle{Time: cycleTime(2), Snapshots: []Snapshot{snapC}, History: []HistoryHour{a5}}); err != nil {
		t.Fatalf("a snapshot cycle with the history of an instance it leaves out: %v", err)
	}
	checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{a5})
	if got, want := instanceRows(t, db), []InstanceKey{histA, histC}; !slices.Equal(got, want) {
		t.Errorf("instances %q, want %q", got, want)
	}
}

func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	var c Cycle
	c.Time = cycleTime(1)
	for h := int64(5); h <= 9; h++ {
		c.History = append(c.History,
			histHour(histA, h, float64(h), code("500", float64(h))),
			histHour(histB, h, float64(h)+0.5, code("503", 1)))
	}
	if err := db.Commit(ctx, c); err != nil {
		t.Fatal(err)
	}
	hours := func(k InstanceKey) []int64 {
		var hs []int64
		for _, h := range readHistory(t, db, k, 0, 100) {
			hs = append(hs, h.Hour)
		}
		return hs
	}
	for _, tt := range []struct {
		name   string
		before int64
		hours  []int64
		codes  []CodeTotal
	}{
		{"pruning before the first hour deletes nothing", 5, []int64{5, 6, 7, 8, 9},
			[]CodeTotal{total(histB, "503", 5), total(histA, "500", 35)}},
		{"pruning before hour 7 deletes hours 5 and 6 of both tables", 7, []int64{7, 8, 9},
			[]CodeTotal{total(histB, "503", 3), total(histA, "500", 24)}},
		{"pruning the same again changes nothing", 7, []int64{7, 8, 9},
			[]CodeTotal{total(histB, "503", 3), total(histA, "500", 24)}},
		{"pruning before hour 9 keeps hour 9", 9, []int64{9},
			[]CodeTotal{total(histB, "503", 1), total(histA, "500", 9)}},
		{"pruning after the last hour deletes all", 10, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.PruneHistory(ctx, tt.before); err != nil {
				t.Fatal(err)
			}
			for _, k := range []InstanceKey{histA, histB} {
				if got := hours(k); !slices.Equal(got, tt.hours) {
					t.Errorf("%q has hours %v, want %v", k.Key, got, tt.hours)
				}
			}
			checkCodes(t, readCodes(t, db, "slo-a", nil, 0, 100), tt.codes)
		})
	}
	// The minutes of what is kept are untouched.
	if err := db.Commit(ctx, Cycle{Time: cycleTime(2), History: []HistoryHour{histHour(histA, 20, 1), histHour(histA, 21, 2)}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PruneHistory(ctx, 21); err != nil {
		t.Fatal(err)
	}
	checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{histHour(histA, 21, 2)})
}

func TestHistoryNaNRefused(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		spoil func(h *HistoryHour)
		says  string
	}{
		{"a NaN valid count in the first minute", func(h *HistoryHour) { h.Valid[0] = math.NaN() }, "minute 0"},
		{"a NaN bad count in the last minute", func(h *HistoryHour) { h.Bad[MinutesPerHour-1] = math.NaN() }, "minute 59"},
		{"a NaN code count", func(h *HistoryHour) { h.Codes[1].Count = math.NaN() }, `code "503"`},
	} {
		t.Run(tt.name+" fails the commit and leaves the file as it was", func(t *testing.T) {
			db, _ := openTemp(t)
			kept := histHour(histA, 10, 1, code("500", 3))
			if err := db.Commit(ctx, Cycle{Time: cycleTime(1), History: []HistoryHour{kept},
				HistoryCursors: map[string]int64{"slo-a": 11}}); err != nil {
				t.Fatal(err)
			}
			before, err := db.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			good := histHour(histB, 10, 2, code("500", 1))
			bad := histHour(histA, 10, 3, code("500", 1), code("503", 2))
			tt.spoil(&bad)
			err = db.Commit(ctx, Cycle{Time: cycleTime(2),
				Journal:        []JournalEntry{{Instance: histC, Minute: 600, Total: 1}},
				History:        []HistoryHour{good, bad},
				HistoryCursors: map[string]int64{"slo-a": 12}})
			if err == nil {
				t.Fatal("Commit succeeded, want an error")
			}
			if !strings.Contains(err.Error(), "NaN") || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say NaN and %s", err, tt.says)
			}
			after, err := db.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkState(t, after, before)
			if !maps.Equal(after.HistoryCursors, before.HistoryCursors) {
				t.Errorf("HistoryCursors = %v, want %v", after.HistoryCursors, before.HistoryCursors)
			}
			checkHours(t, readHistory(t, db, histA, 0, 100), []HistoryHour{kept})
			checkHours(t, readHistory(t, db, histB, 0, 100), nil)
			checkCodes(t, readCodes(t, db, "slo-a", nil, 0, 100), []CodeTotal{total(histA, "500", 3)})
			if got, want := instanceRows(t, db), []InstanceKey{histA}; !slices.Equal(got, want) {
				t.Errorf("instances %q, want %q", got, want)
			}
		})
	}
}

// TestHistoryBlobIsTheFormat reads a stored row raw: the table holds the
// documented encoding, so a reader of the file needs no more than it.
func TestHistoryBlobIsTheFormat(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	h := filled(func(i int) float64 { return float64(i) }, constant(0.5))
	h.Instance, h.Hour = histA, 42
	if err := db.Commit(ctx, Cycle{Time: cycleTime(1), History: []HistoryHour{h}}); err != nil {
		t.Fatal(err)
	}
	var blob []byte
	if err := db.r.QueryRowContext(ctx, `SELECT minutes FROM history WHERE hour = 42`).Scan(&blob); err != nil {
		t.Fatal(err)
	}
	var want []byte
	for i := range MinutesPerHour {
		want = binary.AppendUvarint(want, uint64(i)<<1)
		want = append(want, 1)
		want = binary.LittleEndian.AppendUint64(want, math.Float64bits(0.5))
	}
	if !bytes.Equal(blob, want) {
		t.Errorf("stored blob %s…, want %s…", fmt.Sprintf("%x", blob[:min(len(blob), 24)]), fmt.Sprintf("%x", want[:24]))
	}
}
