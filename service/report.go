package service

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/store"
)

// maxReportInstances is how many instances an SLO's section lists.
const maxReportInstances = 10

// reportStep is the burn-rate chart's resolution.
const reportStep = 2 * time.Hour

// Report computes the weekly error-budget report of the week [from,
// from+7d) from the same history and arithmetic as the alerts. A week's
// edges older than the last 6 hours fall between the store's 2-hour
// boundaries and are interpolated (docs/semantics.md). Error codes, user
// faults and unclassified codes are counted per UTC day since the service
// started.
func (s *Service) Report(ctx context.Context, from time.Time) (report.Report, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	to := from.Add(7 * 24 * time.Hour)
	end := to.UnixMilli()
	r := report.Report{
		Title:     fmt.Sprintf("Weekly error budget — %d-W%02d", isoYear(from), isoWeek(from)),
		From:      from.UTC(),
		To:        to.UTC(),
		Generated: s.now().UTC(),
	}
	alerts, err := s.weekAlerts(ctx, from, to)
	if err != nil {
		return r, err
	}
	for _, sp := range s.router.Specs {
		sec := s.sloSection(sp, end)
		sec.Alerts = alerts[sp.SLO.Name]
		s.weekCodes(&sec, sp, from.UnixMilli(), end)
		for _, ep := range sp.Episodes() {
			if ep.From.Before(to) && (ep.To.IsZero() || ep.To.After(from)) {
				sec.Surges = append(sec.Surges, fmt.Sprintf("%s: user faults at %.0f× its baseline from %s", ep.Labels, ep.Peak, ep.From.Format(time.RFC3339)))
			}
		}
		for _, w := range s.cfg.Maintenance {
			if w.ExcludeFromBudget && w.Applies(sp.SLO.Name, nil) {
				for _, o := range w.Occurrences(from, to) {
					sec.ExcludedMinutes += o.End.Sub(o.Start).Minutes()
				}
			}
		}
		r.Fleet.SLOs++
		if sec.SLIPeriod >= sec.Objective {
			r.Fleet.SLOsMet++
		}
		for _, in := range sp.Instances() {
			r.Fleet.Instances++
			per := in.Sum(end, sp.SLO.Window.Std())
			if per.Valid > 0 && 1-per.Bad/per.Valid >= sec.Objective {
				r.Fleet.InstancesMet++
			}
		}
		// At this week's rate, a period's worth of weeks burns more than
		// the whole budget.
		if weeks := sp.SLO.Window.Std().Hours() / (7 * 24); sec.BurnedWeek*weeks > 1 {
			r.Fleet.AtRisk = append(r.Fleet.AtRisk, sp.SLO.Name)
		}
		r.SLOs = append(r.SLOs, sec)
	}
	return r, nil
}

// weekCodes fills in the codes that burned the budget, the tenants with the
// most user faults and the codes no rule knew, over the week's UTC days.
// They are counted per series and day since the service started: a week
// that began before that is counted from the start.
func (s *Service) weekCodes(sec *report.SLO, sp *burnrate.Spec, from, to int64) {
	insts := sp.Instances()
	for _, c := range s.router.CodesBetween(from, to, classify.Platform, insts...) {
		sec.Codes = append(sec.Codes, report.Code{Code: c.Code, Class: c.Class, Count: c.Count})
	}
	for _, u := range s.router.UnclassifiedBetween(from, to, insts...) {
		sec.Unclassified = append(sec.Unclassified, report.Code{Code: u.Code, Class: classify.Platform.String(), Count: u.Count})
	}
	faults := map[string]float64{}
	for _, in := range insts {
		n := s.router.ClassBetween(in, classify.User, from, to)
		if n > 0 {
			faults[in.Labels.String()] = n
			sec.UserFaults = append(sec.UserFaults, report.Instance{Labels: in.Labels.Map(), UserFaults: n})
		}
	}
	slices.SortStableFunc(sec.UserFaults, func(a, b report.Instance) int { return cmp.Compare(b.UserFaults, a.UserFaults) })
	sec.UserFaults = sec.UserFaults[:min(len(sec.UserFaults), maxReportInstances)]
	for i := range sec.Instances {
		sec.Instances[i].UserFaults = faults[labels.FromMap(sec.Instances[i].Labels).String()]
	}
}

