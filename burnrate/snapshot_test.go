package burnrate

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

func TestSnapshotRoundTrip(t *testing.T) {
	cfg, _ := slo.LoadDefault()
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	a := NewInstance(sp, labels.FromStrings("database", "a"))
	var fired int
	for minute := range 300 {
		ts := t0 + int64(minute)*m
		e := Events{Total: 1000, User: 3}
		if minute > 200 {
			e.Platform = 500
		}
		a.Add(ts, e)
		a.Evaluate(ts, func(Transition) { fired++ })
	}
	if fired == 0 {
		t.Fatal("nothing fired before the snapshot")
	}
	blob, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b := NewInstance(sp, labels.FromStrings("database", "a"))
	if err := b.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if b.Totals != a.Totals || b.Alert(slo.Page) != a.Alert(slo.Page) || b.Alert(slo.Ticket) != a.Alert(slo.Ticket) {
		t.Errorf("restored totals %+v alerts %+v, want %+v %+v", b.Totals, b.Alert(slo.Page), a.Totals, a.Alert(slo.Page))
	}
	// The restored instance goes on exactly as the original would.
	var ta, tb []Transition
	for minute := 300; minute < 800; minute++ {
		ts := t0 + int64(minute)*m
		a.Add(ts, Events{Total: 1000})
		b.Add(ts, Events{Total: 1000})
		a.Evaluate(ts, func(t Transition) { ta = append(ta, t) })
		b.Evaluate(ts, func(t Transition) { tb = append(tb, t) })
	}
	if len(ta) == 0 || len(ta) != len(tb) {
		t.Fatalf("original %d transitions, restored %d", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i].Time != tb[i].Time || ta[i].State != tb[i].State || ta[i].Severity != tb[i].Severity {
			t.Errorf("transition %d: original %v %v %v, restored %v %v %v", i, ta[i].Time, ta[i].Severity, ta[i].State, tb[i].Time, tb[i].Severity, tb[i].State)
		}
	}
	for _, w := range []time.Duration{5 * time.Minute, 6 * time.Hour, 72 * time.Hour} {
		ts := t0 + 799*m
		if a.Sum(ts, w) != b.Sum(ts, w) {
			t.Errorf("%v window differs: %v vs %v", w, a.Sum(ts, w), b.Sum(ts, w))
		}
	}

	// Another layout, or a cut snapshot, is refused.
	if err := b.UnmarshalBinary(blob[:len(blob)/2]); err == nil {
		t.Errorf("a truncated snapshot was accepted")
	}
	c := NewInstance(&Spec{SLO: sp.SLO, Layout: NewLayout(6*time.Hour, 7*24*time.Hour)}, labels.EmptyLabels())
	if err := c.UnmarshalBinary(blob); !errors.Is(err, ErrLayoutChanged) {
		t.Errorf("a snapshot of another layout: %v, want ErrLayoutChanged", err)
	}
}

// marshalV1 writes an instance as version 1 did, for the upgrade test.
func marshalV1(in *Instance) []byte {
	b := []byte{1}
	b = in.store.append(b)
	for i := range numSeverities {
		b = append(b, byte(in.alerts[i].State), byte(in.fired[i]))
		b = binary.LittleEndian.AppendUint64(b, uint64(in.alerts[i].Since))
	}
	for _, f := range []float64{in.Totals.Total, in.Totals.User, in.Totals.Ignore, in.Totals.Platform} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	in.surge.flush()
	b = append(b, 1)
	b = in.surge.store.append(b)
	return binary.LittleEndian.AppendUint64(b, uint64(in.surge.judged))
}

// steadyInstance is 31 days of a tenant's traffic, minute by minute, with a
// few failures and user faults and one fractional count.
func steadyInstance(sp *Spec) *Instance {
	in := NewInstance(sp, labels.FromStrings("database", "steady"))
	for minute := range 31 * 24 * 60 {
		e := Events{Total: float64(900 + minute%200), User: float64(minute % 7)}
		if minute%97 == 0 {
			e.Platform = 3
		}
		if minute == 1000 {
			e.Total += 0.5
		}
		in.Add(t0+int64(minute)*m, e)
	}
	return in
}

