package burnrate

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// TestBudgetOfAYoungInstance: a steady tenant's full outage costs the same
// minutes of a 99.9% 30d budget (43.2 minutes) whatever its age, since a
// young instance's traffic is extrapolated over the period; an instance
// with the whole period's history is counted as it is.
func TestBudgetOfAYoungInstance(t *testing.T) {
	cfg, err := slo.LoadDefault() // cypher-availability: 99.9% over 30d
	if err != nil {
		t.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	tests := []struct {
		name      string
		age       int64 // minutes of history, 1000 valid events each
		down      int64 // minutes of full outage at its end
		wantValid float64
	}{
		// 180 minutes × 1000, over 43,200 minutes: 43.2 million valid
		// events, a budget of 43,200 failures; 2,000 of them are 2 of
		// its 43.2 minutes (before, 2000 ÷ (0.001 × 180,000) = 11.1
		// budgets, "−1011% left").
		{"a 3-hour-old tenant down for 2 minutes", 180, 2, 43_200_000},
		{"a 10-minute-old tenant down for 1 minute", 10, 1, 43_200_000},
		{"a tenant 1 minute old and down for it", 1, 1, 43_200_000},
		{"a 40-day-old tenant down for 2 minutes: its own period, no extrapolation", 40 * 1440, 2, 43_200_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := NewInstance(sp, labels.FromStrings("database", "db-new"))
			var end int64
			for i := int64(1); i <= tt.age; i++ {
				end = t0 + i*m
				e := Events{Total: 1000}
				if i > tt.age-tt.down {
					e.Platform = 1000
				}
				in.Add(end, e)
			}
			b := in.Budget(end)
			if math.Abs(b.Valid-tt.wantValid) > 1e-6 || math.Abs(b.Allowed-tt.wantValid/1000) > 1e-9 {
				t.Errorf("valid %v, allowed %v; want %v and %v", b.Valid, b.Allowed, tt.wantValid, tt.wantValid/1000)
			}
			// As minutes of the budget's 43.2: consumed × 0.001 × 43,200.
			if got := b.Consumed(b.Period.Bad) * 43.2; math.Abs(got-float64(tt.down)) > 1e-9 {
				t.Errorf("the outage costs %.6f of the budget's 43.2 minutes, want %d", got, tt.down)
			}
			if got, want := in.BudgetRemaining(end), 1-float64(tt.down)/43.2; math.Abs(got-want) > 1e-12 {
				t.Errorf("budget remaining %v, want %v", got, want)
			}
			if tt.age >= 30*1440 && b.Valid != b.Period.Valid {
				t.Errorf("an instance with the whole period's history: valid %v, counted %v", b.Valid, b.Period.Valid)
			}
		})
	}
	t.Run("no valid events leave the whole budget", func(t *testing.T) {
		in := NewInstance(sp, labels.FromStrings("database", "db-user-faults"))
		in.Add(t0+m, Events{Total: 5, User: 5})
		if got := in.BudgetRemaining(t0 + m); got != 1 {
			t.Errorf("budget remaining %v, want 1", got)
		}
	})
}

// TestReplicaBudgetEqualsTheLiveInstance: an export's replica, fed the
// minutes as the stored history holds them (valid and bad) and told when
// the instance's history began, states the budget the live instance does.
// Samples that counted nothing before the first events (a counter's
// baseline) are not history; minutes of user faults alone are, though the
// stored minutes show them as empty.
func TestReplicaBudgetEqualsTheLiveInstance(t *testing.T) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	tests := []struct {
		name      string
		before    Events // the first 20 minutes'
		wantFirst int64  // minute
	}{
		{"samples that counted nothing first", Events{}, 21},
		{"user faults alone first", Events{Total: 5, User: 5}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := NewInstance(sp, labels.FromStrings("database", "db-new"))
			r := NewReplica(sp)
			for i := int64(1); i <= 300; i++ {
				e := Events{Total: 1000}
				switch {
				case i <= 20:
					e = tt.before
				case i > 290:
					e.Platform = 1000
				}
				in.Add(t0+i*m, e)
				r.Add(MinuteOf(t0+i*m), e.Counts())
			}
			if got := in.FirstData()/minuteMS - t0/m; got != tt.wantFirst {
				t.Fatalf("the history begins with minute %d, want %d", got, tt.wantFirst)
			}
			r.Since(in.FirstData() / minuteMS)
			k := MinuteOf(t0 + 300*m)
			if got, want := r.Budget(k), in.Budget(t0+300*m); got != want {
				t.Errorf("the replica's budget %+v, the live instance's %+v", got, want)
			}
			// 280 minutes × 1000 valid over the minutes observed, 10,000
			// failures.
			observed := float64(300 - tt.wantFirst + 1)
			want := 1 - 10_000/(0.001*280_000*43_200/observed)
			if got := in.BudgetRemaining(t0 + 300*m); math.Abs(got-want) > 1e-12 {
				t.Errorf("budget remaining %v, want %v", got, want)
			}
		})
	}
}

// TestAnHoursIncreaseBeginsTheHistoryWithTheHour: a first start reads a
// young instance's older history by the hour; its first hour's events
// began with that hour, as a replay of the same minutes begins them, so
// that both extrapolate its traffic over the same span.
func TestAnHoursIncreaseBeginsTheHistoryWithTheHour(t *testing.T) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	sp := NewSpec(cfg.SLOs[0], cfg.Classify.Surge)
	byMinute := NewInstance(sp, labels.FromStrings("database", "minutes"))
	byHour := NewInstance(sp, labels.FromStrings("database", "hours"))
	for h := int64(1); h <= 20; h++ {
		for i := int64(1); i <= 60; i++ {
			byMinute.Add(t0+((h-1)*60+i)*m, Events{Total: 1000})
		}
		byHour.AddOver(t0+h*hourMS, hourMS, Events{Total: 60_000})
	}
	end := t0 + 20*hourMS
	byMinute.Add(end+m, Events{Total: 1000, Platform: 1000})
	byHour.Add(end+m, Events{Total: 1000, Platform: 1000})
	if byHour.FirstData() != byMinute.FirstData() || byMinute.FirstData() != t0+m {
		t.Errorf("the history by the hour begins at %d, by the minute at %d; want %d", byHour.FirstData(), byMinute.FirstData(), t0+m)
	}
	if a, b := byMinute.BudgetRemaining(end+m), byHour.BudgetRemaining(end+m); math.Abs(a-b) > 1e-12 || math.Abs(a-(1-1/43.2)) > 1e-12 {
		t.Errorf("budget remaining by the minute %v, by the hour %v; want 1 − 1/43.2", a, b)
	}
}
