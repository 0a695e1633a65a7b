package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/internal/scenario"
	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/source"
	"github.com/burnwatch/burnwatch/store"
)

// exportDoc is the JSON export, read back.
type exportDoc struct {
	From, To  time.Time
	Instances []struct {
		SLO     string            `json:"slo"`
		Labels  map[string]string `json:"labels"`
		Windows []string          `json:"windows"`
		Codes   []struct {
			Code, Class string
			Count       float64
		} `json:"codes"`
		Minutes []struct {
			T     time.Time          `json:"t"`
			Valid float64            `json:"valid"`
			Bad   float64            `json:"bad"`
			Burn  map[string]float64 `json:"burn"`
		} `json:"minutes"`
		Impact struct {
			Valid          float64 `json:"valid"`
			Bad            float64 `json:"bad"`
			BudgetConsumed float64 `json:"budget_consumed"`
			BudgetMinutes  float64 `json:"budget_consumed_minutes"`
			OutageMinutes  float64 `json:"outage_minutes"`
		} `json:"impact"`
	} `json:"instances"`
	Timeline []struct {
		Time     time.Time         `json:"time"`
		Event    string            `json:"event"`
		Alert    string            `json:"alert"`
		Severity string            `json:"severity"`
		Labels   map[string]string `json:"labels"`
		Receiver string            `json:"receiver"`
	} `json:"timeline"`
}

// runIncident feeds four hours of 1,000 queries a minute for db-1 and
// db-2, cycling every minute from 10:00: db-1 fails every query in the
// minutes ending 11:01–11:20, db-2 in those ending 13:41–13:45 (not yet in
// the stored history when the clock stops at 14:00), and db-2's users make
// 5 syntax errors a minute throughout.
func runIncident(t *testing.T, ts *testService) {
	t.Helper()
	for m := 0; m < 240; m++ {
		at := ts.clock.Truncate(time.Minute)
		fail1, fail2 := 0, 0
		if m >= 60 && m < 80 {
			fail1 = 1000
		}
		if m >= 220 && m < 225 {
			fail2 = 995 // and its 5 syntax errors: every query fails
		}
		body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{"Neo.DatabaseError.General.UnknownError":%d}}`+"\n"+
			`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-2"},"total":1000,"errors":{"Neo.DatabaseError.General.UnknownError":%d,"Neo.ClientError.Statement.SyntaxError":5}}`+"\n",
			at.Format(time.RFC3339), fail1, at.Format(time.RFC3339), fail2)
		if resp := ts.push(body); resp.StatusCode != http.StatusAccepted {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("push: %s: %s", resp.Status, b)
		}
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func exportJSON(t *testing.T, ts *testService, q ExportQuery) exportDoc {
	t.Helper()
	var buf bytes.Buffer
	w, _ := report.NewExportWriter("json", &buf, nil)
	if err := ts.Export(context.Background(), q, w); err != nil {
		t.Fatal(err)
	}
	var doc exportDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the export is not JSON: %v\n%.2000s", err, buf.String())
	}
	return doc
}

