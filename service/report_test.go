package service

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/report"
)

// TestReportNumbers checks the report's figures against values worked out
// by hand: two weeks of 1,000 queries a minute, the report's week with a
// 30-minute full outage, the week before with a 10-minute one.
func TestReportNumbers(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	from, err := WeekStart("2026-W45", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if from != time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("2026-W45 starts %v", from)
	}
	start := from.Add(-7 * 24 * time.Hour)
	outage := from.Add(3*24*time.Hour + 10*time.Hour) // Thursday 10:00
	before := start.Add(2*24*time.Hour + 5*time.Hour) // the week before
	ts.engine(func(eng *engine.Engine) {
		in := eng.Router().Instance("cypher-availability", labels.FromStrings("database", "db-1"))
		for m := time.Minute; m <= 14*24*time.Hour; m += time.Minute {
			at := start.Add(m)
			e := burnrate.Events{Total: 1000}
			if at.After(outage) && !at.After(outage.Add(30*time.Minute)) || at.After(before) && !at.After(before.Add(10*time.Minute)) {
				e.Platform = 1000
			}
			in.Add(at.UnixMilli(), e)
		}
	})
	ts.clock = from.Add(7 * 24 * time.Hour)

	r, err := ts.Report(context.Background(), from, from.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sec := r.SLOs[0]
	// Two weeks of history in a 30d period: the budget is the traffic
	// extrapolated over the period, 1000 × 43,200 valid events, so a
	// minute of full outage is one of the budget's 43.2 minutes.
	const week, both = 10_080_000.0, 20_160_000.0 // valid events
	const budget = 0.001 * both * 30 / 14
	want := map[string][2]float64{
		"SLI this week":           {sec.SLIWeek, 1 - 30_000/week},
		"SLI over the period":     {sec.SLIPeriod, 1 - 40_000/both},
		"budget remaining":        {sec.BudgetRemaining, 1 - 40/43.2},
		"budget burned this week": {sec.BurnedWeek, 30_000 / budget},
		"budget burned before":    {sec.BurnedPrevWeek, 10 / 43.2},
		"minutes of full outage":  {sec.BurnedMinutes, 30},
		"the worst 2 hours' burn": {maxPoint(sec.BurnRate), 30_000 / 120_000.0 / 0.001},
		"the instance's burn":     {sec.Instances[0].Burned, 30 / 43.2},
	}
	for name, v := range want {
		if math.Abs(v[0]-v[1]) > 1e-9*math.Max(1, math.Abs(v[1])) {
			t.Errorf("%s: %v, want %v", name, v[0], v[1])
		}
	}
	if r.Fleet.SLOs != 1 || r.Fleet.SLOsMet != 0 || len(r.Fleet.AtRisk) != 1 {
		t.Errorf("fleet %+v: the SLO missed its objective and is at risk", r.Fleet)
	}
	if last := sec.BurnDown[len(sec.BurnDown)-1].V; math.Abs(last-sec.BudgetRemaining) > 1e-9 {
		t.Errorf("the burn-down ends at %v, not at the budget remaining %v", last, sec.BudgetRemaining)
	}

	// Over HTTP, in every format; an instance with no data this week says so.
	ts.engine(func(eng *engine.Engine) {
		eng.Router().Instance("cypher-availability", labels.FromStrings("database", "db-quiet")).Add(start.Add(time.Minute).UnixMilli(), burnrate.Events{Total: 5})
	})
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	for _, f := range []string{"md", "html", "json", "csv"} {
		resp, err := http.Get(srv.URL + "/api/v1/report?week=2026-W45&format=" + f)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(b.String()), "no data") && f != "json" && f != "csv" {
			t.Errorf("format %s: %d, body without \"no data\" for db-quiet", f, resp.StatusCode)
		}
	}
	if resp, _ := http.Get(srv.URL + "/api/v1/report?week=someday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad week: %d", resp.StatusCode)
	}
}

func maxPoint(ps []report.Point) float64 {
	m := math.Inf(-1)
	for _, p := range ps {
		m = math.Max(m, p.V)
	}
	return m
}

// TestScheduledReportFollowsItsZone: Monday 09:00 in Berlin is 08:00 UTC in
// November; the report is written then, and not before.
func TestScheduledReportFollowsItsZone(t *testing.T) {
	dir := t.TempDir()
	ts := newTestService(t, dir, eventsConfig+`
reports:
  dir: `+dir+`/reports
  schedule: "0 9 * * MON"
  time_zone: Europe/Berlin
  formats: [md]
`)
	defer ts.Close()
	ctx := context.Background()
	file := dir + "/reports/burnwatch-2026-W47.md"
	step := func(at time.Time) bool {
		ts.clock = at
		if err := ts.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := os.Stat(file)
		return err == nil
	}
	step(time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)) // learns the schedule
	if step(time.Date(2026, 11, 23, 7, 59, 30, 0, time.UTC)) {
		t.Fatalf("written at 08:59:30 Berlin time")
	}
	if !step(time.Date(2026, 11, 23, 8, 0, 30, 0, time.UTC)) {
		t.Fatalf("not written at 09:00:30 Berlin time")
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "2026-W47") {
		t.Errorf("the report is not of week 47:\n%.300s", b)
	}
}

