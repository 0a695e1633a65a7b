package playbooks

import "testing"

// matchSet is a set for Match: a generic page and ticket, and narrower
// playbooks that compete with them.
func matchSet(t *testing.T) *Set {
	t.Helper()
	s := &Set{byID: map[string]*Playbook{}}
	add := func(id string, a AppliesTo) {
		s.byID[id] = &Playbook{ID: id, AppliesTo: a}
		s.ids = append(s.ids, id)
	}
	// ids in sorted order
	add("any-burn", AppliesTo{Alerts: []string{AlertBurnRate}})
	add("cypher-leader", AppliesTo{Alerts: []string{AlertBurnRate}, SLOs: []string{"cypher-availability"}, Codes: []string{"Neo.TransientError.Transaction.LeaderSwitch"}})
	add("database-errors", AppliesTo{Alerts: []string{AlertBurnRate}, Codes: []string{"Neo.DatabaseError.*"}})
	add("leader", AppliesTo{Alerts: []string{AlertBurnRate}, Codes: []string{"Neo.TransientError.Transaction.LeaderSwitch", "Neo.ClientError.Cluster.NotALeader"}})
	add("no-data", AppliesTo{Alerts: []string{AlertNoData}})
	add("page", AppliesTo{Alerts: []string{AlertBurnRate}, Severities: []string{SeverityPage}})
	add("page-or-ticket", AppliesTo{Alerts: []string{AlertBurnRate}, Severities: []string{SeverityPage, SeverityTicket}})
	add("storage", AppliesTo{Alerts: []string{AlertBurnRate}, Codes: []string{"Neo.DatabaseError.General.*"}})
	add("storage-damage", AppliesTo{Alerts: []string{AlertBurnRate}, Codes: []string{"Neo.DatabaseError.General.StorageDamageDetected"}})
	add("ticket-a", AppliesTo{Alerts: []string{AlertBurnRate}, SLOs: []string{"bolt-latency"}})
	add("ticket-b", AppliesTo{Alerts: []string{AlertBurnRate}, SLOs: []string{"bolt-latency"}})
	return s
}

func TestMatchPicksTheMostSpecific(t *testing.T) {
	s := matchSet(t)
	for _, c := range []struct {
		name                 string
		alert, slo, severity string
		codes                []string
		want                 string
	}{
		{"an alert kind nobody handles gets nothing", AlertUserFaultSurge, "cypher-availability", SeverityTicket, nil, ""},
		{"the only playbook of its kind wins", AlertNoData, "cypher-availability", SeverityPage, nil, "no-data"},
		{"a playbook naming the severity beats one naming nothing", AlertBurnRate, "x", SeverityPage, nil, "page"},
		{"of two naming the severity, the one listing fewer wins", AlertBurnRate, "x", SeverityPage, []string{"Neo.ClientError.Statement.SyntaxError"}, "page"},
		{"with no narrower match the generic one applies", AlertBurnRate, "x", SeverityTicket, nil, "page-or-ticket"},
		{"a playbook naming codes beats one naming the severity", AlertBurnRate, "x", SeverityPage, []string{"Neo.TransientError.Transaction.LeaderSwitch"}, "leader"},
		{"naming two constraints beats naming one", AlertBurnRate, "cypher-availability", SeverityPage, []string{"Neo.TransientError.Transaction.LeaderSwitch"}, "cypher-leader"},
		{"an exact code beats a prefix", AlertBurnRate, "x", SeverityTicket, []string{"Neo.DatabaseError.General.StorageDamageDetected"}, "storage-damage"},
		{"a longer prefix beats a shorter one", AlertBurnRate, "x", SeverityTicket, []string{"Neo.DatabaseError.General.UnknownError"}, "storage"},
		{"the alert's dominant code decides", AlertBurnRate, "x", SeverityTicket, []string{"Neo.DatabaseError.Schema.IndexDropFailed", "Neo.TransientError.Transaction.LeaderSwitch"}, "database-errors"},
		{"the dominant code decides, the other way round", AlertBurnRate, "x", SeverityTicket, []string{"Neo.TransientError.Transaction.LeaderSwitch", "Neo.DatabaseError.Schema.IndexDropFailed"}, "leader"},
		{"a playbook with codes never applies to an alert without", AlertBurnRate, "cypher-availability", SeverityTicket, nil, "page-or-ticket"},
		{"a tie goes to the id that sorts first", AlertBurnRate, "bolt-latency", "", nil, "ticket-a"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if p := s.Match(c.alert, c.slo, c.severity, c.codes); p != nil {
				got = p.ID
			}
			if got != c.want {
				t.Errorf("Match(%s, %s, %s, %v) = %q, want %q", c.alert, c.slo, c.severity, c.codes, got, c.want)
			}
		})
	}
}

func TestMatchWithTheDefaultSet(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name                 string
		alert, slo, severity string
		codes                []string
		want                 string
	}{
		{"a page goes to the database playbook", AlertBurnRate, "cypher-availability", SeverityPage, []string{"Neo.TransientError.General.DatabaseUnavailable"}, "database-unavailable"},
		{"a page of leader switches goes to the churn playbook", AlertBurnRate, "cypher-availability", SeverityPage, []string{"Neo.TransientError.Transaction.LeaderSwitch"}, "leader-election-churn"},
		{"a ticket goes to the slow burn playbook", AlertBurnRate, "cypher-availability", SeverityTicket, []string{"Neo.TransientError.Statement.ExecutionTimeout"}, "error-budget-slow-burn"},
		{"image pull failures go to the operator playbook", AlertBurnRate, "pods-ready", SeverityPage, []string{"ImagePullBackOff"}, "operator-reconcile-failures"},
		{"a surge goes to the surge playbook", AlertUserFaultSurge, "cypher-availability", SeverityTicket, []string{"Neo.ClientError.Statement.SyntaxError"}, "user-fault-surge"},
		{"no data goes to the no-data playbook", AlertNoData, "cypher-availability", SeverityPage, nil, "burnwatch-no-data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if p := s.Match(c.alert, c.slo, c.severity, c.codes); p != nil {
				got = p.ID
			}
			if got != c.want {
				t.Errorf("Match = %q, want %q", got, c.want)
			}
		})
	}
}