func TestExportOfAnIncident(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	runIncident(t, ts)
	at := func(hm string) time.Time {
		d, _ := time.Parse("15:04", hm)
		return time.Date(2026, 11, 5, d.Hour(), d.Minute(), 0, 0, time.UTC)
	}
	q := ExportQuery{From: at("11:00"), To: at("11:20"), Margin: 30 * time.Minute}
	doc := exportJSON(t, ts, q)

	if len(doc.Instances) != 1 || doc.Instances[0].Labels["database"] != "db-1" {
		t.Fatalf("exported %d instances, want db-1 alone (db-2 neither failed nor alerted then): %+v", len(doc.Instances), doc.Instances)
	}
	in := doc.Instances[0]
	t.Run("one row a minute over the window and its margins", func(t *testing.T) {
		if len(in.Minutes) != 80 || !in.Minutes[0].T.Equal(at("10:31")) || !in.Minutes[79].T.Equal(at("11:50")) {
			t.Fatalf("%d minutes from %v to %v, want 80 from 10:31 to 11:50", len(in.Minutes), in.Minutes[0].T, in.Minutes[len(in.Minutes)-1].T)
		}
	})
	t.Run("the per-minute counts sum to the totals", func(t *testing.T) {
		var valid, bad, incBad float64
		for _, m := range in.Minutes {
			valid += m.Valid
			bad += m.Bad
			if m.T.After(q.From) && !m.T.After(q.To) {
				incBad += m.Bad
			}
		}
		if valid != 80_000 || bad != 20_000 || incBad != in.Impact.Bad || in.Impact.Bad != 20_000 || in.Impact.Valid != 20_000 {
			t.Errorf("minutes sum to valid %v bad %v (incident %v); impact %+v; want 80000, 20000, 20000", valid, bad, incBad, in.Impact)
		}
	})
	t.Run("the budget consumed, worked out by hand", func(t *testing.T) {
		// db-1 is 80 minutes old at 11:20: its 80,000 valid events,
		// extrapolated over the 43,200 minutes of its 30d period, are
		// 43.2 million, a budget of 43,200 failures. 20,000 failures
		// are 20 ÷ 43.2 of it, 20 of its 43.2 minutes: a 20-minute full
		// outage of a steady tenant, as for an old one. (Against the
		// 80,000 events alone they were 250 budgets.)
		im := in.Impact
		if math.Abs(im.BudgetConsumed-20/43.2) > 1e-12 || math.Abs(im.BudgetMinutes-20) > 1e-9 || im.OutageMinutes != 20 {
			t.Errorf("impact %+v, want 20/43.2 of the budget, 20 budget minutes, 20 outage minutes", im)
		}
	})
	t.Run("the codes by class", func(t *testing.T) {
		if len(in.Codes) != 1 || in.Codes[0].Code != "Neo.DatabaseError.General.UnknownError" || in.Codes[0].Class != "platform" || in.Codes[0].Count != 20_000 {
			t.Errorf("codes %+v", in.Codes)
		}
	})
	t.Run("burn rates are the ones the alerts saw", func(t *testing.T) {
		byTime := map[time.Time]map[string]float64{}
		for _, m := range in.Minutes {
			byTime[m.T] = m.Burn
		}
		checked := 0
		for _, tr := range ts.trs {
			burn, ok := byTime[tr.Time]
			if !ok || tr.Alert != burnrate.BurnRateAlert || tr.Labels.Get("database") != "db-1" {
				continue
			}
			for _, r := range tr.BurnRates {
				if got := burn[model.Duration(r.Window).String()]; got != r.Rate {
					t.Errorf("%s %s at %v: the alert saw %v over %s, the export has %v", tr.Severity, tr.State, tr.Time, r.Rate, model.Duration(r.Window), got)
				}
				checked++
			}
		}
		if checked == 0 {
			t.Fatal("no transition of db-1 in the window to compare with")
		}
	})
	t.Run("the timeline has every transition of the window", func(t *testing.T) {
		want := 0
		for _, tr := range ts.trs {
			if !tr.Time.Before(at("10:30")) && !tr.Time.After(at("11:50")) {
				want++
			}
		}
		got := 0
		for _, e := range doc.Timeline {
			if e.Event == report.EventFired || e.Event == report.EventResolved {
				got++
			}
		}
		if want == 0 || got != want {
			t.Errorf("the timeline has %d transitions, the window %d: %+v", got, want, doc.Timeline)
		}
		for i := 1; i < len(doc.Timeline); i++ {
			if doc.Timeline[i].Time.Before(doc.Timeline[i-1].Time) {
				t.Errorf("the timeline goes back in time at %d: %v after %v", i, doc.Timeline[i].Time, doc.Timeline[i-1].Time)
			}
		}
	})
}