func TestSnapshotIsCompactAndReadsVersion1(t *testing.T) {
	cfg, _ := slo.LoadDefault()
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	a := steadyInstance(sp)
	blob, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	v1 := marshalV1(a)
	// Steady integer traffic takes a few bytes a count, against 16 in
	// version 1.
	if len(blob)*4 > len(v1) {
		t.Errorf("snapshot is %d bytes, version 1 %d: want at most a quarter", len(blob), len(v1))
	}
	t.Logf("snapshot of 31 days: %d bytes (version 1: %d)", len(blob), len(v1))
	for name, b := range map[string][]byte{"version 2": blob, "version 1": v1} {
		r := NewInstance(sp, labels.FromStrings("database", "steady"))
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.store.head != a.store.head || r.store.start != a.store.start || !slices.Equal(r.store.ring, a.store.ring) ||
			!slices.Equal(r.surge.store.ring, a.surge.store.ring) || r.Totals != a.Totals {
			t.Errorf("%s: restored state differs from the original", name)
		}
	}
	// Every cut of it is refused, not read as something else.
	for n := range len(blob) {
		r := NewInstance(sp, labels.FromStrings("database", "steady"))
		if err := r.UnmarshalBinary(blob[:n]); err == nil {
			t.Fatalf("a snapshot cut to %d of %d bytes was accepted", n, len(blob))
		}
	}
}

func TestSnapshotKeepsASurgeUnderWay(t *testing.T) {
	cfg, _ := slo.LoadDefault()
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	a := NewInstance(sp, labels.FromStrings("database", "a"))
	// A week of a few user faults, then an hour of many.
	var ts int64
	for minute := range 8 * 24 * 60 {
		ts = t0 + int64(minute)*m
		e := Events{Total: 1000, User: 1}
		if minute > 8*24*60-60 {
			e.User = 400
		}
		a.Add(ts, e)
		a.Evaluate(ts, func(Transition) {})
	}
	if !a.Surging() {
		t.Fatal("the instance does not surge before the snapshot")
	}
	blob, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	sp2 := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	b := NewInstance(sp2, labels.FromStrings("database", "a"))
	if err := b.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if !b.Surging() || sp2.surge.surging != 1 {
		t.Errorf("restored: surging %v, guard counts %d; want true, 1", b.Surging(), sp2.surge.surging)
	}
	if eps := sp2.Episodes(); len(eps) != 1 || !eps[0].From.Equal(sp.Episodes()[0].From) || eps[0].Peak != sp.Episodes()[0].Peak {
		t.Errorf("restored episodes %+v, want %+v", eps, sp.Episodes())
	}
}

// TestSnapshotOfAnotherSurgeLayout: a snapshot whose surge guard kept
// another resolution (version 1 kept hours beyond the window) restores the
// instance's history whole; only the guard starts afresh.
func TestSnapshotOfAnotherSurgeLayout(t *testing.T) {
	cfg, _ := slo.LoadDefault()
	old := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	old.surge.layout = Layout{Fine: old.surge.layout.Fine, Step: 12, Coarse: (old.surge.window+old.surge.baseline)/12 + 3}
	a := steadyInstance(old)
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	for name, blob := range map[string][]byte{"version 1": marshalV1(a), "version 2": must(a.MarshalBinary())} {
		b := NewInstance(sp, labels.FromStrings("database", "steady"))
		if err := b.UnmarshalBinary(blob); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(b.store.ring, a.store.ring) || b.Totals != a.Totals {
			t.Errorf("%s: the history was not restored whole", name)
		}
		if b.surge.store.head != 0 {
			t.Errorf("%s: the guard kept a store of another layout", name)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
