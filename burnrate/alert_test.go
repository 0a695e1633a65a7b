package burnrate

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

func TestAlertStep(t *testing.T) {
	type step struct {
		firing  bool
		changed bool
		want    State
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"an alert that never fires stays inactive", []step{{false, false, Inactive}, {false, false, Inactive}}},
		{"a firing pair fires the alert once", []step{{true, true, Firing}, {true, false, Firing}}},
		{"no pair firing resolves a firing alert", []step{{true, true, Firing}, {false, true, Resolved}, {false, false, Resolved}}},
		{"a resolved alert fires again", []step{{true, true, Firing}, {false, true, Resolved}, {true, true, Firing}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Alert
			for i, s := range tt.steps {
				ts := int64(i+1) * 1000
				if got := a.Step(ts, s.firing); got != s.changed {
					t.Fatalf("step %d: changed = %v, want %v", i, got, s.changed)
				}
				if a.State != s.want {
					t.Fatalf("step %d: state = %v, want %v", i, a.State, s.want)
				}
				if s.changed && a.Since != ts {
					t.Fatalf("step %d: since = %d, want %d", i, a.Since, ts)
				}
			}
		})
	}
}

// TestIDsDoNotChange: an alert's ID is its PagerDuty dedup key; a release
// that changed it would open a second incident for an alert already paged.
func TestIDsDoNotChange(t *testing.T) {
	db1 := labels.FromStrings("database", "db-1")
	for _, tc := range []struct {
		kind string
		lset labels.Labels
		sev  slo.Severity
		want string
	}{
		{BurnRateAlert, db1, slo.Page, "8b711dc37281ebecf2df4a25abcc9687"},
		{BurnRateAlert, db1, slo.Ticket, "a998afa27a964df3d462f0c7bef26c5b"},
		{NoDataAlert, labels.FromStrings("source", "prom"), slo.Ticket, AlertID("cypher-availability/no-data", labels.FromStrings("source", "prom"), slo.Ticket)},
		{UserFaultSurgeAlert, EmptyLabels, slo.Ticket, AlertID("cypher-availability/user-fault-surge", EmptyLabels, slo.Ticket)},
	} {
		if got := ID(tc.kind, "cypher-availability", tc.lset, tc.sev); got != tc.want {
			t.Errorf("%s %s %s: %s, want %s", tc.kind, tc.lset, tc.sev, got, tc.want)
		}
	}
}