// sloSection is one SLO's figures for the week ending at end (ms).
func (s *Service) sloSection(sp *burnrate.Spec, end int64) report.SLO {
	x := sp.SLO
	week := 7 * 24 * time.Hour
	period := x.Window.Std()
	budget := x.Budget()
	sec := report.SLO{Name: x.Name, Description: x.Description, Objective: x.Objective / 100, Window: x.Window.String()}
	var wk, prev, per burnrate.Counts
	for _, in := range sp.Instances() {
		wk = wk.Plus(in.Sum(end, week))
		prev = prev.Plus(in.Sum(end-week.Milliseconds(), week))
		per = per.Plus(in.Sum(end, period))
	}
	sec.SLIWeek, sec.SLIPeriod = sli(wk), sli(per)
	sec.BudgetRemaining = 1
	if per.Valid > 0 {
		sec.BudgetRemaining = 1 - per.Bad/(budget*per.Valid)
		sec.BurnedWeek = wk.Bad / (budget * per.Valid)
		sec.BurnedPrevWeek = prev.Bad / (budget * per.Valid)
	}
	// Minutes of full outage: the week's failures as the minutes they
	// would fill if every event had failed.
	if wk.Valid > 0 {
		sec.BurnedMinutes = wk.Bad / wk.Valid * week.Minutes()
	}

	start := end - period.Milliseconds()
	for d := int64(0); d <= int64(period/(24*time.Hour)); d++ {
		t := start + d*24*time.Hour.Milliseconds()
		var spent burnrate.Counts
		for _, in := range sp.Instances() {
			spent = spent.Plus(in.Sum(t, time.Duration(t-start)*time.Millisecond))
		}
		left := 1.0
		if per.Valid > 0 {
			left = 1 - spent.Bad/(budget*per.Valid)
		}
		sec.BurnDown = append(sec.BurnDown, report.Point{T: time.UnixMilli(t).UTC(), V: left})
	}
	// Every two hours: the store's resolution beyond its last six hours,
	// so the chart shows no finer detail than the history holds.
	for h := int64(1); h <= 7*12; h++ {
		t := end - week.Milliseconds() + h*reportStep.Milliseconds()
		var c burnrate.Counts
		for _, in := range sp.Instances() {
			c = c.Plus(in.Sum(t, reportStep))
		}
		sec.BurnRate = append(sec.BurnRate, report.Point{T: time.UnixMilli(t).UTC(), V: burnrate.BurnRate(c, budget)})
	}

	var insts []report.Instance
	for _, in := range sp.Instances() {
		w, p := in.Sum(end, week), in.Sum(end, period)
		ri := report.Instance{Labels: in.Labels.Map(), SLI: sli(w), BudgetRemaining: 1, NoData: w.Valid <= 0}
		if p.Valid > 0 {
			ri.BudgetRemaining = 1 - p.Bad/(budget*p.Valid)
			ri.Burned = w.Bad / (budget * p.Valid)
			for d := int64(1); d <= 7; d++ {
				day := in.Sum(end-week.Milliseconds()+d*24*time.Hour.Milliseconds(), 24*time.Hour)
				ri.Spark = append(ri.Spark, day.Bad/(budget*p.Valid))
			}
		}
		insts = append(insts, ri)
	}
	slices.SortStableFunc(insts, func(a, b report.Instance) int { return cmp.Compare(b.Burned, a.Burned) })
	sec.Instances = insts[:min(len(insts), maxReportInstances)]
	return sec
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
		var t struct {
			Time     time.Time         `json:"time"`
			Alert    string            `json:"alert"`
			SLO      string            `json:"slo"`
			Labels   map[string]string `json:"labels"`
			Severity string            `json:"severity"`
			State    string            `json:"state"`
		}
		if err := json.Unmarshal(rec.JSON, &t); err != nil {
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
// the weekly report of that ISO week (default: the last complete one).
func (s *Service) reportRoute(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/report", func(w http.ResponseWriter, r *http.Request) {
		from, err := weekStart(r.URL.Query().Get("week"), s.now())
		if err != nil {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		rep, err := s.Report(r.Context(), from)
		if err != nil {
			s.log.Error("making a report", "err", err)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the report could not be made"})
			return
		}
		f := r.URL.Query().Get("format")
		write, ctype, ok := reportWriter(f)
		if !ok {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf("format %q: valid: md, html, json, csv", f)})
			return
		}
		w.Header().Set("Content-Type", ctype)
		if err := write(w, rep); err != nil {
			s.log.Error("writing a report", "err", err)
		}
	})
}

// weekStart reads an ISO week such as 2026-W47 as its Monday 00:00 UTC;
// empty means the last complete week before now.
func weekStart(week string, now time.Time) (time.Time, error) {
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

func isoYear(t time.Time) int { y, _ := t.ISOWeek(); return y }
func isoWeek(t time.Time) int { _, w := t.ISOWeek(); return w }
