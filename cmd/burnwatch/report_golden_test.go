package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/internal/scenario"
)

// reportWeek is the ISO week every report scenario is about: Monday
// 2026-11-09 00:00 UTC to Monday 2026-11-16. Each recording holds it and
// the week before, so that "vs last week" has data.
const reportWeek = "2026-W46"

// reportFormats are the formats each scenario's report is written in.
var reportFormats = []string{"md", "html", "json", "csv"}

// TestReportGolden replays every scenario in testdata/report into a fresh
// state directory with the real command line (replay --storage.path), then
// writes the report of reportWeek from that state in every format and
// compares it with its golden file. NAME.series describes a scenario,
// NAME.om.gz is its recording, made from the description, NAME.yaml its
// config and NAME.{md,html,json,csv} its reports. Each scenario's JSON
// report is also checked against numbers worked out by hand. Regenerate
// with: go test ./cmd/burnwatch -run ReportGolden -update
func TestReportGolden(t *testing.T) {
	checks := map[string]func(t *testing.T, rep reportJSON, transitions []string){
		"outage":       checkOutageReport,
		"quiet":        checkQuietReport,
		"maintenance":  checkMaintenanceReport,
		"syntax-storm": checkSyntaxStormReport,
	}
	descs, _ := filepath.Glob("../../testdata/report/*.series")
	if len(descs) != len(checks) {
		t.Fatalf("%d scenarios in testdata/report, want one for each of the %d checks", len(descs), len(checks))
	}
	for _, desc := range descs {
		base := strings.TrimSuffix(desc, ".series")
		name := filepath.Base(base)
		t.Run(name, func(t *testing.T) {
			check := checks[name]
			if check == nil {
				t.Fatalf("no hand-worked check for %s", desc)
			}
			t.Parallel()
			config := base + ".yaml"
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := []string{"replay", "--config", config, "--data", gzRecording(t, desc, base+".om.gz"), "--storage.path", dir}
			if code := run(context.Background(), args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("replay exited %d: %s", code, stderr.String())
			}
			var transitions []string
			for _, line := range strings.Split(stdout.String(), "\n") {
				if line != "" {
					transitions = append(transitions, line)
				}
			}
			for _, format := range reportFormats {
				before := time.Now()
				stdout.Reset()
				stderr.Reset()
				args := []string{"report", "--config", config, "--storage.path", dir, "--week", reportWeek, "--format", format}
				if code := run(context.Background(), args, nil, &stdout, &stderr); code != 0 {
					t.Fatalf("report --format %s exited %d: %s", format, code, stderr.String())
				}
				out := stdout.Bytes()
				if format == "json" {
					var rep reportJSON
					if err := json.Unmarshal(out, &rep); err != nil {
						t.Fatalf("the JSON report does not decode: %v", err)
					}
					// Generated is the wall clock: the command line has no
					// way to set the service's clock.
					if rep.Generated.Before(before.Add(-time.Second)) || rep.Generated.After(time.Now().Add(time.Second)) {
						t.Errorf("generated %s, want the time the report was made (about %s)", rep.Generated, before.UTC())
					}
					check(t, rep, transitions)
				}
				for _, bad := range []string{"NaN", "+Inf", "-Inf"} {
					if bytes.Contains(out, []byte(bad)) {
						t.Errorf("the %s report holds %q", format, bad)
					}
				}
				golden.Check(t, base+"."+format, normalizeGenerated(out))
			}
		})
	}
}

// generatedTimes are where a report shows when it was made, with what
// the golden files hold there instead: the meta line of Markdown and HTML
// ("· generated 2026-11-16 09:00 UTC"), the HTML footer ("report ·
// 2026-11-16 09:00 UTC") and JSON's "generated". That time is the wall
// clock (the command line cannot set the service's clock), so the goldens
// hold a placeholder; the test checks the JSON's value against the clock
// instead.
var generatedTimes = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(generated )\d{4}-\d\d-\d\d \d\d:\d\d UTC`), "${1}GENERATED"},
	{regexp.MustCompile(`(error-budget report · )\d{4}-\d\d-\d\d \d\d:\d\d UTC`), "${1}GENERATED"},
	{regexp.MustCompile(`("generated": ?)"[^"]*"`), `${1}"GENERATED"`},
}

