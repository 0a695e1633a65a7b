package service

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
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

// Alerts returns the alerts firing now, most recent first.
func (r viewReader) Alerts() []AlertStatus {
	var out []AlertStatus
	for _, a := range r.s.view.Load().Firing() {
		out = append(out, alertStatus(a))
	}
	return out
}

// sloHead is an SLO's terms and counts, without instances.
func sloHead(v *engine.View, sv *engine.SLOView) SLOStatus {
	x := sv.SLO
	st := SLOStatus{
		Name: x.Name, Description: x.Description, Objective: x.Objective,
		Window: x.Window.String(), Source: x.Source, Instances: len(sv.Instances),
		Worst: []InstanceStatus{},
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
		Events:          EventCounts(iv.Totals),
	}
	for w, r := range iv.Rates {
		is.BurnRates[model.Duration(sv.Windows[w]).String()] = r
	}
	for _, c := range iv.TopCodes {
		is.TopCodes = append(is.TopCodes, CodeCount(c))
	}
	for _, a := range sv.InstanceAlerts(iv) {
		is.Alerts = append(is.Alerts, alertStatus(a))
	}
	if iv.LastData > 0 && v.Time-iv.LastData > v.Config.NoData.Hold.Std().Milliseconds() {
		t := time.UnixMilli(iv.LastData).UTC()
		is.NoDataSince = &t
	}
	return is
}

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
