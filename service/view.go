package service

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/notify"
)

// viewReader answers the API from the view the engine published last: it
// never waits on the engine, whatever it is doing.
type viewReader struct{ s *Service }

var _ View = viewReader{}

// Ready reports whether the service has backfilled its sources.
func (r viewReader) Ready() (bool, string) {
	v := r.s.view.Load()
	return v.Ready, v.NotReady
}

// SLOs returns where every SLO stands, in config order.
func (r viewReader) SLOs() []SLOStatus {
	v := r.s.view.Load()
	out := make([]SLOStatus, 0, len(v.SLOs))
	for _, sv := range v.SLOs {
		st := sloHead(v, sv)
		for _, i := range sv.Worst {
			st.Worst = append(st.Worst, instanceStatus(v, sv, &sv.Instances[i]))
		}
		out = append(out, st)
	}
	return out
}

// SLO returns one SLO with all its instances, least budget left first.
func (r viewReader) SLO(name string) (SLODetail, bool) {
	v := r.s.view.Load()
	sv := v.SLO(name)
	if sv == nil {
		return SLODetail{}, false
	}
	st := sloHead(v, sv)
	all := make([]InstanceStatus, 0, len(sv.Instances))
	for i := range sv.Instances {
		all = append(all, instanceStatus(v, sv, &sv.Instances[i]))
	}
	slices.SortStableFunc(all, func(a, b InstanceStatus) int { return cmp.Compare(a.BudgetRemaining, b.BudgetRemaining) })
	st.Worst = all[:min(len(all), MaxWorst)]
	return SLODetail{SLOStatus: st, All: all}, true
}

// Alerts returns the alerts firing now, most recent first, each with what
// a page about it says now.
func (r viewReader) Alerts() []AlertStatus {
	v := r.s.view.Load()
	enrich := r.s.cur.Load().enrich
	var out []AlertStatus
	for _, a := range v.Firing() {
		out = append(out, alertDetail(a, enrich.notification(a.Transition(v.Time))))
	}
	return out
}

// sloHead is an SLO's terms and counts, without instances.
func sloHead(v *engine.View, sv *engine.SLOView) SLOStatus {
	x := sv.SLO
	st := SLOStatus{
		Name: x.Name, Description: x.Description, Objective: x.Objective,
		Window: x.Window.String(), Source: x.Source, Instances: len(sv.Instances),
		Worst: []InstanceStatus{}, Warnings: sv.Warnings,
	}
	st.Firing = sv.Firing[0] + sv.Firing[1]
	for _, a := range sv.Alerts {
		if a.State.State == burnrate.Firing {
			st.Firing++
		}
	}
	return st
}

func instanceStatus(v *engine.View, sv *engine.SLOView, iv *engine.InstanceView) InstanceStatus {
	is := InstanceStatus{
		Labels:          iv.Labels.Map(),
		BurnRates:       map[string]float64{},
		BudgetRemaining: iv.BudgetRemaining,
		Events:          eventCounts(iv.Totals),
	}
	for w, r := range iv.Rates {
		is.BurnRates[model.Duration(sv.Windows[w]).String()] = r
	}
	is.TopCodes = codeCounts(iv.TopCodes)
	for _, a := range sv.InstanceAlerts(iv) {
		is.Alerts = append(is.Alerts, alertStatus(a))
	}
	if iv.LastData > 0 && v.Time-iv.LastData > v.Config.NoData.Hold.Std().Milliseconds() {
		t := time.UnixMilli(iv.LastData).UTC()
		is.NoDataSince = &t
	}
	return is
}

// alertDetail is an alert's status with what the notification n made of
// it says.
func alertDetail(a engine.AlertView, n notify.Notification) AlertStatus {
	st := alertStatus(a)
	st.Summary, st.Playbook, st.PlaybookURL, st.DashboardURL = n.Summary, n.PlaybookID, n.PlaybookURL, n.DashboardURL
	if len(n.BurnRates) > 0 {
		st.BurnRates = map[string]float64{}
		for _, r := range n.BurnRates {
			st.BurnRates[r.Window] = r.Rate
		}
	}
	if a.Alert == burnrate.BurnRateAlert {
		left := n.BudgetRemaining
		st.BudgetRemaining = &left
	}
	st.Codes = codeCounts(a.Codes)
	return st
}

// codeCounts are codes as the API states them: whole events.
func codeCounts(codes []burnrate.CodeCount) []CodeCount {
	var out []CodeCount
	for _, c := range codes {
		out = append(out, CodeCount{Code: c.Code, Class: c.Class, Rule: c.Rule, Count: wholeEvents(c.Count)})
	}
	return out
}

// eventCounts are an instance's events as the API states them: whole
// events.
func eventCounts(e burnrate.Events) EventCounts {
	return EventCounts{Total: wholeEvents(e.Total), User: wholeEvents(e.User), Ignore: wholeEvents(e.Ignore), Platform: wholeEvents(e.Platform)}
}

// wholeEvents rounds a sum of increases to the whole events it counts.
func wholeEvents(v float64) int64 { return int64(math.Round(v)) }

func alertStatus(a engine.AlertView) AlertStatus {
	lm := a.Labels.Map()
	if lm == nil {
		lm = map[string]string{}
	}
	return AlertStatus{
		ID: a.ID, Alert: a.Alert, SLO: a.SLO, Labels: lm, Severity: string(a.Severity),
		State: a.State.State.String(), Since: time.UnixMilli(a.State.Since).UTC(),
	}
}

// The Service answers the View itself, from the last view published.
var _ View = (*Service)(nil)

// Ready reports whether the service has backfilled its sources and its
// cycles commit (health.go).
func (s *Service) Ready() (bool, string) {
	if reason := s.health.failing(); reason != "" {
		return false, reason
	}
	return viewReader{s}.Ready()
}

// SLOs returns where every SLO stands, in config order.
func (s *Service) SLOs() []SLOStatus { return viewReader{s}.SLOs() }

// SLO returns one SLO with all its instances, or false for a name the
// running config does not have.
func (s *Service) SLO(name string) (SLODetail, bool) { return viewReader{s}.SLO(name) }

// Alerts returns the alerts firing now, most recent first.
func (s *Service) Alerts() []AlertStatus { return viewReader{s}.Alerts() }
