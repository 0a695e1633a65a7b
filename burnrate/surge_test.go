package burnrate

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// surgeFleet builds an SLO with n instances that have a day of 1000
// events a minute with baseline user faults, then an hour in which the
// first surging of them have user faults at ratio.
func surgeFleet(t *testing.T, n, surging int, baseline, ratio float64, cfg slo.Surge) (*Spec, int64) {
	t.Helper()
	c, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Window == 0 {
		cfg = c.Classify.Surge
	}
	sp := NewSpec(c.SLOs[0], cfg)
	var insts []*Instance
	for i := range n {
		insts = append(insts, NewInstance(sp, labels.FromStrings("database", fmt.Sprint("db-", i))))
	}
	ts := t0
	for minute := range 24*60 + 60 {
		ts = t0 + int64(minute)*m
		for i, in := range insts {
			r := baseline
			if minute >= 24*60 && i < surging {
				r = ratio
			}
			in.Add(ts, Events{Total: 1000, User: 1000 * r})
			in.Evaluate(ts, func(Transition) {})
		}
	}
	return sp, ts
}

func TestSurgeGuard(t *testing.T) {
	tests := []struct {
		name          string
		n, surging    int
		baseline, now float64
		cfg           slo.Surge
		fires         bool
	}{
		{"most of the fleet at 40× baseline fires", 20, 18, 0.005, 0.2, slo.Surge{}, true},
		{"one tenant's storm does not fire", 20, 1, 0.005, 0.5, slo.Surge{}, false},
		{"four of twenty is under five instances", 20, 4, 0.005, 0.2, slo.Surge{}, false},
		{"five of two hundred is under 5% of the fleet", 200, 5, 0.005, 0.2, slo.Surge{}, false},
		{"ten of two hundred is 5% and five instances", 200, 10, 0.005, 0.2, slo.Surge{}, true},
		{"9× baseline is not a surge at factor 10", 20, 18, 0.01, 0.09, slo.Surge{}, false},
		{"a clean baseline counts as 0.1%: 2% is 20×", 20, 18, 0, 0.02, slo.Surge{}, true},
		{"a clean baseline counts as 0.1%: 0.5% is only 5×", 20, 18, 0, 0.005, slo.Surge{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, ts := surgeFleet(t, tt.n, tt.surging, tt.baseline, tt.now, tt.cfg)
			var got []Transition
			sp.EvaluateSurge(ts, func(tr Transition) { got = append(got, tr) })
			if fired := len(got) == 1 && got[0].State == Firing; fired != tt.fires {
				t.Fatalf("fired = %v, want %v (%d surging of %d)", fired, tt.fires, sp.surge.surging, tt.n)
			}
			if tt.fires {
				tr := got[0]
				if tr.Alert != UserFaultSurgeAlert || tr.Surging != tt.surging || tr.Fleet != tt.n || tr.Severity != slo.Ticket {
					t.Errorf("transition %+v", tr)
				}
				if want := min(tt.surging, maxSurgeInstances); len(tr.Instances) != want {
					t.Errorf("lists %d instances, want %d", len(tr.Instances), want)
				}
			}
		})
	}
}

func TestSurgeNeedsABaselineAndEnoughEvents(t *testing.T) {
	c, _ := slo.LoadDefault()
	sp := NewSpec(c.SLOs[0], c.Classify.Surge)
	in := NewInstance(sp, labels.FromStrings("database", "new"))
	// A brand-new instance with user faults from its first minute has no
	// baseline to surge from.
	for minute := range 60 {
		ts := t0 + int64(minute)*m
		in.Add(ts, Events{Total: 1000, User: 500})
		in.Evaluate(ts, func(Transition) {})
	}
	if in.Surging() {
		t.Errorf("an instance without a baseline surges")
	}
	// Nine user faults in an hour on a quiet database are not a surge,
	// whatever the ratio.
	quiet := NewInstance(sp, labels.FromStrings("database", "quiet"))
	for minute := range 25 * 60 {
		ts := t0 + int64(minute)*m
		e := Events{Total: 10}
		if minute >= 24*60 && minute%7 == 0 {
			e.User = 1
		}
		quiet.Add(ts, e)
		quiet.Evaluate(ts, func(Transition) {})
	}
	if quiet.Surging() {
		t.Errorf("nine user faults surge")
	}
}

func TestUserFaultsBurnNoBudget(t *testing.T) {
	c, _ := slo.LoadDefault()
	sp := NewSpec(c.SLOs[0], slo.Surge{Disabled: true})
	in := NewInstance(sp, labels.FromStrings("database", "db"))
	var fired int
	for minute := range 3 * 60 {
		ts := t0 + int64(minute)*m
		// Every query fails, all by the user's fault or as noise.
		in.Add(ts, Events{Total: 1000, User: 900, Ignore: 100})
		in.Evaluate(ts, func(Transition) { fired++ })
	}
	if fired != 0 {
		t.Errorf("user faults and noise fired %d alerts", fired)
	}
	if got := in.Sum(t0+179*m, 3600e9); got.Bad != 0 || got.Valid != 0 {
		t.Errorf("the hour counts %+v, want nothing valid and nothing bad", got)
	}
}
