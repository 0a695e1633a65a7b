package burnrate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

const (
	t0 = int64(1_762_300_800_000) // 2025-11-05T00:00:00Z, a whole minute
	m  = minuteMS
)

func TestMinuteOf(t *testing.T) {
	tests := []struct {
		name string
		ms   int64
		want int64
	}{
		{"a whole minute is the bucket that ends at it", t0, t0 / m},
		{"one millisecond later is the next bucket", t0 + 1, t0/m + 1},
		{"one millisecond before is the bucket ending at t0", t0 - 1, t0 / m},
		{"a scrape at :15 belongs to the bucket ending at the next minute", t0 + 15000, t0/m + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MinuteOf(tt.ms); got != tt.want {
				t.Errorf("MinuteOf(%d) = %d, want %d", tt.ms, got, tt.want)
			}
		})
	}
}

func TestWindowEdges(t *testing.T) {
	// One bad event in an otherwise constant stream; the window (T−W, T]
	// holds it exactly when its time is after T−W and at or before T.
	const w = 5 // minutes
	T := t0 + 60*m
	tests := []struct {
		name    string
		at      int64 // time of the bad event
		inside  bool
		windowM int64
	}{
		{"an event exactly at T−W is outside", T - w*m, false, w},
		{"an event at T is inside", T, true, w},
		{"an event one minute after T−W is inside", T - (w-1)*m, true, w},
		{"an event one minute before T−W is outside", T - (w+1)*m, false, w},
		{"an event exactly at T−6h is outside the 6h window", T - 360*m, false, 360},
		{"an event one minute after T−6h is inside the 6h window", T - 359*m, true, 360},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(NewLayout(6*time.Hour, 30*24*time.Hour))
			for ts := T - 400*m; ts <= T; ts += m {
				d := Counts{Valid: 10}
				if ts == tt.at {
					d.Bad = 1
				}
				s.Add(MinuteOf(ts), d)
			}
			got := s.Sum(MinuteOf(T), tt.windowM)
			if want := float64(10 * tt.windowM); got.Valid != want {
				t.Errorf("valid = %v, want %v", got.Valid, want)
			}
			if (got.Bad == 1) != tt.inside {
				t.Errorf("bad = %v, want inside=%v", got.Bad, tt.inside)
			}
		})
	}
}

func TestStoreGapsAndLateEvents(t *testing.T) {
	s := NewStore(NewLayout(6*time.Hour, 30*24*time.Hour))
	k := t0 / m
	s.Add(k, Counts{Valid: 5})
	s.Add(k+10, Counts{Valid: 7, Bad: 1}) // ten minutes later, nothing between
	if got := s.Sum(k+10, 9); got != (Counts{7, 1}) {
		t.Errorf("a window over the gap sums %v, want {7 1}", got)
	}
	s.Add(k+3, Counts{Valid: 2}) // late: counts from minute k+3 on
	if got := s.Sum(k+10, 8); got != (Counts{9, 1}) {
		t.Errorf("after a late event the window sums %v, want {9 1}", got)
	}
	if got := s.Sum(k+2, 5); got != (Counts{5, 0}) {
		t.Errorf("a window ending before the late event sums %v, want {5 0}", got)
	}
	// A gap longer than the fine ring keeps the totals.
	s.Add(k+2000, Counts{Valid: 1})
	if got := s.Sum(k+2000, 360); got != (Counts{1, 0}) {
		t.Errorf("after a long gap the 6h window sums %v, want {1 0}", got)
	}
	if got := s.Sum(k+2000, 3*24*60); got.Valid != 15 {
		t.Errorf("after a long gap the 3d window holds %v valid events, want 15", got.Valid)
	}
}

// TestLongWindowBound checks the stated bound: a window whose far edge lies
// beyond the fine ring is off by at most the events of one coarse bucket.
func TestLongWindowBound(t *testing.T) {
	l := NewLayout(6*time.Hour, 30*24*time.Hour)
	s := NewStore(l)
	rng := rand.New(rand.NewPCG(1, 2))
	const minutes = 35 * 24 * 60
	valid := make([]float64, minutes)
	bad := make([]float64, minutes)
	k0 := t0 / m
	for i := range minutes {
		valid[i] = float64(rng.IntN(1000))
		if rng.IntN(50) == 0 {
			bad[i] = float64(rng.IntN(200))
		}
		s.Add(k0+int64(i), Counts{valid[i], bad[i]})
	}
	head := k0 + minutes - 1
	sum := func(xs []float64, from, to int64) (t float64) { // minutes (from, to]
		for k := from + 1; k <= to; k++ {
			t += xs[k-k0]
		}
		return t
	}
	for _, w := range []int64{60, 360, 24 * 60, 3 * 24 * 60, 30 * 24 * 60} {
		got := s.Sum(head, w)
		edge := head - w
		b := edge / l.Step * l.Step
		bucketV, bucketB := sum(valid, b, min(b+l.Step, head)), sum(bad, b, min(b+l.Step, head))
		wantV, wantB := sum(valid, edge, head), sum(bad, edge, head)
		exact := w < l.Fine
		if exact && (got.Valid != wantV || got.Bad != wantB) {
			t.Errorf("%dm window: got %v, want exactly {%v %v}", w, got, wantV, wantB)
		}
		if d := got.Valid - wantV; d > bucketV || -d > bucketV {
			t.Errorf("%dm window: valid off by %v, more than one coarse bucket (%v)", w, d, bucketV)
		}
		if d := got.Bad - wantB; d > bucketB || -d > bucketB {
			t.Errorf("%dm window: bad off by %v, more than one coarse bucket (%v)", w, d, bucketB)
		}
	}
}

func TestLayoutFitsBudget(t *testing.T) {
	for _, period := range []time.Duration{7 * 24 * time.Hour, 28 * 24 * time.Hour, 30 * 24 * time.Hour, 90 * 24 * time.Hour} {
		l := NewLayout(6*time.Hour, period)
		if period <= 30*24*time.Hour && l.Bytes() > MaxInstanceBytes {
			t.Errorf("a %v period takes %d bytes per instance, over %d", period, l.Bytes(), MaxInstanceBytes)
		}
		if l.Fine < 361 {
			t.Errorf("a %v period keeps %d fine minutes; 6h windows need 361", period, l.Fine)
		}
		if (l.Coarse-2)*l.Step*int64(time.Minute) < int64(period) {
			t.Errorf("a %v period retains only %d×%dm", period, l.Coarse, l.Step)
		}
	}
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	if n := instanceBytes(NewSpec(cfg.SLOs[0], cfg.Classify.Surge)); n > MaxInstanceBytes {
		t.Errorf("a 30d instance with its surge guard takes %d bytes, over %d", n, MaxInstanceBytes)
	}
	if got := NewLayout(6*time.Hour, 7*24*time.Hour).Step; got != 60 {
		t.Errorf("a 7d period gets %dm coarse buckets, want the finest, 60m", got)
	}
}