// TestExportOfTheLastHourReadsTheEngine: minutes not yet written to the
// stored history come from the running engine.
func TestExportOfTheLastHourReadsTheEngine(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	runIncident(t, ts)
	from := time.Date(2026, 11, 5, 13, 40, 0, 0, time.UTC)
	doc := exportJSON(t, ts, ExportQuery{From: from, To: from.Add(5 * time.Minute), Margin: 10 * time.Minute})
	if len(doc.Instances) != 1 || doc.Instances[0].Labels["database"] != "db-2" {
		t.Fatalf("exported %+v, want db-2 alone", doc.Instances)
	}
	in := doc.Instances[0]
	if in.Impact.Bad != 5*995 || in.Impact.Valid != 5*995 {
		t.Errorf("impact %+v, want 4975 failures of 4975 valid events", in.Impact)
	}
	user := 0.0
	for _, c := range in.Codes {
		if c.Class == "user" {
			user += c.Count
		}
	}
	// Codes are kept by the hour: the hour 13:00–14:00 the span lies in.
	if user != 60*5 {
		t.Errorf("user faults %v in the hour exported, want 300: %+v", user, in.Codes)
	}
}

func TestExportFiltersAndAll(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	runIncident(t, ts)
	from := time.Date(2026, 11, 5, 11, 0, 0, 0, time.UTC)
	q := ExportQuery{From: from, To: from.Add(20 * time.Minute), All: true}
	if doc := exportJSON(t, ts, q); len(doc.Instances) != 2 {
		t.Errorf("with all, %d instances, want both", len(doc.Instances))
	}
	q.Match = map[string]string{"database": "db-2"}
	doc := exportJSON(t, ts, q)
	if len(doc.Instances) != 1 || doc.Instances[0].Labels["database"] != "db-2" {
		t.Errorf("matching db-2: %+v", doc.Instances)
	}
	for _, e := range doc.Timeline {
		if e.Alert == burnrate.BurnRateAlert && e.Labels["database"] != "db-2" {
			t.Errorf("the timeline of db-2 has %+v", e)
		}
	}
	q.SLO = "nope"
	var buf bytes.Buffer
	w, _ := report.NewExportWriter("json", &buf, nil)
	if err := ts.Export(context.Background(), q, w); err == nil {
		t.Error("an export of an SLO that does not exist succeeded")
	}
}

// TestImportKeepsAnOldRecording: a recording loaded long after it was made
// is neither pruned nor forgotten by the clock, and a second load of it
// is refused.
func TestImportKeepsAnOldRecording(t *testing.T) {
	dir := t.TempDir()
	ts := newTestService(t, dir, eventsConfig)
	ts.clock = time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC) // seven months on
	load := func() error {
		rd, err := source.Open("../testdata/replay/outage.om", nil, source.FormatOf("outage.om"))
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		_, err = ts.Import(context.Background(), rd, func(burnrate.Transition) error { return nil })
		return err
	}
	if err := load(); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	doc := exportJSON(t, ts, ExportQuery{From: from, To: from.Add(20 * time.Minute)})
	if len(doc.Instances) != 1 || doc.Instances[0].Impact.Bad != 20_000 {
		t.Errorf("the old recording's export: %+v", doc.Instances)
	}
	if err := load(); err == nil || !strings.Contains(err.Error(), "empty --storage.path") {
		t.Errorf("a second load: %v", err)
	}
	ts.Close()
	// Reopened, the state still holds it.
	ts.open()
	defer ts.Close()
	if doc := exportJSON(t, ts, ExportQuery{From: from, To: from.Add(20 * time.Minute)}); len(doc.Instances) != 1 {
		t.Errorf("after a reopen the export has %d instances", len(doc.Instances))
	}
}

