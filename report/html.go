package report

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed html.tmpl
var htmlSource string

// htmlTemplate is parsed once; html/template escapes every string of the
// report for the context it lands in (text, attribute, SVG).
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"add": func(a, b float64) string { return coord(a + b) },
	"sub": func(a, b float64) string { return coord(a - b) },
}).Parse(htmlSource))

// WriteHTML writes the report as one self-contained HTML file: no script, no
// stylesheet or font to fetch, charts as inline SVG drawn by this package, and
// print rules so that it prints one SLO per page. On top, the fleet: the
// summary and every instance in a table sorted worst first (see fleetRows),
// each with a sparkline of its daily burn; then, per SLO, its figures, the
// burn-down and burn-rate charts and the tables of what burned.
func WriteHTML(w io.Writer, r Report) error {
	b := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(b, newHTMLView(r)); err != nil {
		return fmt.Errorf("rendering HTML report: %w", err)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

// htmlView is the report with every figure formatted and every chart drawn.
type htmlView struct {
	Title, From, To, Generated string
	Span                       spanWords
	Fleet                      Fleet
	PeriodsMet                 int // SLOs meeting their objective over their period
	SLOs                       []htmlSLO
	Rows                       []htmlInstance // the fleet table
}

type htmlSLO struct {
	ID, Name, Description, Objective, Window string
	SLIWeek, SLIPeriod                       string
	StatusWeek, StatusPeriod                 statusWord
	BudgetRemaining, BurnedWeek, BurnedPrev  string
	Delta, BurnedMinutes, ExcludedMinutes    string
	Worse                                    bool // burned more than the week before
	Excluded                                 bool // some time was excluded by maintenance
	BurnDown, BurnRate                       chart
	Instances, UserFaults                    []htmlInstance
	Codes, Unclassified                      []htmlCode
	Alerts                                   []htmlAlert
	Surges                                   []string
}

type htmlInstance struct {
	SLO, Labels, SLI, BudgetRemaining, Burned, UserFaults string
	Status                                                statusWord
	Spark                                                 chart
}

type htmlCode struct{ Code, Class, Count string }

type htmlAlert struct{ Alert, Severity, Labels, Fired, For, Acknowledged string }

func newHTMLView(r Report) htmlView {
	v := htmlView{
		Title: r.Title, From: fmtTime(r.From), To: fmtTime(r.To), Generated: fmtTime(r.Generated),
		Fleet: r.Fleet, Span: r.words(), PeriodsMet: periodsMet(r),
	}
	if v.Title == "" {
		v.Title = "Error-budget report"
	}
	for _, row := range fleetRows(r) {
		hi := newHTMLInstance(row.Instance, row.Objective, v.Span)
		hi.SLO = row.SLO
		v.Rows = append(v.Rows, hi)
	}
	for n, s := range r.SLOs {
		hs := htmlSLO{
			ID: fmt.Sprintf("slo-%d", n+1), Name: s.Name, Description: s.Description,
			Objective: fmtObjective(s.Objective), Window: s.Window,
			SLIWeek: fmtSLI(s.SLIWeek), SLIPeriod: fmtSLI(s.SLIPeriod),
			StatusWeek:      statusOver(s.SLIWeek, s.Objective, v.Span.This),
			StatusPeriod:    statusOver(s.SLIPeriod, s.Objective, "over "+s.Window),
			BudgetRemaining: fmtBudget(s.BudgetRemaining), BurnedWeek: fmtBudget(s.BurnedWeek),
			BurnedPrev: fmtBudget(s.BurnedPrevWeek), Delta: fmtDelta(s.BurnedWeek, s.BurnedPrevWeek),
			Worse: s.BurnedWeek > s.BurnedPrevWeek, Excluded: s.ExcludedMinutes > 0,
			BurnedMinutes: fmtMinutes(s.BurnedMinutes), ExcludedMinutes: fmtMinutes(s.ExcludedMinutes),
			BurnDown: burnDownChart(s.Name, s.BurnDown, r.From, r.To, r.Generated),
			BurnRate: burnRateChart(s.Name, s.BurnRate, r.Generated),
			Surges:   s.Surges,
		}
		for _, i := range s.Instances {
			hs.Instances = append(hs.Instances, newHTMLInstance(i, s.Objective, v.Span))
		}
		for _, i := range s.UserFaults {
			hs.UserFaults = append(hs.UserFaults, newHTMLInstance(i, s.Objective, v.Span))
		}
		for _, c := range s.Codes {
			hs.Codes = append(hs.Codes, htmlCode{Code: c.Code, Class: c.Class, Count: fmtCount(c.Count)})
		}
		for _, c := range s.Unclassified {
			hs.Unclassified = append(hs.Unclassified, htmlCode{Code: c.Code, Class: c.Class, Count: fmtCount(c.Count)})
		}
		for _, a := range s.Alerts {
			hs.Alerts = append(hs.Alerts, htmlAlert{
				Alert: a.Alert, Severity: a.Severity, Labels: fmtLabels(a.Labels),
				Fired: fmtTime(a.Fired), For: fmtDuration(a.Fired, a.Resolved), Acknowledged: fmtAck(a.Acknowledged),
			})
		}
		v.SLOs = append(v.SLOs, hs)
	}
	return v
}

func newHTMLInstance(i Instance, objective float64, sw spanWords) htmlInstance {
	return htmlInstance{
		Labels: fmtLabels(i.Labels), SLI: fmtSLI(i.weekSLI()), Status: statusOver(i.weekSLI(), objective, sw.This),
		BudgetRemaining: fmtBudget(i.BudgetRemaining), Burned: fmtBudget(i.Burned),
		UserFaults: fmtCount(i.UserFaults), Spark: sparkline(i.Spark),
	}
}
