package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/report"
)

// TestFiguresReadAsPeopleWriteThem: counts carry no float noise, a span
// of minutes is named in minutes, and a peak burn is "1000×", in the
// report and in the postmortem's Markdown.
func TestFiguresReadAsPeopleWriteThem(t *testing.T) {
	r := handMade()
	r.To = r.From.Add(20 * time.Minute)
	r.SLOs[0].Codes[0].Count = 20500.000000000004
	var b bytes.Buffer
	if err := report.WriteMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 20500 |", "Burned these 20 minutes"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	for _, bad := range []string{"20500.0", "0.3333", "hours"} {
		if strings.Contains(b.String(), bad) {
			t.Errorf("the report says %q", bad)
		}
	}

	var x bytes.Buffer
	w, err := report.NewExportWriter("md", &x, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	for _, err := range []error{
		w.Begin(report.ExportHeader{From: at, To: at.Add(time.Hour), Generated: at.Add(2 * time.Hour), Windows: []string{"5m", "1h"}}),
		w.Instance(report.ExportInstance{SLO: "cypher-availability", Objective: 0.999, Window: "30d", Labels: map[string]string{"database": "db-1"}, Windows: []string{"5m", "1h"}}),
		w.Impact(report.ExportImpact{Valid: 20500.000000000004, Bad: 1000, PeakBurn: []float64{1000, 24.04}, FirstBad: at, LastBad: at.Add(time.Minute)}),
		w.End(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"| 1000 | 20500 |", "| 1000× over 5m |"} {
		if !strings.Contains(x.String(), want) {
			t.Errorf("no %q in the export:\n%s", want, x.String())
		}
	}
}

// TestEveryStatusNamesItsSpan: a week that missed the objective within a
// period that meets it (the budget is not spent) must not read as a missed
// SLO: each status says over which span, and the fleet counts both.
func TestEveryStatusNamesItsSpan(t *testing.T) {
	r := handMade()
	s := &r.SLOs[0]
	s.SLIWeek, s.SLIPeriod, s.BudgetRemaining = 0.9988, 0.9994, 0.405
	r.SLOs = r.SLOs[:1]
	r.Fleet.SLOs, r.Fleet.SLOsMet = 1, 0
	var md, html bytes.Buffer
	if err := report.WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"SLOs that met their objective this week: **0 of 1**",
		"SLOs meeting their objective over their period: **1 of 1**",
		"| missed this week; met over 30d |",
		"this week (missed), 99.940% over the period of 30d (met)",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown: no %q in:\n%s", want, md.String())
		}
	}
	for _, want := range []string{
		`<span class="status missed">missed this week</span> <span class="status met">met over 30d</span>`,
		"<b>1 of 1</b><span>SLOs meeting their objective over their period</span>",
	} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("HTML: no %q", want)
		}
	}
}
