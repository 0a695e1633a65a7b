package service

import "github.com/prometheus/client_golang/prometheus"

// registerHA makes and registers the metrics of leadership and the
// heartbeat, every heartbeat outcome at 0 from the start.
func (m *Metrics) registerHA(reg prometheus.Registerer) {
	m.Leader = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "burnwatch_leader",
		Help: "1 on the replica that sends notifications, heartbeats and scheduled reports (and on one running alone), 0 on a standby.",
	})
	m.Heartbeats = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "burnwatch_heartbeats_total",
		Help: "Heartbeats to the dead man's switch by outcome: sent, failed (the switch did not take it), skipped_not_evaluating (no cycle succeeded lately: on purpose, so that the switch pages).",
	}, []string{"outcome"})
	for _, o := range heartbeatOutcomes {
		m.Heartbeats.WithLabelValues(o)
	}
	reg.MustRegister(m.Leader, m.Heartbeats)
}

func (m *Metrics) setLeader(leading bool) {
	if m == nil {
		return
	}
	v := 0.0
	if leading {
		v = 1
	}
	m.Leader.Set(v)
}

func (m *Metrics) heartbeat(o heartbeatOutcome) {
	if m == nil {
		return
	}
	m.Heartbeats.WithLabelValues(o.String()).Inc()
}
