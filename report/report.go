// Package report renders the weekly error-budget report from a Report: the
// numbers are computed elsewhere (from the store, with the same arithmetic as
// the alerts); this package only lays them out, as Markdown for a wiki or a
// chat, as one self-contained HTML file with charts, and as JSON and CSV for
// other tools. Every renderer reads the Report alone, so the four formats
// never disagree.
package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/readable"
)

// Report is one weekly error-budget report: the week From..To, a fleet summary
// and one section per SLO.
type Report struct {
	Title     string
	From, To  time.Time // the week reported on
	Generated time.Time
	Fleet     Fleet
	SLOs      []SLO
}

// Fleet is the summary on top of the report.
type Fleet struct {
	SLOs, SLOsMet           int
	Instances, InstancesMet int
	// AtRisk names the SLOs (or "slo{labels}" instances) whose budget runs
	// out before the period ends if it keeps burning at this week's rate.
	AtRisk []string
}

// SLO is one SLO's section of the report.
type SLO struct {
	Name, Description string
	Objective         float64 // e.g. 0.999
	Window            string  // the rolling period, e.g. "30d"

	// SLIWeek and SLIPeriod are the SLI achieved over the week and over the
	// rolling period, as fractions (0.9987); NaN means no data.
	SLIWeek, SLIPeriod float64
	// BudgetRemaining is the fraction of the period's budget left; it is
	// negative once the budget is overspent.
	BudgetRemaining float64
	// BurnedWeek and BurnedPrevWeek are the fractions of the period's budget
	// burned this week and the week before.
	BurnedWeek, BurnedPrevWeek float64
	// BurnedMinutes is this week's burn as minutes of full outage:
	// the week's bad ÷ valid events × the week's minutes with data.
	BurnedMinutes float64

	BurnDown []Point // budget remaining over the period, for the burn-down chart
	BurnRate []Point // the burn rate of every 2 hours of the week, for the burn-rate chart

	Instances    []Instance // the instances that burned most, most first
	Codes        []Code     // the codes that burned most, with their class
	Alerts       []Alert    // the alerts that fired this week
	UserFaults   []Instance // the tenants with the most user faults
	Surges       []string   // surge episodes, readable
	Unclassified []Code     // codes no rule classifies yet

	ExcludedMinutes float64 // maintenance time excluded from the budget
}

// Point is one point of a chart's series.
type Point struct {
	T time.Time
	V float64
}

// Instance is one SLO instance (a label set) or, in SLO.UserFaults, one tenant.
type Instance struct {
	Labels          map[string]string
	SLI             float64 // SLI achieved this week; NaN means no data
	BudgetRemaining float64
	Burned          float64 // fraction of the period's budget burned this week
	UserFaults      float64
	NoData          bool      // no events this week: the SLI is unknown, not 100%
	Spark           []float64 // daily burn over the week, for a sparkline
}

// Code is an error code and how much it counted.
type Code struct {
	Code, Class string
	Count       float64
}

// Alert is an alert that fired during the week.
type Alert struct {
	Alert, Severity string
	Labels          map[string]string
	Fired, Resolved time.Time // Resolved is zero while still firing
	Acknowledged    *bool     // nil when the pager does not say
}

// spanWords name the report's span in its prose: a week is "this week"
// and "last week"; another span is named by its length, "these 2 days"
// and "the 2 days before".
type spanWords struct {
	Meta       string // the line under the title: "Week" or "From"
	Unit       string // "week", "2 days"
	This, Last string // "this week", "last week"
	Rate       string // "this week's rate"
}

func (r Report) words() spanWords {
	d := r.To.Sub(r.From)
	if d == 7*24*time.Hour || d <= 0 {
		return spanWords{Meta: "Week", Unit: "week", This: "this week", Last: "last week", Rate: "this week's rate"}
	}
	var unit string
	switch {
	case d == 24*time.Hour:
		return spanWords{Meta: "From", Unit: "day", This: "this day", Last: "the day before", Rate: "this day's rate"}
	case d == time.Hour:
		return spanWords{Meta: "From", Unit: "hour", This: "this hour", Last: "the hour before", Rate: "this hour's rate"}
	case d%(24*time.Hour) == 0:
		unit = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d%time.Hour == 0:
		unit = fmt.Sprintf("%d hours", int(d/time.Hour))
	case d < time.Hour && d%time.Minute == 0:
		unit = fmt.Sprintf("%d minutes", int(d/time.Minute))
	default:
		unit = readable.Number(d.Hours()) + " hours"
	}
	return spanWords{Meta: "From", Unit: unit, This: "these " + unit, Last: "the " + unit + " before", Rate: "the rate of these " + unit}
}

// weekSLI is the instance's SLI this week, NaN when it had no data: the one
// rule every renderer follows so that "no data" is never shown as 100%.
func (i Instance) weekSLI() float64 {
	if i.NoData {
		return math.NaN()
	}
	return i.SLI
}

// statusWord is whether an SLI met its objective over a span, as a
// report says it: Class is "met", "missed" or "no data" (the badge's
// colour), Text says over which span: "missed this week", "met over 30d".
type statusWord struct{ Class, Text string }

// statusOver says whether an SLI met its objective over the span named by
// over ("this week", "over 30d"). A weekly miss beside a period met must
// not read as a missed SLO: every status names its span.
func statusOver(sli, objective float64, over string) statusWord {
	c := status(sli, objective)
	if c == "no data" {
		return statusWord{Class: c, Text: "no data " + over}
	}
	return statusWord{Class: c, Text: c + " " + over}
}

// periodsMet counts the SLOs whose SLI over their period meets the
// objective: the figure beside the week's, so that a week missed within a
// period met says so.
func periodsMet(r Report) int {
	n := 0
	for _, s := range r.SLOs {
		if status(s.SLIPeriod, s.Objective) == "met" {
			n++
		}
	}
	return n
}

// status says whether an SLI met its objective: "met", "missed" or "no data".
func status(sli, objective float64) string {
	switch {
	case math.IsNaN(sli) || math.IsInf(sli, 0):
		return "no data"
	case sli >= objective:
		return "met"
	default:
		return "missed"
	}
}

// labelString writes labels the way Prometheus does, keys sorted:
// {code="500",region="eu"}; no labels give "".
func labelString(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for n, k := range keys {
		if n > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(labels[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// fleetRow is one instance of the fleet table, with the SLO it belongs to.
type fleetRow struct {
	SLO       string
	Objective float64
	Instance  Instance
}

// fleetRows lists every instance of every SLO, worst first: by budget
// remaining ascending (unknown budgets last), then by budget burned this week
// descending, then by name, so the order is stable.
func fleetRows(r Report) []fleetRow {
	var rows []fleetRow
	for _, s := range r.SLOs {
		for _, i := range s.Instances {
			rows = append(rows, fleetRow{SLO: s.Name, Objective: s.Objective, Instance: i})
		}
	}
	sort.SliceStable(rows, func(a, b int) bool {
		x, y := rows[a], rows[b]
		xn, yn := math.IsNaN(x.Instance.BudgetRemaining), math.IsNaN(y.Instance.BudgetRemaining)
		if xn != yn {
			return yn
		}
		if !xn && x.Instance.BudgetRemaining != y.Instance.BudgetRemaining {
			return x.Instance.BudgetRemaining < y.Instance.BudgetRemaining
		}
		if x.Instance.Burned != y.Instance.Burned {
			return x.Instance.Burned > y.Instance.Burned
		}
		if x.SLO != y.SLO {
			return x.SLO < y.SLO
		}
		return labelString(x.Instance.Labels) < labelString(y.Instance.Labels)
	})
	return rows
}