// TestReportCodesAndUserFaults: the week's codes, tenants' user faults and
// unclassified codes, from pushed counts.
func TestReportCodesAndUserFaults(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // 2026-W45
	ts.clock = from.Add(30*time.Hour + 5*time.Minute)    // Tuesday 06:05
	line := func(db string, platform, syntax, unknown int) string {
		return `{"time":"2026-11-03T06:00:00Z","slo":"cypher-availability","labels":{"database":"` + db + `"},"total":1000,"errors":{` +
			`"Neo.DatabaseError.General.UnknownError":` + itoa(platform) + `,"Neo.ClientError.Statement.SyntaxError":` + itoa(syntax) + `,"E_QUOTA":` + itoa(unknown) + `}}` + "\n"
	}
	if resp := ts.push(line("db-1", 40, 5, 2) + line("db-2", 10, 90, 0)); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %s", resp.Status)
	}
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The hour is written to the history once it is complete and settled.
	ts.clock = from.Add(31*time.Hour + 6*time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.clock = from.Add(7 * 24 * time.Hour)
	r, err := ts.Report(context.Background(), from, from.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sec := r.SLOs[0]
	if len(sec.Codes) != 2 || sec.Codes[0].Code != "Neo.DatabaseError.General.UnknownError" || sec.Codes[0].Count != 50 || sec.Codes[1].Code != "E_QUOTA" || sec.Codes[1].Count != 2 {
		t.Errorf("codes %+v", sec.Codes)
	}
	if len(sec.UserFaults) != 2 || sec.UserFaults[0].Labels["database"] != "db-2" || sec.UserFaults[0].UserFaults != 90 {
		t.Errorf("user faults %+v", sec.UserFaults)
	}
	if len(sec.Unclassified) != 1 || sec.Unclassified[0].Code != "E_QUOTA" {
		t.Errorf("unclassified %+v", sec.Unclassified)
	}
	// The next week saw none of it.
	r, _ = ts.Report(context.Background(), from.Add(7*24*time.Hour), from.Add(14*24*time.Hour))
	if len(r.SLOs[0].Codes) != 0 || len(r.SLOs[0].UserFaults) != 0 {
		t.Errorf("the next week has codes %+v and user faults %+v", r.SLOs[0].Codes, r.SLOs[0].UserFaults)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestReportExcludedMinutes: maintenance time is counted as the budget
// exclusion counts it: for a window limited to some instances too, clipped
// to the week, overlaps once.
func TestReportExcludedMinutes(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig+`
maintenance:
  - name: db-1-upgrade
    matchers: [{name: database, value: db-1}]
    start: 2026-11-04T02:00:00Z
    end: 2026-11-04T03:00:00Z
    exclude_from_budget: true
  - name: overlapping
    start: 2026-11-04T02:30:00Z
    end: 2026-11-04T03:30:00Z
    exclude_from_budget: true
  - name: across-the-week-end
    start: 2026-11-08T23:00:00Z
    end: 2026-11-09T02:00:00Z
    exclude_from_budget: true
  - name: not-excluded
    start: 2026-11-05T02:00:00Z
    end: 2026-11-05T03:00:00Z
`)
	defer ts.Close()
	ts.engine(func(eng *engine.Engine) {
		eng.Router().Instance("cypher-availability", labels.FromStrings("database", "db-1"))
	})
	from := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // 2026-W45
	r, err := ts.Report(context.Background(), from, from.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// 02:00–03:30 on the 4th (90 minutes, the overlap once) and the hour
	// of the 8th before the week ends.
	if got := r.SLOs[0].ExcludedMinutes; got != 150 {
		t.Errorf("excluded %v minutes, want 150", got)
	}
}

// TestTheHourUnderWayHasItsCodes: the codes of the hour in progress, not
// yet in the stored history, are in the report of the week and in the
// export: db-1 has failed 10 queries a minute (and its users made 5
// syntax errors a minute) for the 30 minutes since 10:00, and it is 10:30.
func TestTheHourUnderWayHasItsCodes(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	for range 30 {
		at := ts.clock.Truncate(time.Minute)
		ts.push(`{"time":"` + at.Format(time.RFC3339) + `","slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{"Neo.DatabaseError.General.UnknownError":10,"Neo.ClientError.Statement.SyntaxError":5}}` + "\n")
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	week, _ := WeekStart("", ts.clock.Add(7*24*time.Hour)) // the week under way
	r, err := ts.Report(context.Background(), week, week.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sec := r.SLOs[0]
	if len(sec.Codes) != 1 || sec.Codes[0].Code != "Neo.DatabaseError.General.UnknownError" || sec.Codes[0].Count != 300 {
		t.Errorf("the report's codes %+v, want the 300 UnknownErrors of the hour under way", sec.Codes)
	}
	if len(sec.UserFaults) != 1 || sec.UserFaults[0].UserFaults != 150 || sec.Instances[0].UserFaults != 150 {
		t.Errorf("the report's user faults %+v, instances %+v; want db-1's 150", sec.UserFaults, sec.Instances)
	}
	doc := exportJSON(t, ts, ExportQuery{From: ts.clock.Add(-30 * time.Minute), To: ts.clock})
	if len(doc.Instances) != 1 {
		t.Fatalf("exported %+v", doc.Instances)
	}
	got := map[string]float64{}
	for _, c := range doc.Instances[0].Codes {
		got[c.Code] = c.Count
	}
	if got["Neo.DatabaseError.General.UnknownError"] != 300 || got["Neo.ClientError.Statement.SyntaxError"] != 150 {
		t.Errorf("the export's codes %v, want the hour under way's 300 and 150", got)
	}
}
