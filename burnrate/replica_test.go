package burnrate

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

const hourMS = 60 * m

func TestHourOf(t *testing.T) {
	h := t0 / hourMS // t0 is a whole hour
	tests := []struct {
		name   string
		minute int64
		want   int64
	}{
		{"minute 1 is the first of hour 0", 1, 0},
		{"minute 60 is the last of hour 0", 60, 0},
		{"minute 61 is the first of hour 1", 61, 1},
		{"minute 120 is the last of hour 1", 120, 1},
		{"minute 121 is the first of hour 2", 121, 2},
		{"a sample exactly at an hour's end belongs to that hour", MinuteOf(t0), h - 1},
		{"a sample one millisecond after an hour's end belongs to the next", MinuteOf(t0 + 1), h},
		{"a sample one millisecond before the next hour's end belongs to this one", MinuteOf(t0 + hourMS - 1), h},
		{"a sample at the next hour's end still does", MinuteOf(t0 + hourMS), h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HourOf(tt.minute); got != tt.want {
				t.Errorf("HourOf(%d) = %d, want %d", tt.minute, got, tt.want)
			}
		})
	}
}

// randomEvents are the events of an instance at random times: several a
// minute at random offsets, with quiet minutes, quiet hours and one quiet
// stretch longer than the fine ring, bursts of platform failures, and
// events that count nothing (all user faults).
func randomEvents(rng *rand.Rand, from, to int64, emit func(ts int64, e Events)) {
	gapDone := false
	for ts := from; ts < to; {
		total := rng.IntN(1000)
		user := rng.IntN(total/20 + 1)
		e := Events{Total: float64(total), User: float64(user), Ignore: float64(rng.IntN(min(3, total-user+1)))}
		switch r := rng.IntN(100); {
		case r < 3:
			e.Platform = float64(rng.IntN(total + 1))
		case r < 20:
			e.Platform = float64(rng.IntN(5))
		case r < 22:
			e = Events{Total: 4, User: 4} // valid and bad both zero
		}
		emit(ts, e)
		switch r := rng.IntN(1000); {
		case r == 0 && !gapDone && ts > from+24*hourMS:
			ts += 7*hourMS + rng.Int64N(m) // beyond the fine ring
			gapDone = true
		case r < 3:
			ts += rng.Int64N(3 * hourMS)
		case r < 50:
			ts += rng.Int64N(10 * m)
		default:
			ts += 1 + rng.Int64N(25_000)
		}
	}
}

// seen is what the live instance answered at the end of one minute.
type seen struct {
	rates []Rate
	sums  []Counts // over replicaSums
}

// replicaSums are the windows whose sums the replica test compares: the
// policy's, one of a minute, and ones beyond the fine ring and the period.
// A window just longer than the fine ring (361m to 361m plus the time since
// the instance's last sample) is left out: there the live instance, whose
// newest minute is its last sample, still reads its far edge from the fine
// ring while the replica, fed every minute, interpolates it.
var replicaSums = []time.Duration{time.Minute, 7 * time.Minute, 5 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	6 * time.Hour, 24 * time.Hour, 2000 * time.Minute, 72 * time.Hour, 30 * 24 * time.Hour}

