package service

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/slo"
)

// apiCounterValue returns the value of the series of family name whose label
// key is value (any series when key is ""), or 0 when there is none.
func apiCounterValue(t *testing.T, reg *prometheus.Registry, name, key, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := key == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == key && l.GetValue() == value {
					match = true
				}
			}
			if !match {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func TestMetricsEndpointExposesEveryMetric(t *testing.T) {
	at := newAPITest(t, nil)
	m := at.metrics
	// Vectors show up once they have a series; the loop makes them.
	m.EvaluationDuration.Observe(0.2)
	m.Evaluations.Inc()
	m.SourceErrors.WithLabelValues("prometheus").Inc()
	m.SamplesRead.WithLabelValues("prometheus").Add(1000)
	m.BackfillProgress.WithLabelValues("prometheus").Set(0.5)
	m.StoreBytes.Set(1 << 20)
	m.Transitions.WithLabelValues("burn-rate", "page", "firing").Inc()
	m.SLOInstances.WithLabelValues("cypher-availability").Set(3)
	m.SLOAlertsFiring.WithLabelValues("cypher-availability", "page").Set(1)
	m.SLOBudgetRemainingMin.WithLabelValues("cypher-availability").Set(-0.25)

	r := at.get("/metrics")
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{
		"burnwatch_evaluation_duration_seconds_bucket{",
		"burnwatch_evaluations_total 1",
		`burnwatch_source_errors_total{source="prometheus"} 1`,
		`burnwatch_samples_read_total{source="prometheus"} 1000`,
		`burnwatch_backfill_progress_ratio{source="prometheus"} 0.5`,
		"burnwatch_store_bytes 1.048576e+06",
		"burnwatch_events_accepted_total 0",
		`burnwatch_events_rejected_total{reason="invalid"} 0`,
		`burnwatch_events_rejected_total{reason="store_error"} 0`,
		`burnwatch_events_rejected_total{reason="too_large"} 0`,
		`burnwatch_events_rejected_total{reason="unauthorized"} 0`,
		`burnwatch_transitions_total{alert="burn-rate",severity="page",state="firing"} 1`,
		`burnwatch_slo_instances{slo="cypher-availability"} 3`,
		`burnwatch_slo_alerts_firing{severity="page",slo="cypher-availability"} 1`,
		`burnwatch_slo_budget_remaining_min{slo="cypher-availability"} -0.25`,
		`burnwatch_reports_total{destination="dir",outcome="failed"} 0`,
		`burnwatch_reports_total{destination="receiver",outcome="failed"} 0`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(r.body, "burnwatch_instance_burn_rate") {
		t.Error("/metrics has per-instance series, which are off by default")
	}
}

func TestInstanceBurnRateIsOptIn(t *testing.T) {
	db1 := map[string]string{"database": "db-1", "orchestra": "eu-1"}
	t.Run("records nothing when off", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg, false)
		m.SetInstanceBurnRate("cypher-availability", db1, "5m", 14.4)
		m.ForgetInstance("cypher-availability", db1)
		if m.InstanceBurnRate != nil {
			t.Error("InstanceBurnRate exists when off")
		}
		if got := apiGathered(t, reg); strings.Contains(got, "burnwatch_instance_burn_rate") {
			t.Error("per-instance series registered when off")
		}
	})
	t.Run("records one series per instance and window when on", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg, true)
		m.SetInstanceBurnRate("cypher-availability", db1, "5m", 14.4)
		m.SetInstanceBurnRate("cypher-availability", db1, "1h", 2)
		m.SetInstanceBurnRate("cypher-availability", map[string]string{"database": "db-2"}, "5m", 0)
		got := apiGathered(t, reg)
		if !strings.Contains(got, `burnwatch_instance_burn_rate{instance="{database=\"db-1\", orchestra=\"eu-1\"}",slo="cypher-availability",window="5m"} 14.4`) {
			t.Errorf("no series for db-1 over 5m:\n%s", got)
		}

		m.ForgetInstance("cypher-availability", db1)
		got = apiGathered(t, reg)
		if strings.Contains(got, "db-1") || !strings.Contains(got, "db-2") {
			t.Errorf("ForgetInstance did not drop exactly db-1's series:\n%s", got)
		}
	})
}

func TestForgetSLODropsItsSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, true)
	for _, s := range []string{"gone", "kept"} {
		m.SLOInstances.WithLabelValues(s).Set(1)
		m.SLOAlertsFiring.WithLabelValues(s, "page").Set(1)
		m.SLOBudgetRemainingMin.WithLabelValues(s).Set(0.5)
		m.SetInstanceBurnRate(s, map[string]string{"database": "db-1"}, "5m", 1)
	}
	m.ForgetSLO("gone")
	got := apiGathered(t, reg)
	if strings.Contains(got, `slo="gone"`) {
		t.Errorf("series of a forgotten SLO remain:\n%s", got)
	}
	if n := strings.Count(got, `slo="kept"`); n != 4 {
		t.Errorf("%d series of the kept SLO, want 4:\n%s", n, got)
	}
}

