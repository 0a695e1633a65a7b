package service

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/slo"
)

var _ View = (*Service)(nil)

// Ready reports whether the service has backfilled its sources.
func (s *Service) Ready() (bool, string) {
	reason, _ := s.notReady.Load().(string)
	return s.ready.Load(), reason
}

// SLOs returns where every SLO stands, in config order.
func (s *Service) SLOs() []SLOStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now().UnixMilli()
	out := make([]SLOStatus, 0, len(s.router.Specs))
	for _, sp := range s.router.Specs {
		out = append(out, s.sloSummary(sp, now))
	}
	return out
}

// sloSummary is an SLO's status from what the last evaluation kept: its
// firing alerts counted, and only its worst instances looked at.
func (s *Service) sloSummary(sp *burnrate.Spec, now int64) SLOStatus {
	x := sp.SLO
	st := SLOStatus{
		Name: x.Name, Description: x.Description, Objective: x.Objective,
		Window: x.Window.String(), Source: x.Source, Instances: len(sp.Instances()),
		Worst: []InstanceStatus{},
	}
	for _, in := range sp.Instances() {
		for _, sev := range sp.Severities {
			if in.Alert(sev).State == burnrate.Firing {
				st.Firing++
			}
		}
	}
	for _, a := range s.sloAlerts(x) {
		if a.State == burnrate.Firing.String() {
			st.Firing++
		}
	}
	for _, in := range s.worst[sp] {
		st.Worst = append(st.Worst, s.instanceStatus(in, now))
	}
	return st
}

// SLO returns one SLO with all its instances.
func (s *Service) SLO(name string) (SLODetail, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now().UnixMilli()
	for _, sp := range s.router.Specs {
		if sp.SLO.Name == name {
			st, all := s.sloStatus(sp, now)
			return SLODetail{SLOStatus: st, All: all}, true
		}
	}
	return SLODetail{}, false
}

// sloStatus returns an SLO's status and every instance's, least budget
// remaining first.
func (s *Service) sloStatus(sp *burnrate.Spec, now int64) (SLOStatus, []InstanceStatus) {
	x := sp.SLO
	st := SLOStatus{
		Name: x.Name, Description: x.Description, Objective: x.Objective,
		Window: x.Window.String(), Source: x.Source, Instances: len(sp.Instances()),
	}
	all := make([]InstanceStatus, 0, len(sp.Instances()))
	for _, in := range sp.Instances() {
		is := s.instanceStatus(in, now)
		for _, a := range is.Alerts {
			if a.State == burnrate.Firing.String() {
				st.Firing++
			}
		}
		all = append(all, is)
	}
	for _, a := range s.sloAlerts(x) {
		if a.State == burnrate.Firing.String() {
			st.Firing++
		}
	}
	slices.SortStableFunc(all, func(a, b InstanceStatus) int { return cmp.Compare(a.BudgetRemaining, b.BudgetRemaining) })
	st.Worst = all[:min(len(all), MaxWorst)]
	return st, all
}

func (s *Service) instanceStatus(in *burnrate.Instance, now int64) InstanceStatus {
	is := InstanceStatus{
		Labels:          in.Labels.Map(),
		BurnRates:       map[string]float64{},
		BudgetRemaining: in.BudgetRemaining(now),
		Events:          EventCounts(in.Totals),
	}
	for _, r := range in.BurnRates(now) {
		is.BurnRates[model.Duration(r.Window).String()] = r.Rate
	}
	for _, c := range s.router.TopCodes(now, classify.Platform, in) {
		is.TopCodes = append(is.TopCodes, CodeCount(c))
	}
	is.Alerts = instanceAlerts(in)
	if last := in.LastData(); last > 0 && now-last > s.cfg.NoData.Hold.Std().Milliseconds() {
		t := time.UnixMilli(last).UTC()
		is.NoDataSince = &t
	}
	return is
}

// instanceAlerts returns the instance's alerts that ever fired.
func instanceAlerts(in *burnrate.Instance) []AlertStatus {
	var out []AlertStatus
	for _, sev := range in.Spec.Severities {
		a := in.Alert(sev)
		if a.State == burnrate.Inactive {
			continue
		}
		out = append(out, AlertStatus{
			ID: burnrate.AlertID(in.Spec.SLO.Name, in.Labels, sev), Alert: burnrate.BurnRateAlert,
			SLO: in.Spec.SLO.Name, Labels: in.Labels.Map(), Severity: string(sev),
			State: a.State.String(), Since: time.UnixMilli(a.Since).UTC(),
		})
	}
	return out
}

// sloAlerts returns an SLO's own alerts: the surge guard's and no-data.
func (s *Service) sloAlerts(x *slo.SLO) []AlertStatus {
	var out []AlertStatus
	for _, sp := range s.router.Specs {
		if sp.SLO != x {
			continue
		}
		if a := sp.SurgeAlert(); a.State != burnrate.Inactive {
			sev := sp.SurgeConfig().Severity
			out = append(out, AlertStatus{
				ID: burnrate.AlertID(x.Name+"/"+burnrate.UserFaultSurgeAlert, burnrate.EmptyLabels, sev), Alert: burnrate.UserFaultSurgeAlert,
				SLO: x.Name, Labels: map[string]string{}, Severity: string(sev), State: a.State.String(), Since: time.UnixMilli(a.Since).UTC(),
			})
		}
	}
	if nd := s.noData[x.Name]; nd != nil && nd.alert.State != burnrate.Inactive {
		lset := noDataLabels(s.feedOf(x))
		sev := s.cfg.NoData.Severity
		out = append(out, AlertStatus{
			ID:    burnrate.AlertID(x.Name+"/"+burnrate.NoDataAlert, lset, sev),
			Alert: burnrate.NoDataAlert, SLO: x.Name, Labels: lset.Map(), Severity: string(sev),
			State: nd.alert.State.String(), Since: time.UnixMilli(nd.alert.Since).UTC(),
		})
	}
	return out
}

// Alerts returns the alerts firing now, most recent first.
func (s *Service) Alerts() []AlertStatus {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []AlertStatus
	for _, sp := range s.router.Specs {
		for _, in := range sp.Instances() {
			for _, a := range instanceAlerts(in) {
				if a.State == burnrate.Firing.String() {
					out = append(out, a)
				}
			}
		}
		for _, a := range s.sloAlerts(sp.SLO) {
			if a.State == burnrate.Firing.String() {
				out = append(out, a)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b AlertStatus) int { return b.Since.Compare(a.Since) })
	return out
}