// TestImportAcrossAGapKeepsTheHourBeforeIt: a recording with six hours
// missing keeps the history of the hour before the gap.
func TestImportAcrossAGapKeepsTheHourBeforeIt(t *testing.T) {
	sc, err := scenario.Parse(strings.NewReader(`start 2026-11-05T00:00:00Z
step 1m
neo4j_queries_total{database="db-1"} 0+1000x90 _x329 90000+1000x60
neo4j_query_errors_total{database="db-1",code="Neo.DatabaseError.General.UnknownError"} 0x90 _x329 0x60
`))
	if err != nil {
		t.Fatal(err)
	}
	var om bytes.Buffer
	if err := sc.WriteOpenMetrics(&om); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gap.om")
	if err := os.WriteFile(path, om.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	rd, err := source.Open(path, nil, source.FormatOf(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := ts.Import(context.Background(), rd, func(burnrate.Transition) error { return nil }); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	doc := exportJSON(t, ts, ExportQuery{From: from, To: from.Add(2 * time.Hour), All: true})
	valid := 0.0
	if len(doc.Instances) == 1 {
		for _, m := range doc.Instances[0].Minutes {
			valid += m.Valid
		}
	}
	if valid != 90_000 {
		t.Errorf("the 90 minutes before the gap hold %v valid events in the history, want 90000", valid)
	}
}

// TestReloadKeepsTheHourUnderWaysCodes: a config reload in the middle of
// an hour loses none of its error codes from the history.
func TestReloadKeepsTheHourUnderWaysCodes(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	push := func() {
		at := ts.clock.Truncate(time.Minute)
		body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{"Neo.ClientError.Statement.SyntaxError":5}}`+"\n", at.Format(time.RFC3339))
		if resp := ts.push(body); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("push: %s", resp.Status)
		}
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	push()
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	push()
	ts.clock = ts.clock.Add(time.Hour + 5*time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	user := 0.0
	err := ts.Store().HistoryCodes(context.Background(), "cypher-availability", nil, 0, 1<<40, func(c store.CodeTotal) error {
		user += c.Count
		return nil
	})
	if err != nil || user != 10 {
		t.Errorf("the hour's history holds %v syntax errors (%v), want both minutes' 10", user, err)
	}
}

// TestExportBurnsOnlyWhereThereIsData: db-1 serves 1,000 queries a minute
// for an hour, then fails every query for 5 minutes, and its data stops
// there; the export is made 30 minutes later with an hour's margin. Burn
// rates are measured only for minutes with events: after the data stops,
// the windows would slide over the failures alone and "burn 1000×" though
// no alert saw that (the 1h window's worst real burn is 5,000 ÷ 60,000 ÷
// 0.001 = 83.3, at the last failed minute). No row is after now.
func TestExportBurnsOnlyWhereThereIsData(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	for i := range 65 {
		failed := 0
		if i >= 60 {
			failed = 1000
		}
		ts.minute("db-1", 1000, failed)
	}
	last := ts.clock.Truncate(time.Minute) // the end of the last minute with data, 11:05
	for range 30 {
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	now := ts.clock
	q := ExportQuery{From: last.Add(-5 * time.Minute), To: last, Margin: time.Hour}
	var buf bytes.Buffer
	w, _ := report.NewExportWriter("json", &buf, nil)
	if err := ts.Export(context.Background(), q, w); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Instances []struct {
			Minutes []struct {
				T    time.Time           `json:"t"`
				Burn map[string]*float64 `json:"burn"`
			} `json:"minutes"`
			Impact struct {
				PeakBurn map[string]float64 `json:"peak_burn"`
			} `json:"impact"`
		} `json:"instances"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(doc.Instances) != 1 {
		t.Fatalf("export %v: %.2000s", err, buf.String())
	}
	in := doc.Instances[0]
	rows := in.Minutes
	if n := len(rows); n == 0 || rows[n-1].T.After(now) || !rows[n-1].T.Equal(now) {
		t.Errorf("the last row is at %v, want now, %v: no minute after now", rows[len(rows)-1].T, now)
	}
	for _, r := range rows {
		withData := !r.T.After(last)
		for w, b := range r.Burn {
			if withData && b == nil {
				t.Errorf("%v, a minute with data, has no %s burn", r.T, w)
			}
			if !withData && b != nil {
				t.Errorf("%v, after the data stopped, burns %v over %s", r.T, *b, w)
			}
		}
	}
	if got, want := in.Impact.PeakBurn["1h"], 5000.0/60000/0.001; math.Abs(got-want) > 1e-9 {
		t.Errorf("peak 1h burn %v, want %v, the highest of the minutes with data", got, want)
	}
	if got := in.Impact.PeakBurn["5m"]; got != 1000 {
		t.Errorf("peak 5m burn %v, want 1000: the last five minutes failed whole", got)
	}
}
