package report

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteMarkdown writes the report as CommonMark for a wiki or a chat: the
// fleet summary on top, then one section per SLO. Every string from the
// report is escaped, so a label value can neither break a table nor inject
// HTML; an SLI without data reads "no data", never 100%.
func WriteMarkdown(w io.Writer, r Report) error {
	b := bufio.NewWriter(w)
	m := mdWriter{b}
	title := r.Title
	if title == "" {
		title = "Error-budget report"
	}
	m.f("# %s\n\n", md(title))
	sw := r.words()
	m.f("%s %s – %s · generated %s\n\n", sw.Meta, fmtTime(r.From), fmtTime(r.To), fmtTime(r.Generated))

	m.f("## Fleet\n\n")
	m.f("- SLOs that met their objective %s: **%d of %d**\n", sw.This, r.Fleet.SLOsMet, r.Fleet.SLOs)
	m.f("- SLOs meeting their objective over their period: **%d of %d**\n", periodsMet(r), len(r.SLOs))
	m.f("- Instances that met their objective %s: **%d of %d**\n", sw.This, r.Fleet.InstancesMet, r.Fleet.Instances)
	if len(r.Fleet.AtRisk) == 0 {
		m.f("- At risk: none\n\n")
	} else {
		names := make([]string, len(r.Fleet.AtRisk))
		for n, a := range r.Fleet.AtRisk {
			names[n] = md(a)
		}
		m.f("- At risk (budget runs out before the period ends at %s): **%s**\n\n", sw.Rate, strings.Join(names, ", "))
	}
	if len(r.SLOs) > 0 {
		m.f("| SLO | Objective | SLI %s | SLI period | Budget left | Burned %s | vs %s | Status |\n", sw.Unit, sw.This, sw.Last)
		m.f("|---|---:|---:|---:|---:|---:|---:|---|\n")
		for _, s := range r.SLOs {
			m.f("| %s | %s | %s | %s | %s | %s | %s | %s; %s |\n", md(s.Name), fmtObjective(s.Objective),
				fmtSLI(s.SLIWeek), fmtSLI(s.SLIPeriod), fmtBudget(s.BudgetRemaining), fmtBudget(s.BurnedWeek),
				fmtDelta(s.BurnedWeek, s.BurnedPrevWeek), statusOver(s.SLIWeek, s.Objective, sw.This).Text,
				md(statusOver(s.SLIPeriod, s.Objective, "over "+s.Window).Text))
		}
		m.f("\n")
	}

	for _, s := range r.SLOs {
		writeMarkdownSLO(m, s, sw)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("writing Markdown report: %w", err)
	}
	return nil
}