// normalizeGenerated replaces the time a report was made with GENERATED.
func normalizeGenerated(b []byte) []byte {
	for _, g := range generatedTimes {
		b = g.re.ReplaceAll(b, []byte(g.with))
	}
	return b
}

// gzRecording writes the scenario's recording, gzip-compressed (with
// -update), or checks that the committed one still holds what the
// description says. Two weeks at one-minute steps are some 20,000
// samples a series, 4 to 10 MB a scenario; compressed, they take a
// fifteenth of that, and replay reads .gz as it is.
func gzRecording(t *testing.T, desc, path string) string {
	t.Helper()
	want := scenarioOpenMetrics(t, desc)
	if *golden.Update {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(want)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s no longer holds what %s describes (%v; run the test with -update if the change is intended)", path, desc, err)
	}
	return path
}

// scenarioOpenMetrics returns the recording a scenario description makes.
func scenarioOpenMetrics(t *testing.T, desc string) []byte {
	t.Helper()
	b, err := os.ReadFile(desc)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", desc, err)
	}
	var buf bytes.Buffer
	if err := sc.WriteOpenMetrics(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reportJSON is what the hand-worked checks read of a JSON report.
type reportJSON struct {
	Generated time.Time `json:"generated"`
	Fleet     struct {
		SLOs         int      `json:"slos"`
		Instances    int      `json:"instances"`
		InstancesMet int      `json:"instances_met"`
		AtRisk       []string `json:"at_risk"`
	} `json:"fleet"`
	SLOs []sloJSON `json:"slos"`
}

// sloJSON is an SLO section of a JSON report.
type sloJSON struct {
	Name            string         `json:"name"`
	SLIWeek         float64        `json:"sli_week"`
	SLIPeriod       float64        `json:"sli_period"`
	BudgetRemaining float64        `json:"budget_remaining"`
	BurnedWeek      float64        `json:"burned_week"`
	BurnedPrevWeek  float64        `json:"burned_prev_week"`
	BurnedMinutes   float64        `json:"burned_minutes"`
	ExcludedMinutes float64        `json:"excluded_minutes"`
	Instances       []instanceJSON `json:"instances"`
	Codes           []struct {
		Code  string  `json:"code"`
		Class string  `json:"class"`
		Count float64 `json:"count"`
	} `json:"codes"`
	Alerts []struct {
		Severity string            `json:"severity"`
		Labels   map[string]string `json:"labels"`
		Fired    time.Time         `json:"fired"`
		Resolved *time.Time        `json:"resolved"`
	} `json:"alerts"`
	UserFaults []instanceJSON `json:"user_faults"`
	Surges     []string       `json:"surges"`
}

// instanceJSON is an SLO instance, or a tenant among the user faults.
type instanceJSON struct {
	Labels          map[string]string `json:"labels"`
	SLI             float64           `json:"sli"`
	BudgetRemaining float64           `json:"budget_remaining"`
	Burned          float64           `json:"burned"`
	UserFaults      float64           `json:"user_faults"`
}

// cypher returns the report's one SLO, cypher-availability.
func cypher(t *testing.T, rep reportJSON) sloJSON {
	t.Helper()
	if len(rep.SLOs) != 1 || rep.SLOs[0].Name != "cypher-availability" || rep.Fleet.SLOs != 1 || rep.Fleet.Instances != 3 {
		t.Fatalf("the report has %d SLOs and %d instances, want cypher-availability alone with db-1, db-2 and db-3", len(rep.SLOs), rep.Fleet.Instances)
	}
	return rep.SLOs[0]
}

// instance returns the SLO's instance of a database.
func instance(t *testing.T, s sloJSON, db string) instanceJSON {
	t.Helper()
	for _, in := range s.Instances {
		if in.Labels["database"] == db {
			return in
		}
	}
	t.Fatalf("no instance %s among %v", db, s.Instances)
	return instanceJSON{}
}

// approx checks a figure against the value worked out by hand, to a
// relative 1e-9: the report sums in floating point, the hand in fractions.
func approx(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// checkOutageReport checks the outage week (outage.series) by hand.
//
// Every scenario records W45 and W46, 20,160 minutes of events (the
// minutes ending 2026-11-02 00:01 to 2026-11-16 00:00; the samples at
// 00:00 are the counters' baselines). The SLO's 30-day period ending with
// W46 reaches back to 2026-10-17: every instance is younger than it, so
// its budget is its traffic extrapolated over the period, × 43,200 ÷
// 20,160 = 15/7 (docs/semantics.md). Objective 99.9%: the budget is
// 0.001 × the period's valid events, so extrapolated.
//
// Traffic is 1000 + 1000 + 500 = 2500 queries a minute, nothing but
// db-1's 30 minutes × 1000 fails:
//
//	valid week   = 2500 × 10,080        = 25,200,000, bad 30,000
//	valid period = 2500 × 20,160        = 50,400,000, bad 30,000
//	sli_week     = 1 − 30,000 ÷ 25.2M   = 1 − 1/840  = 0.998810
//	sli_period   = 1 − 30,000 ÷ 50.4M   = 1 − 1/1680 = 0.999405
//	budget       = 0.001 × 50.4M × 15/7 = 108,000 failures (2500 × 43.2)
//	burned_week  = 30,000 ÷ 108,000     = 5/18 = 0.278 (last week 0)
//	remaining    = 1 − 5/18             = 13/18 = 0.722
//	minutes of full outage = 30,000 ÷ 25.2M × 10,080 = 12
//	  (db-1 carries 1000 of the 2500 a minute: 30 min × 0.4 = 12,
//	  and 12 ÷ 43.2 = 5/18 of the budget)
//
// db-1 alone: 1000 a minute, sli = 1 − 30,000 ÷ 10.08M = 1 − 1/336;
// burned = 30,000 ÷ (0.001 × 20.16M × 15/7) = 30 ÷ 43.2 = 25/36 = 0.694,
// remaining 11/36: its 30 minutes of full outage are 30 of its budget's
// 43.2. Its period SLI 1 − 1/672 misses 99.9%, so 2 of 3 instances meet
// the objective. At risk: 5/18 × 30d/7d = 1.19 > 1.
// The alerts are those predicted in outage.series.
func checkOutageReport(t *testing.T, rep reportJSON, transitions []string) {
	s := cypher(t, rep)
	approx(t, "sli_week", s.SLIWeek, 1-1.0/840)
	approx(t, "sli_period", s.SLIPeriod, 1-1.0/1680)
	approx(t, "burned_week", s.BurnedWeek, 5.0/18)
	approx(t, "burned_prev_week", s.BurnedPrevWeek, 0)
	approx(t, "budget_remaining", s.BudgetRemaining, 13.0/18)
	approx(t, "burned_minutes", s.BurnedMinutes, 12)
	approx(t, "excluded_minutes", s.ExcludedMinutes, 0)
	db1 := instance(t, s, "db-1")
	approx(t, "db-1 sli", db1.SLI, 1-1.0/336)
	approx(t, "db-1 burned", db1.Burned, 25.0/36)
	approx(t, "db-1 budget_remaining", db1.BudgetRemaining, 11.0/36)
	if s.Instances[0].Labels["database"] != "db-1" {
		t.Errorf("instances %v: want db-1, which burned most, first", s.Instances)
	}
	for _, db := range []string{"db-2", "db-3"} {
		approx(t, db+" burned", instance(t, s, db).Burned, 0)
	}
	if rep.Fleet.InstancesMet != 2 {
		t.Errorf("%d instances met the objective, want 2: db-1's period SLI is 99.85%%", rep.Fleet.InstancesMet)
	}
	if len(rep.Fleet.AtRisk) != 1 || rep.Fleet.AtRisk[0] != "cypher-availability" {
		t.Errorf("at risk %v, want cypher-availability: 5/18 × 30/7 = 1.19 periods' budget", rep.Fleet.AtRisk)
	}
	if len(s.Codes) != 1 || s.Codes[0].Code != "Neo.DatabaseError.General.UnknownError" || s.Codes[0].Class != "platform" || s.Codes[0].Count != 30000 {
		t.Errorf("codes %+v, want Neo.DatabaseError.General.UnknownError platform 30000", s.Codes)
	}
	var alerts []string
	for _, a := range s.Alerts {
		resolved := "firing"
		if a.Resolved != nil {
			resolved = a.Resolved.Format(time.RFC3339)
		}
		alerts = append(alerts, a.Severity+" "+a.Labels["database"]+" "+a.Fired.Format(time.RFC3339)+" "+resolved)
	}
	want := []string{
		"page db-1 2026-11-11T10:01:00Z 2026-11-11T11:00:00Z",
		"ticket db-1 2026-11-11T10:05:00Z 2026-11-11T16:30:00Z",
	}
	if strings.Join(alerts, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(alerts, "\n"), strings.Join(want, "\n"))
	}
	if len(transitions) != 4 {
		t.Errorf("replay printed %d transitions, want 4 (page and ticket, fired and resolved)", len(transitions))
	}
}

// checkQuietReport checks the quiet week (quiet.series) by hand. 2500
// queries a minute, of which db-1's 2 syntax errors are user faults, not
// valid events; two weeks of history extrapolated over the 30d period
// (× 15/7, as in checkOutageReport):
//
//	valid week   = (2500 − 2) × 10,080 = 25,179,840, bad 5 × 10 = 50 (db-3)
//	valid period = 2 × 25,179,840      = 50,359,680, bad 50 + 100 (W45's db-2)
//	budget       = 0.001 × 50,359,680 × 15/7 = 107,913.6 failures
//	burned_week  = 50 ÷ 107,913.6 = 0.0463%, last week 100 ÷ 107,913.6
//	remaining    = 1 − 150 ÷ 107,913.6
//	sli_week     = 1 − 50 ÷ 25,179,840 = 0.999998: shown 99.999%, not 100%
func checkQuietReport(t *testing.T, rep reportJSON, transitions []string) {
	s := cypher(t, rep)
	const validWeek = 2498 * 10080
	budget := 0.001 * 2 * validWeek * 15 / 7
	approx(t, "sli_week", s.SLIWeek, 1-50.0/validWeek)
	approx(t, "sli_period", s.SLIPeriod, 1-150.0/(2*validWeek))
	approx(t, "burned_week", s.BurnedWeek, 50/budget)
	approx(t, "burned_prev_week", s.BurnedPrevWeek, 100/budget)
	approx(t, "budget_remaining", s.BudgetRemaining, 1-150/budget)
	approx(t, "burned_minutes", s.BurnedMinutes, 50.0/validWeek*10080)
	if len(s.Alerts) != 0 || len(transitions) != 0 || len(rep.Fleet.AtRisk) != 0 {
		t.Errorf("alerts %v, transitions %v, at risk %v: want none in a quiet week", s.Alerts, transitions, rep.Fleet.AtRisk)
	}
	if rep.Fleet.InstancesMet != 3 {
		t.Errorf("%d instances met the objective, want all 3", rep.Fleet.InstancesMet)
	}
	if len(s.UserFaults) != 1 || s.UserFaults[0].Labels["database"] != "db-1" || s.UserFaults[0].UserFaults != 2*10080 {
		t.Errorf("user faults %+v, want db-1 with 20160", s.UserFaults)
	}
}

// checkMaintenanceReport checks the maintenance week (maintenance.series)
// by hand. 4000 queries a minute; db-3 fails 1 a minute throughout. In
// the window's 60 minutes the failures are noise, neither valid nor bad:
// db-1's 60 × 1000 and db-3's 60. Two weeks of history extrapolated over
// the 30d period (× 15/7, as in checkOutageReport):
//
//	valid week   = 4000 × 10,080 − 60,060 = 40,259,940, bad 10,080 − 60 = 10,020
//	valid W45    = 4000 × 10,080          = 40,320,000, bad 10,080
//	budget       = 0.001 × 80,579,940 × 15/7 = 172,671.3 failures
//	burned_week  = 10,020 ÷ 172,671.3     = 0.0580
//	remaining    = 1 − 20,100 ÷ 172,671.3 = 0.8836
//
// That is the burn of the failures outside the window over the events
// outside it, as if the hour had not happened. Had the outage counted, the
// week would have burned (10,080 + 60,000) ÷ 172,800 = 0.406; had the hour
// been healthy, 10,080 ÷ 172,800 = 0.0583.
func checkMaintenanceReport(t *testing.T, rep reportJSON, transitions []string) {
	s := cypher(t, rep)
	const validWeek, validPrev = 4000*10080 - 60060, 4000 * 10080
	budget := 0.001 * (validWeek + validPrev) * 15 / 7
	approx(t, "excluded_minutes", s.ExcludedMinutes, 60)
	approx(t, "burned_week", s.BurnedWeek, 10020/budget)
	approx(t, "burned_prev_week", s.BurnedPrevWeek, 10080/budget)
	approx(t, "budget_remaining", s.BudgetRemaining, 1-20100/budget)
	approx(t, "sli_week", s.SLIWeek, 1-10020.0/validWeek)
	approx(t, "burned_minutes", s.BurnedMinutes, 10020.0/validWeek*10080)
	if healthy := 10080.0 / 172800; math.Abs(s.BurnedWeek-healthy) > 0.001 {
		t.Errorf("burned_week %.4f, want about %.4f, what a healthy hour would burn: the excluded outage burned budget", s.BurnedWeek, healthy)
	}
	db1 := instance(t, s, "db-1")
	approx(t, "db-1 burned", db1.Burned, 0)
	approx(t, "db-1 budget_remaining", db1.BudgetRemaining, 1)
	approx(t, "db-1 sli", db1.SLI, 1)
	if len(s.Alerts) != 0 || len(transitions) != 0 {
		t.Errorf("alerts %v, transitions %v: want none, the outage was maintenance", s.Alerts, transitions)
	}
}

// checkSyntaxStormReport checks the storm week (syntax-storm.series) by
// hand: no platform failure, so nothing burned and no alert, and db-2
// leads the user faults with 9900 × 1 + 180 × 600 = 117,900, before
// db-3's 3 × 10,080 = 30,240 and db-1's 2 × 10,080 = 20,160.
func checkSyntaxStormReport(t *testing.T, rep reportJSON, transitions []string) {
	s := cypher(t, rep)
	approx(t, "burned_week", s.BurnedWeek, 0)
	approx(t, "budget_remaining", s.BudgetRemaining, 1)
	approx(t, "sli_week", s.SLIWeek, 1)
	if len(s.Alerts) != 0 || len(transitions) != 0 || len(s.Surges) != 0 {
		t.Errorf("alerts %v, transitions %v, surges %v: want none for one tenant's syntax errors", s.Alerts, transitions, s.Surges)
	}
	var got []string
	for _, u := range s.UserFaults {
		got = append(got, fmt.Sprintf("%s %.0f", u.Labels["database"], u.UserFaults))
	}
	if want := "db-2 117900, db-3 30240, db-1 20160"; strings.Join(got, ", ") != want {
		t.Errorf("user faults %s, want %s", strings.Join(got, ", "), want)
	}
	approx(t, "db-2's user faults among its instance's figures", instance(t, s, "db-2").UserFaults, 117900)
}
