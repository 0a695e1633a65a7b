package report_test

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/report"
)

// writeExport hands w a small export written by hand: one instance with
// four minutes, one whose label value tries to break out of a table, and
// a timeline of a page and its delivery.
func writeExport(t *testing.T, w report.ExportWriter) {
	t.Helper()
	at := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	windows := []string{"5m", "1h"}
	steps := []error{w.Begin(report.ExportHeader{
		From: at, To: at.Add(2 * time.Minute), Margin: time.Minute, Generated: at.Add(time.Hour),
		Windows: []string{"5m", "30m", "1h"},
	})}
	for _, in := range []struct {
		labels map[string]string
		bad    []float64
	}{
		{map[string]string{"database": "db-1"}, []float64{0, 1000, 1000, 0}},
		{map[string]string{"database": "db|<script>x</script>"}, []float64{0, 0, 1.5, 0}},
	} {
		steps = append(steps, w.Instance(report.ExportInstance{
			SLO: "cypher-availability", Objective: 0.999, Window: "30d", Labels: in.labels, Windows: windows,
			Codes: []report.Code{{Code: "Neo.DatabaseError.General.UnknownError", Class: "platform", Count: in.bad[1] + in.bad[2]}},
		}))
		for i, b := range in.bad {
			steps = append(steps, w.Minute(report.ExportMinute{T: at.Add(time.Duration(i) * time.Minute), Valid: 1000, Bad: b, Burn: []float64{b / 1000 / 0.001 / 5, math.NaN()}}))
		}
		steps = append(steps, w.Impact(report.ExportImpact{
			Valid: 2000, Bad: in.bad[1] + in.bad[2], BudgetConsumed: (in.bad[1] + in.bad[2]) / 43.2, BudgetMinutes: (in.bad[1] + in.bad[2]) / 1000,
			OutageMinutes: (in.bad[1] + in.bad[2]) / 1000, PeakBurn: []float64{200, 33.3}, FirstBad: at.Add(time.Minute), LastBad: at.Add(2 * time.Minute),
		}))
	}
	steps = append(steps,
		w.Event(report.TimelineEvent{Time: at.Add(time.Minute), Event: report.EventFired, Alert: "burn-rate", SLO: "cypher-availability", Severity: "page", Labels: map[string]string{"database": "db-1"}, Detail: "1h burns 16.67×, 5m burns 200×"}),
		w.Event(report.TimelineEvent{Time: at.Add(time.Minute + 2*time.Second), Event: report.EventDelivered, Alert: "burn-rate", SLO: "cypher-availability", Severity: "page", Labels: map[string]string{"database": "db-1"}, Receiver: "pagerduty", Detail: "trigger, 1 attempt"}),
		w.End(),
	)
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestTheExportRendersAsItsGoldenFileInEveryFormat(t *testing.T) {
	for _, f := range report.ExportFormats {
		t.Run(f, func(t *testing.T) {
			var main, timeline bytes.Buffer
			w, err := report.NewExportWriter(f, &main, &timeline)
			if err != nil {
				t.Fatal(err)
			}
			writeExport(t, w)
			golden.Check(t, filepath.Join("testdata", "export."+f), main.Bytes())
			if f == "csv" {
				golden.Check(t, filepath.Join("testdata", "export-timeline.csv"), timeline.Bytes())
			}
			if f == "json" && !json.Valid(main.Bytes()) {
				t.Errorf("not JSON:\n%s", main.String())
			}
		})
	}
}

func TestTheExportEscapesLabels(t *testing.T) {
	var b bytes.Buffer
	w, _ := report.NewExportWriter("md", &b, nil)
	writeExport(t, w)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.Contains(line, "<script>") {
			t.Errorf("unescaped: %s", line)
		}
		if strings.HasPrefix(line, "| cypher") && strings.Count(line, " | ")+strings.Count(line, "||") != 10 {
			t.Errorf("a label value broke the table row: %s", line)
		}
	}
}

func TestAnEmptyExportSaysSo(t *testing.T) {
	var b bytes.Buffer
	w, _ := report.NewExportWriter("md", &b, nil)
	if err := w.Begin(report.ExportHeader{Margin: time.Hour}); err != nil {
		t.Fatal(err)
	}
	w.End()
	for _, want := range []string{"No instance failed or alerted in the window.", "No alert changed state in the window.", "(1h before and after"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	var j bytes.Buffer
	w, _ = report.NewExportWriter("json", &j, nil)
	w.Begin(report.ExportHeader{})
	w.End()
	var doc struct{ Instances, Timeline []any }
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil || doc.Instances == nil || doc.Timeline == nil {
		t.Errorf("an empty JSON export: %v %s", err, j.String())
	}
}
