package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/readable"
)

// The human formats (Markdown, HTML) share these number formats, chosen so
// that a figure never carries float noise and never rounds a miss up to 100%.

// fmtSLI formats an SLI fraction as a percentage with three decimals
// (0.99874 → "99.874%"); NaN gives "no data". It truncates rather than
// rounds, so 0.99999 shows as "99.999%", never "100.000%".
func fmtSLI(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "no data"
	}
	p := math.Floor(v*100*1000+1e-9) / 1000 // the 1e-9 absorbs 0.999*100000 = 99899.99999999999
	return strconv.FormatFloat(p, 'f', 3, 64) + "%"
}

// fmtObjective formats an objective with as many digits as it has (0.999 → "99.9%").
func fmtObjective(v float64) string {
	return strconv.FormatFloat(math.Round(v*100*1e6)/1e6, 'f', -1, 64) + "%"
}

// fmtBudget formats a budget fraction as a percentage with one decimal
// (−0.123 → "−12.3%"), more where one would round a budget all but spent
// onto 0.0% or 100.0% (readable.Percent); NaN gives "no data".
func fmtBudget(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "no data"
	}
	return strings.Replace(readable.Percent(v), "-", "−", 1)
}

// fmtDelta formats this week's burn against last week's, in percentage points
// of the period's budget: "+12.0 pts", "−3.5 pts", "±0.0 pts".
func fmtDelta(now, prev float64) string {
	if math.IsNaN(now) || math.IsNaN(prev) {
		return "no data"
	}
	d := (now - prev) * 100
	s := strconv.FormatFloat(math.Abs(d), 'f', 1, 64)
	switch {
	case s == "0.0":
		return "±0.0 pts"
	case d > 0:
		return "+" + s + " pts"
	default:
		return "−" + s + " pts"
	}
}

// fmtMinutes formats minutes with one decimal: "43.2 min".
func fmtMinutes(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "no data"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " min"
}

// fmtCount formats a count as people write it (readable.Number): 20500,
// not 20500.000000000004; a fractional count of a span with extrapolated
// traffic keeps three significant digits.
func fmtCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "no data"
	}
	return readable.Number(v)
}

// fmtRate formats a burn rate: "1000×", "16.7×" (readable.Rate).
func fmtRate(v float64) string { return readable.Rate(v) }

// fmtTime formats a time in its own zone, to the minute.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04 MST")
}

// fmtDuration formats how long an alert fired: "still firing" while unresolved.
func fmtDuration(fired, resolved time.Time) string {
	if resolved.IsZero() {
		return "still firing"
	}
	d := resolved.Sub(fired).Round(time.Minute)
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	default:
		return fmt.Sprintf("%dm", m)
	}
}

// fmtAck says whether an alert was acknowledged: "yes", "no" or "unknown".
func fmtAck(a *bool) string {
	switch {
	case a == nil:
		return "unknown"
	case *a:
		return "yes"
	default:
		return "no"
	}
}

// fmtLabels formats labels for people: region="eu",shard="3", or "(all)" for none.
func fmtLabels(labels map[string]string) string {
	s := labelString(labels)
	if s == "" {
		return "(all)"
	}
	return s[1 : len(s)-1]
}
