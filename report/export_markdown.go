package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// markdownExport writes the impact and timeline sections of a postmortem:
// a table of every affected instance with what the incident cost it, then
// the timeline of transitions and notifications. The minutes are not
// written: they are for the JSON and CSV forms.
type markdownExport struct {
	m         mdWriter
	cur       ExportInstance
	instances int
	events    int
}

func newMarkdownExport(w io.Writer) *markdownExport {
	return &markdownExport{m: mdWriter{bufio.NewWriter(w)}}
}

func (x *markdownExport) Begin(h ExportHeader) error {
	m := x.m
	m.f("# Postmortem data: %s to %s\n\n", fmtTime(h.From.UTC()), fmtTime(h.To.UTC()))
	scope := "every SLO"
	if h.SLO != "" {
		scope = "SLO " + md(h.SLO)
	}
	if len(h.Match) > 0 {
		scope += ", instances with " + md(labelString(h.Match))
	}
	m.f("Exported by burnwatch at %s for %s. Budget figures are fractions of each SLO's error budget over its period ending %s; the minutes and burn rates behind them (%s before and after the incident) are in the JSON and CSV exports.\n\n",
		fmtTime(h.Generated.UTC()), scope, fmtTime(h.To.UTC()), model.Duration(h.Margin))
	m.f("## Impact\n\n")
	return nil
}

// endImpact closes the impact section, saying so when it is empty.
func (x *markdownExport) endImpact() {
	if x.instances == 0 {
		x.m.f("No instance failed or alerted in the window.\n")
		x.instances = -1
	}
}

func (x *markdownExport) Instance(in ExportInstance) error {
	x.cur = in
	return nil
}

func (x *markdownExport) Minute(ExportMinute) error { return nil }

func (x *markdownExport) Impact(im ExportImpact) error {
	in := x.cur
	if x.instances == 0 {
		x.m.f("| SLO | instance | failed events | valid events | budget consumed | of the budget | as full outage | peak burn | failures from | to | top codes |\n")
		x.m.f("|---|---|--:|--:|--:|--:|--:|--:|---|---|---|\n")
	}
	x.instances++
	peak, at := 0.0, ""
	for i, p := range im.PeakBurn {
		if p > peak {
			peak, at = p, in.Windows[i]
		}
	}
	peakText := "0×"
	if at != "" {
		peakText = fmt.Sprintf("%s over %s", fmtRate(peak), at)
	}
	var codes []string
	for i, c := range in.Codes {
		if i == 3 {
			codes = append(codes, fmt.Sprintf("and %d more", len(in.Codes)-3))
			break
		}
		codes = append(codes, fmt.Sprintf("%s (%s, %s)", md(c.Code), c.Class, fmtCount(c.Count)))
	}
	x.m.f("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		md(in.SLO), md(labelString(in.Labels)), fmtCount(im.Bad), fmtCount(im.Valid),
		fmtBudget(im.BudgetConsumed), fmtMinutes(im.BudgetMinutes), fmtMinutes(im.OutageMinutes), peakText,
		fmtTime(im.FirstBad.UTC()), fmtTime(im.LastBad.UTC()), strings.Join(codes, "; "))
	return nil
}

func (x *markdownExport) Event(e TimelineEvent) error {
	if x.events == 0 {
		x.endImpact()
		x.m.f("\n## Timeline\n\n| time (UTC) | event | alert | detail |\n|---|---|---|---|\n")
	}
	x.events++
	what := fmt.Sprintf("%s %s %s%s", e.Severity, e.Alert, e.SLO, labelString(e.Labels))
	detail := e.Detail
	if e.Receiver != "" {
		detail = strings.TrimSpace("to " + e.Receiver + "; " + detail)
		detail = strings.TrimSuffix(detail, ";")
	}
	x.m.f("| %s | %s | %s | %s |\n", e.Time.UTC().Format(time.DateTime), e.Event, md(what), md(detail))
	return nil
}

func (x *markdownExport) End() error {
	if x.events == 0 {
		x.endImpact()
		x.m.f("\n## Timeline\n\nNo alert changed state in the window.\n")
	}
	if err := x.m.w.Flush(); err != nil {
		return fmt.Errorf("writing the Markdown export: %w", err)
	}
	return nil
}