// TestReplicaEqualsTheLiveInstance feeds a live instance random events
// over four and a half days, writes down each hour's minutes as Minutes
// gives them once the hour is complete, and feeds those minutes to a
// replica as an export does, minute by minute: after each minute its sums
// and burn rates are the instance's at the end of that minute, bit for
// bit, over every window, the long ones whose far edges are interpolated
// between coarse boundaries included.
func TestReplicaEqualsTheLiveInstance(t *testing.T) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	in := NewInstance(sp, labels.FromStrings("database", "live"))
	rng := rand.New(rand.NewPCG(7, 11))

	start := t0 + 17*m + 4321 // not on a minute, nor an hour
	end := start + 108*hourMS
	first, last := MinuteOf(start), MinuteOf(end)

	// The live run: at the end of every minute, what the instance answers;
	// at the end of every hour, its minutes.
	want := make(map[int64]seen)
	done := first - 1 // minutes through this one are in want
	observe := func(through int64) {
		for ; done < through; done++ {
			k := done + 1
			s := seen{rates: in.BurnRates(k * m)}
			for _, w := range replicaSums {
				s.sums = append(s.sums, in.Sum(k*m, w))
			}
			want[k] = s
		}
	}
	minutes := make(map[int64]Counts)
	written := HourOf(first) - 1 // hours through this one are in minutes
	write := func(through int64) {
		t.Helper()
		for ; written < through; written++ {
			from := (written + 1) * 60
			calls := 0
			ok := in.Minutes(from, from+60, func(k int64, c Counts) {
				if k != from+1+int64(calls) {
					t.Fatalf("Minutes gave minute %d as the %dth of hour %d", k, calls, written+1)
				}
				calls++
				minutes[k] = c
			})
			if !ok || calls != 60 {
				t.Fatalf("hour %d: Minutes = %v after %d minutes, want true after 60", written+1, ok, calls)
			}
		}
	}
	events, prev, longest := 0, start, int64(0)
	randomEvents(rng, start, end, func(ts int64, e Events) {
		k := MinuteOf(ts)
		observe(k - 1)
		write(HourOf(k) - 1)
		in.Add(ts, e)
		events++
		longest, prev = max(longest, ts-prev), ts
	})
	observe(last)
	write(HourOf(last)) // the last hour, though incomplete
	if longest <= 6*hourMS {
		t.Fatalf("the longest quiet stretch is %v, want one beyond the fine ring", time.Duration(longest)*time.Millisecond)
	}

	// compare fails t unless r at minute k answers what the instance did:
	// bit for bit, or for a window longer than the fine ring and at most
	// reach, within rounding; a window longer than reach is not compared.
	compared, burning := 0, 0
	compare := func(t *testing.T, r *Replica, k int64, reach time.Duration) {
		t.Helper()
		same := func(w time.Duration, a, b float64) bool {
			if math.Float64bits(a) == math.Float64bits(b) {
				return true
			}
			return reach > 0 && int64(w/time.Minute) >= sp.Layout.Fine && math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
		}
		w := want[k]
		got := r.BurnRates(k, nil)
		if len(got) != len(w.rates) || len(got) != len(sp.Windows) {
			t.Fatalf("minute %d: %d replica rates, %d live, want %d", k, len(got), len(w.rates), len(sp.Windows))
		}
		for i, rate := range w.rates {
			if rate.Window != sp.Windows[i] || !same(rate.Window, got[i], rate.Rate) {
				t.Errorf("minute %d: %v burn rate %v, live %v %v", k, sp.Windows[i], got[i], rate.Window, rate.Rate)
			}
			if rate.Rate > 0 {
				burning++
			}
		}
		for i, win := range replicaSums {
			if reach > 0 && win > reach {
				continue
			}
			if got, want := r.Sum(k, win), w.sums[i]; !same(win, got.Valid, want.Valid) || !same(win, got.Bad, want.Bad) {
				t.Errorf("minute %d: %v sum %v, live %v", k, win, got, want)
			}
		}
		compared++
		if t.Failed() {
			t.FailNow()
		}
	}

	t.Run("a replica of the whole history is the instance bit for bit", func(t *testing.T) {
		r := NewReplica(sp)
		for k := first; k <= last; k++ {
			c, ok := minutes[k]
			if !ok {
				t.Fatalf("minute %d was not written", k)
			}
			r.Add(k, c)
			compare(t, r, k, 0)
		}
	})

	t.Run("a replica that starts on a coarse boundary a longest window before is the instance within rounding", func(t *testing.T) {
		// As an export does: the minutes before are left out. The
		// cumulative counts then differ by what those minutes held, and
		// an interpolated far edge rounds differently: the long windows
		// may differ in their last bits.
		step := sp.Layout.Step
		from := first + 11*60
		from -= from % step
		r := NewReplica(sp)
		for k := from + 1; k <= last; k++ {
			r.Add(k, minutes[k])
			if k > from+step+72*60 {
				compare(t, r, k, 72*time.Hour)
			}
		}
	})

	t.Run("a replica fed quiet minutes before the instance's first events still matches it", func(t *testing.T) {
		// An export starts its replica before the incident by the longest
		// window and feeds the hours without a row as quiet ones; for an
		// instance younger than that, the replica's first minute is then
		// earlier than the instance's, and a far edge before the
		// instance's first minute, which the instance counts as exactly
		// nothing, the replica must count as nothing too.
		r := NewReplica(sp)
		for k := first - 60; k <= last; k++ {
			r.Add(k, minutes[k])
			if k >= first {
				compare(t, r, k, 0)
			}
		}
	})

	t.Logf("%d events, %d minutes compared, %d nonzero burn rates", events, compared, burning)
	if burning < compared {
		t.Errorf("only %d nonzero burn rates in %d comparisons: the events do not burn enough to tell", burning, compared)
	}
}

