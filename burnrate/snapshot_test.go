package burnrate

import (
	"errors"
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