func TestNilMetricsIgnoresUpdates(t *testing.T) {
	var m *Metrics
	m.SetInstanceBurnRate("s", nil, "5m", 1)
	m.ForgetInstance("s", nil)
	m.ForgetSLO("s")
	m.accepted(3)
	m.rejected(RejectInvalid)
}

func TestRejectReasonNames(t *testing.T) {
	for r, want := range map[RejectReason]string{
		RejectUnauthorized: "unauthorized",
		RejectTooLarge:     "too_large",
		RejectInvalid:      "invalid",
		RejectStoreError:   "store_error",
		RejectReason(99):   "unknown",
	} {
		if got := r.String(); got != want {
			t.Errorf("RejectReason(%d) = %q, want %q", int(r), got, want)
		}
	}
}

// apiGathered is every burnwatch series of reg, one a line, as
// "name{labels} value".
func apiGathered(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	var b strings.Builder
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "burnwatch_") {
			continue
		}
		for _, m := range f.GetMetric() {
			b.WriteString(f.GetName())
			b.WriteString("{")
			for i, l := range m.GetLabel() {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(l.GetName() + "=" + strconv.Quote(l.GetValue()))
			}
			b.WriteString("} ")
			switch {
			case m.GetGauge() != nil:
				b.WriteString(formatCount(m.GetGauge().GetValue()))
			case m.GetCounter() != nil:
				b.WriteString(formatCount(m.GetCounter().GetValue()))
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestCycleStagesAreTimed: a cycle reads, applies and commits, and each
// stage's time is in /metrics.
func TestCycleStagesAreTimed(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	at := ts.clock.Truncate(time.Minute)
	ts.push(fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":100,"errors":{"Neo.DatabaseError.General.UnknownError":100}}`+"\n", at.Format(time.RFC3339)))
	ts.clock = ts.clock.Add(2 * time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	families, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	var lastCycle float64
	for _, f := range families {
		switch f.GetName() {
		case "burnwatch_cycle_stage_seconds":
			for _, m := range f.GetMetric() {
				counts[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
			}
		case "burnwatch_last_successful_cycle_timestamp_seconds":
			lastCycle = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	for _, stage := range []string{"read", "apply", "commit", "notify"} {
		if counts[stage] == 0 {
			t.Errorf("stage %s was not timed: %v", stage, counts)
		}
	}
	if want := float64(ts.clock.UnixMilli()) / 1000; lastCycle != want {
		t.Errorf("last successful cycle %v, want the clock's %v", lastCycle, want)
	}
}

// TestInstanceBudgetRemainingIsPerInstanceAndOptIn: with per-instance
// series on, every instance of the view has its budget remaining, beside
// its burn rates; off, there is none.
func TestInstanceBudgetRemainingIsPerInstanceAndOptIn(t *testing.T) {
	view := &engine.View{SLOs: []*engine.SLOView{{
		SLO:     &slo.SLO{Name: "cypher-availability"},
		Windows: []time.Duration{5 * time.Minute},
		Instances: []engine.InstanceView{
			{Labels: labels.FromStrings("database", "db-1"), BudgetRemaining: 0.953125, Rates: []float64{200}},
			{Labels: labels.FromStrings("database", "db-2"), BudgetRemaining: -0.5, Rates: []float64{0}},
		},
		WorstBudget: -0.5,
	}}}
	for _, on := range []bool{false, true} {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg, on)
		m.update(view)
		got := apiGathered(t, reg)
		for _, want := range []string{
			`burnwatch_instance_budget_remaining{instance="{database=\"db-1\"}",slo="cypher-availability"} 0.953125`,
			`burnwatch_instance_budget_remaining{instance="{database=\"db-2\"}",slo="cypher-availability"} -0.5`,
			`burnwatch_instance_burn_rate{instance="{database=\"db-1\"}",slo="cypher-availability",window="5m"} 200`,
		} {
			if strings.Contains(got, want) != on {
				t.Errorf("per-instance series %v: %s is there: %v", on, want, !on)
			}
		}
		if on {
			m.ForgetSLO("cypher-availability")
			if got := apiGathered(t, reg); strings.Contains(got, "burnwatch_instance_") {
				t.Errorf("a forgotten SLO's per-instance series remain:\n%s", got)
			}
		}
	}
}