func writeMarkdownSLO(m mdWriter, s SLO, sw spanWords) {
	m.f("## %s\n\n", md(s.Name))
	if s.Description != "" {
		m.f("%s\n\n", md(s.Description))
	}
	m.f("Objective **%s** over %s. SLI **%s** %s (%s), %s over the period of %s (%s).\n\n",
		fmtObjective(s.Objective), md(s.Window), fmtSLI(s.SLIWeek), sw.This, status(s.SLIWeek, s.Objective),
		fmtSLI(s.SLIPeriod), md(s.Window), status(s.SLIPeriod, s.Objective))
	m.f("- Budget left: **%s** of the period's budget\n", fmtBudget(s.BudgetRemaining))
	m.f("- Burned %s: **%s** (%s of full outage); %s %s (%s)\n", sw.This,
		fmtBudget(s.BurnedWeek), fmtMinutes(s.BurnedMinutes), sw.Last, fmtBudget(s.BurnedPrevWeek), fmtDelta(s.BurnedWeek, s.BurnedPrevWeek))
	if s.ExcludedMinutes > 0 {
		m.f("- Excluded by maintenance windows: %s\n", fmtMinutes(s.ExcludedMinutes))
	}
	m.f("\n")

	if len(s.Instances) > 0 {
		m.f("### Instances that burned most\n\n")
		m.f("| Instance | SLI %s | Budget left | Burned %s | User faults | Daily burn |\n", sw.Unit, sw.This)
		m.f("|---|---:|---:|---:|---:|---|\n")
		for _, i := range s.Instances {
			m.f("| %s | %s | %s | %s | %s | %s |\n", md(fmtLabels(i.Labels)), fmtSLI(i.weekSLI()),
				fmtBudget(i.BudgetRemaining), fmtBudget(i.Burned), fmtCount(i.UserFaults), sparkText(i.Spark))
		}
		m.f("\n")
	}
	if len(s.Codes) > 0 {
		m.f("### Codes that burned most\n\n| Code | Class | Count |\n|---|---|---:|\n")
		for _, c := range s.Codes {
			m.f("| %s | %s | %s |\n", md(c.Code), md(c.Class), fmtCount(c.Count))
		}
		m.f("\n")
	}
	m.f("### Alerts\n\n")
	if len(s.Alerts) == 0 {
		m.f("No alert fired %s.\n\n", sw.This)
	} else {
		m.f("| Alert | Severity | Instance | Fired | For | Acknowledged |\n|---|---|---|---|---|---|\n")
		for _, a := range s.Alerts {
			m.f("| %s | %s | %s | %s | %s | %s |\n", md(a.Alert), md(a.Severity), md(fmtLabels(a.Labels)),
				fmtTime(a.Fired), fmtDuration(a.Fired, a.Resolved), fmtAck(a.Acknowledged))
		}
		m.f("\n")
	}
	if len(s.UserFaults) > 0 || len(s.Surges) > 0 {
		m.f("### User faults\n\n")
		if len(s.UserFaults) > 0 {
			m.f("| Tenant | User faults |\n|---|---:|\n")
			for _, i := range s.UserFaults {
				m.f("| %s | %s |\n", md(fmtLabels(i.Labels)), fmtCount(i.UserFaults))
			}
			m.f("\n")
		}
		for _, e := range s.Surges {
			m.f("- Surge: %s\n", md(e))
		}
		if len(s.Surges) > 0 {
			m.f("\n")
		}
	}
	if len(s.Unclassified) > 0 {
		m.f("### Unclassified codes (need a rule)\n\n| Code | Count |\n|---|---:|\n")
		for _, c := range s.Unclassified {
			m.f("| %s | %s |\n", md(c.Code), fmtCount(c.Count))
		}
		m.f("\n")
	}
}

type mdWriter struct{ w *bufio.Writer }

// f writes formatted text; bufio.Writer keeps the first error for Flush.
func (m mdWriter) f(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

// mdEscaper backslash-escapes the characters that CommonMark (and GFM's
// tables and strikethrough) can read as markup anywhere in a line, and
// flattens line breaks so that a value cannot end a table row.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `|`, `\|`, `#`, `\#`, `~`, `\~`, `&`, `\&`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// md escapes a string from the report for Markdown. Besides mdEscaper it
// escapes what only means something at the start of a line: a list or
// thematic-break marker ("- ", "+ ", "= ") and an ordered-list number ("1. ").
func md(s string) string {
	s = mdEscaper.Replace(s)
	if s != "" && strings.ContainsRune("-+=", rune(s[0])) {
		return `\` + s
	}
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
		return s[:digits] + `\` + s[digits:]
	}
	return s
}

// sparkLevels are the eighth blocks a text sparkline is drawn with.
var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkText draws values as a line of block characters scaled to their
// maximum, at least sparkFloor (a value v is level round(v/max × 7)); an
// unknown value is a space.
func sparkText(vs []float64) string {
	max := sparkFloor
	for _, v := range vs {
		if !math.IsNaN(v) && v > max {
			max = v
		}
	}
	var b strings.Builder
	for _, v := range vs {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			b.WriteRune(' ')
		case max <= 0 || v <= 0:
			b.WriteRune(sparkLevels[0])
		default:
			b.WriteRune(sparkLevels[int(math.Round(v/max*float64(len(sparkLevels)-1)))])
		}
	}
	return b.String()
}
