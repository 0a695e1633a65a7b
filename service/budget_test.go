package service

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
)

// TestAYoungInstancesBudgetIsTheSameEverywhere: a tenant 10 minutes old,
// 1000 queries a minute, fails every query for 2 minutes. Its 99.9% 30d
// budget is its traffic extrapolated over the 30 days, so each failed
// minute costs 1 of the budget's 43.2 minutes, as it would an old tenant's
// — and the page, its resolve, the API, the report and the export all say
// so. (Counted against the 12 minutes' 12,000 events alone, the two
// minutes would be 2000 ÷ 12 = 166 budgets: "−16566.7% left".)
func TestAYoungInstancesBudgetIsTheSameEverywhere(t *testing.T) {
	pager := &fakePager{}
	ts := newPagedService(t, pager)
	defer ts.Close()
	deliver := func() {
		if err := ts.Deliver(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		ts.minute("db-new", 1000, 0)
		deliver()
	}
	for range 2 {
		ts.minute("db-new", 1000, 1000)
		deliver()
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}
	// The page fires at the first failed minute, the 11th: 1000 failures
	// of a budget of 0.001 × 11,000 × 43,200 ÷ 11 = 43,200.
	var page *burnrate.Transition
	for i := range ts.trs {
		if ts.trs[i].Severity == "page" && ts.trs[i].State == burnrate.Firing {
			page = &ts.trs[i]
		}
	}
	if page == nil {
		t.Fatalf("no page fired: %v", ts.trs)
	}
	near("the page's budget remaining", page.BudgetRemaining, 1-1/43.2)
	var summary string
	for _, n := range pager.got {
		if n.Severity == "page" && n.Firing() {
			summary = n.Summary
		}
	}
	if !strings.Contains(summary, "; 97.7% of the budget left") {
		t.Errorf("the page says %q, want 97.7%% of the budget left", summary)
	}

	// Two failed minutes of 12 observed: 2 of 43.2.
	want := 1 - 2/43.2
	d, ok := ts.SLO("cypher-availability")
	if !ok || len(d.All) != 1 {
		t.Fatalf("the API has %+v", d)
	}
	near("the API's budget remaining", d.All[0].BudgetRemaining, want)

	end := ts.clock.Truncate(time.Minute)
	r, err := ts.Report(context.Background(), end.Add(-12*time.Minute), end)
	if err != nil {
		t.Fatal(err)
	}
	near("the report's budget remaining", r.SLOs[0].BudgetRemaining, want)
	near("the report's instance's budget remaining", r.SLOs[0].Instances[0].BudgetRemaining, want)
	near("the report's burned", r.SLOs[0].BurnedWeek, 2/43.2)
	// The week under way, whose end is days away, counts what is
	// observed: the period ending now.
	monday, _ := WeekStart("", end.Add(7*24*time.Hour))
	if r, err = ts.Report(context.Background(), monday, monday.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	near("the report of the week under way's budget remaining", r.SLOs[0].BudgetRemaining, want)

	doc := exportJSON(t, ts, ExportQuery{From: end.Add(-2 * time.Minute), To: end})
	if len(doc.Instances) != 1 {
		t.Fatalf("exported %d instances", len(doc.Instances))
	}
	im := doc.Instances[0].Impact
	near("the export's budget consumed", im.BudgetConsumed, 2/43.2)
	near("the export's budget minutes", im.BudgetMinutes, 2)

	// Healthy again for 40 minutes, the page resolves: still 2 of 43.2
	// minutes spent, of a budget now measured over 52 minutes.
	for range 40 {
		ts.minute("db-new", 1000, 0)
		deliver()
	}
	for _, n := range pager.got {
		if n.Severity == "page" && !n.Firing() {
			summary = n.Summary
		}
	}
	if !strings.Contains(summary, "RESOLVED") || !strings.Contains(summary, "; 95.4% of the budget left") {
		t.Errorf("the resolve says %q, want 95.4%% of the budget left", summary)
	}
}
