package playbooks

import (
	"strings"
	"testing"
)

func TestLintReportsEveryProblem(t *testing.T) {
	s, err := Load("testdata/override", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A playbook from elsewhere than Load, with values Load would refuse.
	odd := &Playbook{ID: "odd", Source: "odd.md", AppliesTo: AppliesTo{
		Alerts:     []string{"burn-rate", "latency"},
		Severities: []string{"critical"},
	}, lines: map[string]int{"applies_to.alerts[1]": 5, "applies_to.severities[0]": 6}}
	s.byID["odd"] = odd
	s.ids = append(s.ids, "odd")

	refs := []Ref{
		{Where: "slos[0].alerting.page.playbook", ID: "database-unavailable"},
		{Where: "slos[0].alerting.ticket.playbook", ID: "graph-write-failing"},
		{Where: "slos[1].alerting.page.playbook", ID: ""},
	}
	got := Lint(s, refs, []string{"bolt-availability"})
	want := []string{
		`slos[0].alerting.ticket.playbook: playbook "graph-write-failing" does not exist; the set has database-unavailable, graph-writes-failing, odd (did you mean graph-writes-failing?)`,
		`slos[1].alerting.page.playbook: no playbook: every alert that can page must link one`,
		`testdata/override/database-unavailable.md:7: applies_to.slos[0]: "cypher-availability" is not an SLO of the config; its SLOs are bolt-availability`,
		`odd.md:5: applies_to.alerts[1]: "latency" is not an alert kind`,
		`odd.md:6: applies_to.severities[0]: "critical" is not a severity`,
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(got), len(want), Problems(got))
	}
	for i := range min(len(got), len(want)) {
		if !strings.HasPrefix(got[i].Error(), want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i].Error(), want[i])
		}
	}
}

func TestLintWithNoSLOsRejectsEveryNamedSLO(t *testing.T) {
	s, err := Load("testdata/override", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := Lint(s, nil, nil)
	if len(got) != 1 || got[0].Field != "applies_to.slos[0]" {
		t.Errorf("got %v", Problems(got))
	}
}