func TestMinutes(t *testing.T) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	fine := sp.Layout.Fine
	if fine != 361 {
		t.Fatalf("the workbook layout keeps %d fine minutes, the cases assume 361", fine)
	}

	// old has 1000 minutes of data, each minute its own counts, and a quiet
	// minute every seventh; young has 100, all within the fine ring.
	k0 := t0/m + 1
	counted := make(map[int64]Counts)
	old := NewInstance(sp, labels.FromStrings("database", "old"))
	young := NewInstance(sp, labels.FromStrings("database", "young"))
	empty := NewInstance(sp, labels.FromStrings("database", "empty"))
	for i := range int64(1000) {
		k := k0 + i
		if i%7 == 3 {
			continue
		}
		c := Counts{Valid: float64(100 + i), Bad: float64(i % 5)}
		// Two events at sub-minute times of the minute.
		old.Add((k-1)*m+1, Events{Total: c.Valid - 10, Platform: c.Bad})
		old.Add(k*m, Events{Total: 12, User: 2})
		counted[k] = c
		if i >= 900 {
			young.Add(k*m-30_000, Events{Total: c.Valid, Platform: c.Bad})
		}
	}
	head := k0 + 999
	if old.store.Head() != head || young.store.Head() != head {
		t.Fatalf("heads %d and %d, want %d", old.store.Head(), young.store.Head(), head)
	}

	tests := []struct {
		name     string
		in       *Instance
		from, to int64
		exact    bool
	}{
		{"a range reaching one minute beyond the fine ring is not exact", old, head - fine, head, false},
		{"the 6h window ending with the newest minute is exact", old, head - fine + 1, head, true},
		{"a range wholly older than the ring is not exact", old, k0 + 10, k0 + 70, false},
		{"a range from before the data into the old part is not exact", old, k0 - 60, k0 + 30, false},
		{"a range ending at the first data minute is not exact", old, k0 - 60, k0, false},
		{"a range ending before the first data is exact, and empty", old, k0 - 120, k0 - 1, true},
		{"an hour within the ring is exact", old, head - 200, head - 140, true},
		{"a range straddling the newest minute is exact", old, head - 30, head + 30, true},
		{"an hour after the newest minute is exact, and empty", old, head + 60, head + 120, true},
		{"a range starting at the newest minute is exact", old, head, head + 60, true},
		{"an instance whose data all lies in the ring is exact from long before", young, head - 5000, head, true},
		{"an instance without data is exact anywhere", empty, k0, k0 + 600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Counts
			next := tt.from + 1
			ok := tt.in.Minutes(tt.from, tt.to, func(k int64, c Counts) {
				if k != next {
					t.Fatalf("fn called for minute %d, want %d", k, next)
				}
				next++
				got = append(got, c)
			})
			if ok != tt.exact {
				t.Fatalf("Minutes(%d, %d) = %v, want %v", tt.from-head, tt.to-head, ok, tt.exact)
			}
			if !ok {
				if len(got) != 0 {
					t.Errorf("Minutes reported false after calling fn %d times, want none", len(got))
				}
				return
			}
			if int64(len(got)) != tt.to-tt.from {
				t.Fatalf("fn called %d times, want %d", len(got), tt.to-tt.from)
			}
			var sum Counts
			for i, c := range got {
				k := tt.from + 1 + int64(i)
				want := Counts{}
				if tt.in != empty && (tt.in == old || k > head-100) {
					want = counted[k]
				}
				if c != want {
					t.Errorf("minute %d (head%+d) = %v, want %v", k, k-head, c, want)
				}
				sum = sum.add(c)
			}
			if w := tt.in.Sum(tt.to*m, time.Duration(tt.to-tt.from)*time.Minute); sum != w {
				t.Errorf("the minutes sum to %v, Sum over the same window is %v", sum, w)
			}
		})
	}
}
