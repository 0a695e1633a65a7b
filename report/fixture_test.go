package report_test

import (
	"math"
	"time"

	"github.com/burnwatch/burnwatch/report"
)

// weekStart is the Monday the hand-made report's week begins.
var weekStart = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

// handMade is a small report written by hand: "checkout-availability" had an
// outage on Wednesday that overspent its budget, with one instance that sent
// no data all week; "search-latency" was quiet.
func handMade() report.Report {
	from, to := weekStart, weekStart.AddDate(0, 0, 7)
	yes, no := true, false

	// Burn-down over the 30-day period: 2% a day until the outage, then
	// −45% in one go, then 2% a day again.
	var down, quietDown []report.Point
	periodStart := to.AddDate(0, 0, -30)
	left, quietLeft := 1.0, 1.0
	for d := 0; d <= 30; d++ {
		t := periodStart.AddDate(0, 0, d)
		if t.Equal(from.AddDate(0, 0, 2)) {
			left -= 1.05
		}
		down = append(down, report.Point{T: t, V: left})
		quietDown = append(quietDown, report.Point{T: t, V: quietLeft})
		left -= 0.02
		quietLeft -= 0.004
	}
	// Hourly burn rate: 0.5× with a 3-hour outage at 40× on Wednesday and
	// one hour missing (NaN) on Friday.
	var rate, quietRate []report.Point
	for h := 0; h < 7*24; h++ {
		t := from.Add(time.Duration(h) * time.Hour)
		v := 0.5
		switch {
		case h >= 2*24+14 && h < 2*24+17:
			v = 40
		case h == 4*24+3:
			v = math.NaN()
		}
		rate = append(rate, report.Point{T: t, V: v})
		quietRate = append(quietRate, report.Point{T: t, V: 0.1 + 0.05*float64(h%24)/24})
	}

	return report.Report{
		Title: "Weekly error budget — 2026-W47",
		From:  from, To: to,
		Generated: to.Add(9 * time.Hour),
		Fleet: report.Fleet{
			SLOs: 2, SLOsMet: 1, Instances: 4, InstancesMet: 2,
			AtRisk: []string{`checkout-availability{region="eu-west"}`},
		},
		SLOs: []report.SLO{
			{
				Name: "checkout-availability", Description: "Checkout requests that succeed.",
				Objective: 0.999, Window: "30d",
				SLIWeek: 0.99532, SLIPeriod: 0.99871,
				BudgetRemaining: -0.29, BurnedWeek: 1.09, BurnedPrevWeek: 0.14,
				BurnedMinutes: 47.088, // 1.09 × (1 − 0.999) × 43200 min
				BurnDown:      down, BurnRate: rate,
				Instances: []report.Instance{
					{Labels: map[string]string{"region": "eu-west"}, SLI: 0.99231, BudgetRemaining: -0.61, Burned: 1.79, UserFaults: 12,
						Spark: []float64{0.02, 0.02, 1.6, 0.05, 0.04, 0.03, 0.03}},
					{Labels: map[string]string{"region": "us-east"}, SLI: 0.99958, BudgetRemaining: 0.42, Burned: 0.41, UserFaults: 3,
						Spark: []float64{0.01, 0.02, 0.3, 0.02, math.NaN(), 0.03, 0.03}},
					{Labels: map[string]string{"region": "ap-south"}, SLI: math.NaN(), BudgetRemaining: math.NaN(), NoData: true},
				},
				Codes: []report.Code{
					{Code: "503", Class: "platform", Count: 18234},
					{Code: "Neo.TransientError.General.DatabaseUnavailable", Class: "platform", Count: 911},
					{Code: "429", Class: "user", Count: 120},
				},
				Alerts: []report.Alert{
					{Alert: "checkout-availability-page", Severity: "page", Labels: map[string]string{"region": "eu-west"},
						Fired: from.Add(2*24*time.Hour + 14*time.Hour + 4*time.Minute), Resolved: from.Add(2*24*time.Hour + 17*time.Hour + 21*time.Minute), Acknowledged: &yes},
					{Alert: "checkout-availability-ticket", Severity: "ticket", Labels: map[string]string{"region": "us-east"},
						Fired: from.Add(2*24*time.Hour + 15*time.Hour), Resolved: from.Add(2*24*time.Hour + 21*time.Hour), Acknowledged: &no},
					{Alert: "checkout-availability-ticket", Severity: "ticket", Labels: map[string]string{"region": "eu-west"},
						Fired: from.Add(6*24*time.Hour + 22*time.Hour)},
				},
				UserFaults: []report.Instance{
					{Labels: map[string]string{"tenant": "acme"}, UserFaults: 4210},
					{Labels: map[string]string{"tenant": "globex"}, UserFaults: 388},
				},
				Surges:          []string{"acme: 4,100 syntax errors between Tue 10:02 and 10:19 (ignored)"},
				Unclassified:    []report.Code{{Code: "ERR_UPSTREAM_RESET", Count: 57}},
				ExcludedMinutes: 30,
			},
			{
				Name: "search-latency", Description: "Searches answered within 300 ms.",
				Objective: 0.99, Window: "30d",
				SLIWeek: 0.99911, SLIPeriod: 0.99902,
				BudgetRemaining: 0.88, BurnedWeek: 0.028, BurnedPrevWeek: 0.031,
				BurnedMinutes: 12.096, // 0.028 × (1 − 0.99) × 43200 min
				BurnDown:      quietDown, BurnRate: quietRate,
				Instances: []report.Instance{
					{Labels: map[string]string{"cluster": "search-1"}, SLI: 0.99911, BudgetRemaining: 0.88, Burned: 0.028,
						Spark: []float64{0.004, 0.004, 0.005, 0.004, 0.003, 0.004, 0.004}},
				},
			},
		},
	}
}
