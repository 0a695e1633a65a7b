package service

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/store"
)

// maxReportInstances is how many instances an SLO's section lists.
const maxReportInstances = 10

// reportStep is the burn-rate chart's resolution.
const reportStep = 2 * time.Hour

// Report computes the error-budget report of the span (from, to], a week
// as a rule, from the same history and arithmetic as the alerts. Edges
// older than the last 6 hours fall between the engine's 2-hour boundaries
// and are interpolated (docs/semantics.md). Error codes, user faults and
// unclassified codes come from the stored history's hours.
func (s *Service) Report(ctx context.Context, from, to time.Time) (report.Report, error) {
	if err := checkReportSpan(from, to, engine.HistoryRetention(s.config())); err != nil {
		return report.Report{}, err
	}
	// Reports asked over HTTP take a slot; the scheduled one, made by the
	// evaluation loop once a week, never waits for one.
	if overHTTP(ctx) {
		release, err := slot(ctx, s.reports)
		if err != nil {
			return report.Report{}, err
		}
		defer release()
	}
	end := to.UnixMilli()
	r := report.Report{
		Title:     reportTitle(from, to),
		From:      from.UTC(),
		To:        to.UTC(),
		Generated: s.now().UTC(),
	}
	// The store's part first, without the lock: a week of a fleet's codes
	// is a long query, and the cycles must not wait for it.
	alerts, err := s.weekAlerts(ctx, from, to)
	if err != nil {
		return r, err
	}
	// The codes of the hours not written to the history yet (the hour
	// under way, and the one settling) from the engine, and those before
	// from the store: the hour before which each SLO's history is written
	// divides them, as an export's do.
	codes := map[string]*weekCodes{}
	cursors := map[string]int64{}
	// Codes are kept by the hour: those of every hour the span touches,
	// the one under way included when the span ends now.
	fromH, toH := from.UnixMilli()/hourMS, (end+hourMS-1)/hourMS
	err = s.do(ctx, func() error {
		for _, sp := range s.eng.Router().Specs {
			name := sp.SLO.Name
			wc := newWeekCodes()
			cursors[name] = s.eng.HistoryCursor(name)
			for _, in := range sp.Instances() {
				key := s.eng.KeyOf(in)
				for h := max(cursors[name], fromH); h < toH; h++ {
					for _, c := range s.eng.Router().HourCodes(in, h) {
						wc.add(store.CodeTotal{Instance: key, Code: c.Code, Class: c.Class, Rule: c.Rule, Count: c.Count})
					}
				}
			}
			codes[name] = wc
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	for name, wc := range codes {
		if err := s.loadWeekCodes(ctx, wc, name, fromH, min(toH, cursors[name])); err != nil {
			return r, err
		}
	}
	silences := s.silenceSet()
	// The engine's part on the writer, between applies: the sums a report
	// takes are a few per instance and day, tens of milliseconds for a
	// large fleet.
	err = s.do(ctx, func() error {
		r.SLOs, r.Fleet = nil, report.Fleet{}
		for _, sp := range s.eng.Router().Specs {
			if err := ctx.Err(); err != nil {
				return err // the client went away
			}
			sec := s.sloSection(sp, end, to.Sub(from))
			sec.Alerts = alerts[sp.SLO.Name]
			if wc := codes[sp.SLO.Name]; wc != nil {
				wc.fill(&sec)
			}
			for _, ep := range sp.Episodes() {
				if ep.From.Before(to) && (ep.To.IsZero() || ep.To.After(from)) {
					sec.Surges = append(sec.Surges, fmt.Sprintf("%s: user faults at %.0f× its baseline from %s", ep.Labels, ep.Peak, ep.From.Format(time.RFC3339)))
				}
			}
			sec.ExcludedMinutes = excludedMinutes(silences, sp, from, to)
			// Met, as the status shows it: the span's SLI at or above the
			// objective; without data, not met.
			r.Fleet.SLOs++
			if sec.SLIWeek >= sec.Objective {
				r.Fleet.SLOsMet++
			}
			for _, in := range sp.Instances() {
				r.Fleet.Instances++
				if wk := in.Sum(end, to.Sub(from)); wk.Valid > 0 && 1-wk.Bad/wk.Valid >= sec.Objective {
					r.Fleet.InstancesMet++
				}
			}
			// At this span's rate, a period's worth of spans burns more than
			// the whole budget.
			if spans := float64(sp.SLO.Window.Std()) / float64(to.Sub(from)); sec.BurnedWeek*spans > 1 {
				r.Fleet.AtRisk = append(r.Fleet.AtRisk, sp.SLO.Name)
			}
			r.SLOs = append(r.SLOs, sec)
		}
		return nil
	})
	return r, err
}

// weekCodes are an SLO's codes of a span, from the history: the platform
// codes that burned the budget, the codes no rule knew, and the user
// faults per instance key.
type weekCodes struct {
	platform, unclassified []report.Code
	faults                 map[string]float64
}

func (s *Service) sloNames() []string {
	cfg := s.config()
	names := make([]string, 0, len(cfg.SLOs))
	for _, x := range cfg.SLOs {
		names = append(names, x.Name)
	}
	return names
}

func newWeekCodes() *weekCodes { return &weekCodes{faults: map[string]float64{}} }

// add counts an instance's errors of one code.
func (wc *weekCodes) add(t store.CodeTotal) {
	add := func(list []report.Code) []report.Code {
		i := slices.IndexFunc(list, func(c report.Code) bool { return c.Code == t.Code })
		if i < 0 {
			return append(list, report.Code{Code: t.Code, Class: t.Class, Count: t.Count})
		}
		list[i].Count += t.Count
		return list
	}
	switch {
	case t.Class == classify.User.String():
		wc.faults[t.Instance.Key] += t.Count
	case t.Class == classify.Platform.String():
		wc.platform = add(wc.platform)
	}
	if t.Rule == classify.DefaultRule {
		wc.unclassified = add(wc.unclassified)
	}
}

// loadWeekCodes adds an SLO's codes of the history's hours [from, to).
func (s *Service) loadWeekCodes(ctx context.Context, wc *weekCodes, slo string, from, to int64) error {
	if to <= from {
		return nil
	}
	return s.db.HistoryCodes(ctx, slo, nil, from, to, func(t store.CodeTotal) error {
		wc.add(t)
		return nil
	})
}

// fill puts the codes in an SLO's section: the codes that burned the
// budget, the tenants with the most user faults and the codes no rule
// knew.
func (wc *weekCodes) fill(sec *report.SLO) {
	sec.Codes = mostFirst(wc.platform, maxReportCodes)
	sec.Unclassified = mostFirst(wc.unclassified, len(wc.unclassified))
	for key, n := range wc.faults {
		lset, err := engine.ParseLabelsJSON(key)
		if err != nil {
			continue // not a key the service wrote
		}
		sec.UserFaults = append(sec.UserFaults, report.Instance{Labels: lset.Map(), UserFaults: n, SLI: math.NaN(), BudgetRemaining: math.NaN(), Burned: math.NaN()})
	}
	slices.SortFunc(sec.UserFaults, func(a, b report.Instance) int {
		if c := cmp.Compare(b.UserFaults, a.UserFaults); c != 0 {
			return c
		}
		return cmp.Compare(labels.FromMap(a.Labels).String(), labels.FromMap(b.Labels).String())
	})
	sec.UserFaults = sec.UserFaults[:min(len(sec.UserFaults), maxReportInstances)]
	for i := range sec.Instances {
		sec.Instances[i].UserFaults = wc.faults[engine.LabelsJSON(labels.FromMap(sec.Instances[i].Labels))]
	}
}

// excludedMinutes is the time in [from, to) that maintenance windows took
// out of the SLO's budget, for any of its instances: the windows'
// occurrences as the budget exclusion counts them (whole minutes, clipped
// to the span), merged so that overlaps count once.
func excludedMinutes(silences *silence.Set, sp *burnrate.Spec, from, to time.Time) float64 {
	var spans []silence.Span
	seen := map[string]bool{}
	add := func(lset map[string]string) {
		for _, x := range silences.Excluded(sp.SLO.Name, lset, from, to) {
			if k := x.Start.String() + x.End.String(); !seen[k] {
				seen[k] = true
				spans = append(spans, x)
			}
		}
	}
	add(nil)
	for _, in := range sp.Instances() {
		add(in.Labels.Map())
	}
	slices.SortFunc(spans, func(a, b silence.Span) int { return a.Start.Compare(b.Start) })
	total, reach := time.Duration(0), time.Time{}
	for _, x := range spans {
		if x.Start.Before(reach) {
			x.Start = reach
		}
		if x.End.After(x.Start) {
			total += x.End.Sub(x.Start)
			reach = x.End
		}
	}
	return total.Minutes()
}

// maxReportCodes is how many codes an SLO's section lists.
const maxReportCodes = 10

// mostFirst sorts codes by count, most first (then by code), and keeps n.
func mostFirst(codes []report.Code, n int) []report.Code {
	slices.SortFunc(codes, func(a, b report.Code) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return codes[:min(len(codes), n)]
}

// sloSection is one SLO's figures for the span of length week ending at
// end (ms): a week, unless the report was asked for another span.
func (s *Service) sloSection(sp *burnrate.Spec, end int64, week time.Duration) report.SLO {
	x := sp.SLO
	period := x.Window.Std()
	budget := x.Budget()
	// 1 − budget, not objective ÷ 100: 99.9 ÷ 100 is 0.9990000000000001,
	// under which an SLI of exactly 0.999 would miss.
	sec := report.SLO{Name: x.Name, Description: x.Description, Objective: 1 - budget, Window: x.Window.String()}
	// Every budget figure is a share of the period's budget ending at
	// end, a young instance's extrapolated over the period
	// (burnrate.Budget), as pages and the API state it; for a span still
	// under way, the period ending now: the time to come is not observed.
	var wk, prev burnrate.Counts
	var per burnrate.Budget
	at := min(end, s.now().UnixMilli())
	for _, in := range sp.Instances() {
		wk = wk.Plus(in.Sum(end, week))
		prev = prev.Plus(in.Sum(end-week.Milliseconds(), week))
		per = per.Plus(in.Budget(at))
	}
	sec.SLIWeek, sec.SLIPeriod = sli(wk), sli(per.Period)
	sec.BudgetRemaining = per.Remaining()
	sec.BurnedWeek = per.Consumed(wk.Bad)
	sec.BurnedPrevWeek = per.Consumed(prev.Bad)
	// Minutes of full outage: the span's failures as the minutes they
	// would fill if every event had failed, bad ÷ valid × the span's
	// minutes with data (a recording of 10 hours holds no more).
	if wk.Valid > 0 {
		sec.BurnedMinutes = wk.Bad / wk.Valid * dataMinutes(sp.Instances(), end-week.Milliseconds(), end)
	}

	start := end - period.Milliseconds()
	first, _ := dataSpan(sp.Instances())
	for d := int64(0); d <= int64(period/(24*time.Hour)); d++ {
		t := start + d*24*time.Hour.Milliseconds()
		var spent burnrate.Counts
		for _, in := range sp.Instances() {
			spent = spent.Plus(in.Sum(t, time.Duration(t-start)*time.Millisecond))
		}
		left := 1.0
		switch {
		case first == 0 || t < first-60_000:
			// Before the first events the budget was not known to be
			// anything: a gap in the chart, not a flat 100%.
			left = math.NaN()
		case per.Allowed > 0:
			left = 1 - per.Consumed(spent.Bad)
		}
		sec.BurnDown = append(sec.BurnDown, report.Point{T: time.UnixMilli(t).UTC(), V: left})
	}
	// Every two hours: the store's resolution beyond its last six hours,
	// so the chart shows no finer detail than the history holds.
	for h := int64(1); h <= int64(week/reportStep); h++ {
		t := end - week.Milliseconds() + h*reportStep.Milliseconds()
		var c burnrate.Counts
		for _, in := range sp.Instances() {
			c = c.Plus(in.Sum(t, reportStep))
		}
		sec.BurnRate = append(sec.BurnRate, report.Point{T: time.UnixMilli(t).UTC(), V: burnrate.BurnRate(c, budget)})
	}

	var insts []report.Instance
	for _, in := range sp.Instances() {
		w, p := in.Sum(end, week), in.Budget(at)
		ri := report.Instance{Labels: in.Labels.Map(), SLI: sli(w), BudgetRemaining: p.Remaining(), NoData: w.Valid <= 0}
		if p.Allowed > 0 {
			ri.Burned = p.Consumed(w.Bad)
			for d := int64(1); d <= int64(week/(24*time.Hour)); d++ {
				day := in.Sum(end-week.Milliseconds()+d*24*time.Hour.Milliseconds(), 24*time.Hour)
				ri.Spark = append(ri.Spark, p.Consumed(day.Bad))
			}
		}
		insts = append(insts, ri)
	}
	slices.SortStableFunc(insts, func(a, b report.Instance) int { return cmp.Compare(b.Burned, a.Burned) })
	sec.Instances = insts[:min(len(insts), maxReportInstances)]
	return sec
}

// dataSpan is the time of the instances' first and last minutes with
// events (ms), zeros without any.
func dataSpan(insts []*burnrate.Instance) (first, last int64) {
	for _, in := range insts {
		if f := in.FirstData(); f > 0 && (first == 0 || f < first) {
			first = f
		}
		last = max(last, in.LastData())
	}
	return first, last
}

// dataMinutes is how much of the span (from, to] (ms) lies between the
// instances' first and last minutes with events, in minutes.
func dataMinutes(insts []*burnrate.Instance, from, to int64) float64 {
	first, last := dataSpan(insts)
	if first == 0 {
		return 0
	}
	// The first minute with events is the bucket (first − 1m, first].
	lo, hi := max(from, first-60_000), min(to, last)
	return float64(max(0, hi-lo)) / 60_000
}

func sli(c burnrate.Counts) float64 {
	if c.Valid <= 0 {
		return math.NaN()
	}
	return 1 - c.Bad/c.Valid
}

// weekAlerts pairs the week's firing transitions with their resolves, by
// SLO, from the transition log.
func (s *Service) weekAlerts(ctx context.Context, from, to time.Time) (map[string][]report.Alert, error) {
	out := map[string][]report.Alert{}
	open := map[string]int{} // alert id → index in out[slo]
	err := s.db.Transitions(ctx, from.UnixMilli(), to.UnixMilli(), func(rec store.TransitionRecord) error {
		t, err := parseTransitionLine(rec.JSON)
		if err != nil {
			return nil
		}
		switch t.State {
		case "firing":
			open[rec.AlertID] = len(out[t.SLO])
			out[t.SLO] = append(out[t.SLO], report.Alert{Alert: t.Alert, Severity: t.Severity, Labels: t.Labels, Fired: t.Time})
		case "resolved":
			if i, ok := open[rec.AlertID]; ok {
				out[t.SLO][i].Resolved = t.Time
				delete(open, rec.AlertID)
			}
		}
		return nil
	})
	return out, err
}

// reportRoute serves GET /api/v1/report?week=2026-W47&format=md|html|json|csv:
// the weekly report of that ISO week (default: the last complete one), or
// with from and to (RFC 3339) of that span.
func (s *Service) reportRoute(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/report", func(w http.ResponseWriter, r *http.Request) {
		longAnswer(w, reportTimeout)
		from, to, err := reportSpan(r.URL.Query(), s.now())
		if err != nil {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		rep, err := s.Report(withoutWaiting(r.Context()), from, to)
		switch {
		case errors.Is(err, ErrReportTooLong):
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		case errors.Is(err, ErrBusy):
			busy(w)
			return
		case err != nil && r.Context().Err() != nil:
			return // the client went away
		case err != nil:
			s.log.Error("making a report", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the report could not be made"})
			return
		}
		f := r.URL.Query().Get("format")
		write, ctype, ok := ReportWriter(f)
		if !ok {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("format %q: valid: md, html, json, csv", f)})
			return
		}
		// Made whole before the status goes out (a report is a few
		// hundred KB at most), so that a report that cannot be written is
		// a 500 that says so, never a 200 with an empty or cut body.
		var buf bytes.Buffer
		if err := write(&buf, rep); err != nil {
			s.log.Error("writing a report", "err", err)
			writeJSONBody(w, http.StatusInternalServerError, map[string]any{"error": "the report could not be written: " + err.Error()})
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		w.Write(buf.Bytes())
	})
}

// reportSpan is the span a report is asked for: from and to (RFC 3339),
// or an ISO week (default: the last complete one).
func reportSpan(v url.Values, now time.Time) (from, to time.Time, err error) {
	if v.Get("from") == "" && v.Get("to") == "" {
		from, err = WeekStart(v.Get("week"), now)
		return from, from.Add(7 * 24 * time.Hour), err
	}
	if from, err = parseExportTime("from", v.Get("from")); err != nil {
		return from, to, err
	}
	if to, err = parseExportTime("to", v.Get("to")); err != nil {
		return from, to, err
	}
	if !to.After(from) {
		return from, to, fmt.Errorf("to %s is not after from %s", v.Get("to"), v.Get("from"))
	}
	return from, to, nil
}

// WeekStart reads an ISO week such as 2026-W47 as its Monday 00:00 UTC;
// empty means the last complete week before now.
func WeekStart(week string, now time.Time) (time.Time, error) {
	if week == "" {
		now = now.UTC()
		monday := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		monday = monday.AddDate(0, 0, -((int(monday.Weekday()) + 6) % 7))
		return monday.AddDate(0, 0, -7), nil
	}
	var y, wk int
	if _, err := fmt.Sscanf(week, "%d-W%d", &y, &wk); err != nil || wk < 1 || wk > 53 {
		return time.Time{}, fmt.Errorf("week %q: want an ISO week such as 2026-W47", week)
	}
	// Monday of ISO week 1 is the Monday of the week holding January 4.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	w1 := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return w1.AddDate(0, 0, 7*(wk-1)), nil
}

// reportTitle names a report: its ISO week, or its span.
func reportTitle(from, to time.Time) string {
	if wk, _ := WeekStart(fmt.Sprintf("%d-W%02d", isoYear(from), isoWeek(from)), from); wk.Equal(from) && to.Sub(from) == 7*24*time.Hour {
		return fmt.Sprintf("Weekly error budget — %d-W%02d", isoYear(from), isoWeek(from))
	}
	return fmt.Sprintf("Error budget — %s to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
}

func isoYear(t time.Time) int { y, _ := t.ISOWeek(); return y }
func isoWeek(t time.Time) int { _, w := t.ISOWeek(); return w }

// hourMS is an hour in milliseconds.
const hourMS = int64(time.Hour / time.Millisecond)
