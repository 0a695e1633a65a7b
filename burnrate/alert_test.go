package burnrate

import "testing"

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
