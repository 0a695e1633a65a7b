package service

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// RejectReason is why POST /api/v1/events refused a batch; it is the reason
// label of burnwatch_events_rejected_total and the reason in the log.
type RejectReason int

// Reasons a pushed batch is refused.
const (
	RejectUnauthorized RejectReason = iota // no bearer token, or a wrong one
	RejectTooLarge                         // the body is over the size limit
	RejectInvalid                          // a line failed validation, or the body could not be read
	RejectStoreError                       // the store failed to make the batch durable
)

var rejectReasons = [...]string{
	RejectUnauthorized: "unauthorized",
	RejectTooLarge:     "too_large",
	RejectInvalid:      "invalid",
	RejectStoreError:   "store_error",
}

func (r RejectReason) String() string {
	if int(r) < 0 || int(r) >= len(rejectReasons) {
		return "unknown"
	}
	return rejectReasons[r]
}

// Metrics are burnwatch's own health metrics and per-SLO aggregates, served at
// /metrics. The evaluation loop updates most of them; the events endpoint
// counts accepted and rejected pushes. A nil *Metrics ignores every update
// made through its methods.
type Metrics struct {
	EvaluationDuration prometheus.Histogram   // one evaluation of every SLO instance
	Evaluations        prometheus.Counter     // evaluations completed
	SourceErrors       *prometheus.CounterVec // {source}: failed reads
	SamplesRead        *prometheus.CounterVec // {source}: samples read
	BackfillProgress   *prometheus.GaugeVec   // {source}: 0..1, 1 when backfilled
	StoreBytes         prometheus.Gauge       // the SQLite file's size, WAL included
	EventsAccepted     prometheus.Counter     // pushed events (lines) stored
	EventsRejected     *prometheus.CounterVec // {reason}: pushed batches refused
	Transitions        *prometheus.CounterVec // {alert,severity,state}
	Notifications      *prometheus.CounterVec // {receiver,reason}: what became of each notification
	Reports            *prometheus.CounterVec // {destination,outcome}: what became of each scheduled report

	SLOInstances          *prometheus.GaugeVec // {slo}
	SLOAlertsFiring       *prometheus.GaugeVec // {slo,severity}
	SLOBudgetRemainingMin *prometheus.GaugeVec // {slo}: the worst instance's budget remaining

	CycleStage           *prometheus.HistogramVec // {stage}: read, apply, commit, notify
	CycleFailures        prometheus.Counter       // cycles whose apply or commit failed
	LastSuccessfulCycle  prometheus.Gauge         // Unix seconds
	SourceLag            *prometheus.GaugeVec     // {source}: now − how far the source is read
	NotificationsPending *prometheus.GaugeVec     // {receiver}
	OldestPending        *prometheus.GaugeVec     // {receiver}: age of the oldest pending notification
	ConfigReloads        *prometheus.CounterVec   // {outcome}: success, failure
	ConfigLastReload     prometheus.Gauge         // 1 if the last reload succeeded
	Leader               prometheus.Gauge         // 1 on the replica that sends (metrics_ha.go)
	Heartbeats           *prometheus.CounterVec   // {outcome}: sent, or why not (metrics_ha.go)
	Dropped              *prometheus.CounterVec   // {reason}: over a limit (limits.go)

	// InstanceBurnRate is {slo,instance,window} and
	// InstanceBudgetRemaining {slo,instance}; nil unless NewMetrics was
	// asked for per-instance series.
	InstanceBurnRate        *prometheus.GaugeVec
	InstanceBudgetRemaining *prometheus.GaugeVec
}

// NewMetrics creates burnwatch's metrics and registers them, with the Go
// runtime and process collectors, on reg. perInstance adds
// burnwatch_instance_burn_rate, one series per SLO instance and window, and
// burnwatch_instance_budget_remaining, one per instance: off by default,
// since tens of thousands of instances would flood Prometheus.
func NewMetrics(reg prometheus.Registerer, perInstance bool) *Metrics {
	m := &Metrics{
		EvaluationDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "burnwatch_evaluation_duration_seconds",
			Help: "How long one evaluation of every SLO instance took.",
			// 5ms to 41s: a handful of SLOs to tens of thousands of instances.
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
		Evaluations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "burnwatch_evaluations_total",
			Help: "Evaluations of every SLO instance completed.",
		}),
		SourceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_source_errors_total",
			Help: "Failed reads from a source.",
		}, []string{"source"}),
		SamplesRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_samples_read_total",
			Help: "Counter samples read from a source.",
		}, []string{"source"}),
		BackfillProgress: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_backfill_progress_ratio",
			Help: "How much of the missing history a source has backfilled, 0 to 1; 1 when it is complete.",
		}, []string{"source"}),
		StoreBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "burnwatch_store_bytes",
			Help: "Size of the SQLite store on disk.",
		}),
		EventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "burnwatch_events_accepted_total",
			Help: "Pushed events (NDJSON lines) accepted and stored.",
		}),
		EventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_events_rejected_total",
			Help: "Pushed event batches refused, by reason: unauthorized, too_large, invalid, store_error.",
		}, []string{"reason"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_transitions_total",
			Help: "Alert state transitions, by alert, severity and the state entered.",
		}, []string{"alert", "severity", "state"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_notifications_total",
			Help: "Notifications by receiver and what became of them: sent, dead_lettered, skipped, silenced.",
		}, []string{"receiver", "reason"}),
		Reports: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "burnwatch_reports_total",
			Help: "Scheduled weekly reports by destination (dir: a file per format; receiver: one POST of every format) and what became of them: sent, refused, failed.",
		}, []string{"destination", "outcome"}),
		SLOInstances: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_slo_instances",
			Help: "SLO instances (value sets of group_by) being evaluated.",
		}, []string{"slo"}),
		SLOAlertsFiring: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_slo_alerts_firing",
			Help: "Alerts firing for an SLO, by severity.",
		}, []string{"slo", "severity"}),
		SLOBudgetRemainingMin: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_slo_budget_remaining_min",
			Help: "The error budget left in the SLO's worst instance, as a fraction of the period's budget; negative when overspent.",
		}, []string{"slo"}),
	}
	m.CycleStage = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "burnwatch_cycle_stage_seconds",
		Help: "Time spent in each stage of a cycle: read (a source's read), apply (counting and evaluating), commit (the store), notify (making notifications).",
		// 100µs to 52s.
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 20),
	}, []string{"stage"})
	m.CycleFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "burnwatch_cycle_failures_total",
		Help: "Cycles whose apply or commit failed (a full disk, a broken store).",
	})
	m.LastSuccessfulCycle = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "burnwatch_last_successful_cycle_timestamp_seconds",
		Help: "When a cycle last committed, in Unix seconds.",
	})
	m.SourceLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "burnwatch_source_lag_seconds",
		Help: "How far behind now a source has been read, in seconds.",
	}, []string{"source"})
	m.NotificationsPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "burnwatch_notifications_pending",
		Help: "Notifications in the outbox not yet delivered, by receiver.",
	}, []string{"receiver"})
	m.OldestPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "burnwatch_notifications_oldest_pending_seconds",
		Help: "Age of the oldest notification not yet delivered, by receiver; 0 when none is pending.",
	}, []string{"receiver"})
	m.ConfigReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "burnwatch_config_reloads_total",
		Help: "Config reloads by outcome: success, failure.",
	}, []string{"outcome"})
	m.ConfigLastReload = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "burnwatch_config_last_reload_successful",
		Help: "1 if the last config reload succeeded (or none was tried), 0 if it was rejected.",
	})
	m.ConfigLastReload.Set(1)
	m.Dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "burnwatch_dropped_total",
		Help: "Series dropped (each time they are read), and pushed lines and silences refused, for being over a limit of the config's limits, by limit: labels, label_value_length, instances_per_slo, codes_per_instance, silences, silence_bytes.",
	}, []string{"reason"})
	for _, r := range dropReasons() {
		m.Dropped.WithLabelValues(r)
	}
	for _, st := range stages {
		m.CycleStage.WithLabelValues(st)
	}
	for _, o := range []string{"success", "failure"} {
		m.ConfigReloads.WithLabelValues(o)
	}
	// Every reason is exported from the start, so that a rate() over
	// rejections sees the first one.
	for _, r := range rejectReasons {
		m.EventsRejected.WithLabelValues(r)
	}
	for _, dest := range []string{reportToDir, reportToReceiver} {
		for _, o := range reportOutcomes {
			if dest == reportToDir && o == reportRefused.String() {
				continue // a directory refuses nothing; a write fails
			}
			m.Reports.WithLabelValues(dest, o)
		}
	}
	reg.MustRegister(
		// burnwatch_build_info{version,revision,branch,goversion,…}, as
		// Prometheus exports its own.
		versioncollector.NewCollector("burnwatch"),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.EvaluationDuration, m.Evaluations, m.SourceErrors, m.SamplesRead,
		m.BackfillProgress, m.StoreBytes, m.EventsAccepted, m.EventsRejected,
		m.Transitions, m.Notifications, m.Reports, m.SLOInstances, m.SLOAlertsFiring, m.SLOBudgetRemainingMin,
		m.CycleStage, m.CycleFailures, m.LastSuccessfulCycle, m.SourceLag, m.NotificationsPending, m.OldestPending,
		m.ConfigReloads, m.ConfigLastReload, m.Dropped,
	)
	m.registerHA(reg)
	if perInstance {
		m.InstanceBurnRate = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_instance_burn_rate",
			Help: "Burn rate of one SLO instance over a window.",
		}, []string{"slo", "instance", "window"})
		m.InstanceBudgetRemaining = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "burnwatch_instance_budget_remaining",
			Help: "The error budget left in one SLO instance, as a fraction of its period's budget (a young instance's traffic extrapolated over the period); negative when overspent.",
		}, []string{"slo", "instance"})
		reg.MustRegister(m.InstanceBurnRate, m.InstanceBudgetRemaining)
	}
	return m
}

// SetInstanceBurnRate records one instance's burn rate over a window when
// per-instance series are on, and does nothing otherwise. The instance label
// is the instance's labels in Prometheus notation: {database="db-1"}.
func (m *Metrics) SetInstanceBurnRate(sloName string, instance map[string]string, window string, rate float64) {
	if m == nil || m.InstanceBurnRate == nil {
		return
	}
	m.InstanceBurnRate.WithLabelValues(sloName, instanceLabel(instance), window).Set(rate)
}

// SetInstanceBudgetRemaining records one instance's budget remaining when
// per-instance series are on, and does nothing otherwise.
func (m *Metrics) SetInstanceBudgetRemaining(sloName string, instance map[string]string, left float64) {
	if m == nil || m.InstanceBudgetRemaining == nil {
		return
	}
	m.InstanceBudgetRemaining.WithLabelValues(sloName, instanceLabel(instance)).Set(left)
}

// ForgetInstance drops an instance's per-instance series, for an instance
// that no longer exists.
func (m *Metrics) ForgetInstance(sloName string, instance map[string]string) {
	if m == nil || m.InstanceBurnRate == nil {
		return
	}
	match := prometheus.Labels{"slo": sloName, "instance": instanceLabel(instance)}
	m.InstanceBurnRate.DeletePartialMatch(match)
	m.InstanceBudgetRemaining.DeletePartialMatch(match)
}

// ForgetSLO drops every series of an SLO, for one a reload removed, so that
// its last values don't linger as if it were still evaluated.
func (m *Metrics) ForgetSLO(sloName string) {
	if m == nil {
		return
	}
	match := prometheus.Labels{"slo": sloName}
	m.SLOInstances.DeletePartialMatch(match)
	m.SLOAlertsFiring.DeletePartialMatch(match)
	m.SLOBudgetRemainingMin.DeletePartialMatch(match)
	if m.InstanceBurnRate != nil {
		m.InstanceBurnRate.DeletePartialMatch(match)
		m.InstanceBudgetRemaining.DeletePartialMatch(match)
	}
}

func (m *Metrics) accepted(events int) {
	if m == nil {
		return
	}
	m.EventsAccepted.Add(float64(events))
}

func (m *Metrics) report(destination string, o reportOutcome) {
	if m == nil {
		return
	}
	m.Reports.WithLabelValues(destination, o.String()).Inc()
}

func (m *Metrics) rejected(reason RejectReason) {
	if m == nil {
		return
	}
	m.EventsRejected.WithLabelValues(reason.String()).Inc()
}

// instanceLabel writes an instance's labels as Prometheus does, sorted:
// {database="db-1",orchestra="eu-1"}.
func instanceLabel(instance map[string]string) string {
	return labels.FromMap(instance).String()
}

// The stages of a cycle, the stage label of burnwatch_cycle_stage_seconds.
const (
	stageRead   = "read"
	stageApply  = "apply"
	stageCommit = "commit"
	stageNotify = "notify"
)

var stages = []string{stageRead, stageApply, stageCommit, stageNotify}

// stage records the time a stage took since start.
func (m *Metrics) stage(name string, start time.Time) {
	if m == nil {
		return
	}
	m.CycleStage.WithLabelValues(name).Observe(time.Since(start).Seconds())
}

// observe records the time a stage took.
func (m *Metrics) observe(name string, d time.Duration) {
	if m == nil {
		return
	}
	m.CycleStage.WithLabelValues(name).Observe(d.Seconds())
}

// cycled counts a cycle's outcome.
func (m *Metrics) cycled(err error, now time.Time) {
	if m == nil {
		return
	}
	if err != nil {
		m.CycleFailures.Inc()
		return
	}
	m.LastSuccessfulCycle.Set(float64(now.UnixMilli()) / 1000)
}

// reloaded counts a config reload.
func (m *Metrics) reloaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.ConfigReloads.WithLabelValues("success").Inc()
		m.ConfigLastReload.Set(1)
		return
	}
	m.ConfigReloads.WithLabelValues("failure").Inc()
	m.ConfigLastReload.Set(0)
}

// pending sets a receiver's pending notifications and the age of the
// oldest (ms times).
func (m *Metrics) pending(receiver string, n int, oldest, now int64) {
	if m == nil {
		return
	}
	m.NotificationsPending.WithLabelValues(receiver).Set(float64(n))
	age := 0.0
	if n > 0 {
		age = float64(max(0, now-oldest)) / 1000
	}
	m.OldestPending.WithLabelValues(receiver).Set(age)
}

// update sets the per-SLO aggregates (and the per-instance burn rates and
// budgets, when asked for) and the sources' lag from a view.
func (m *Metrics) update(v *engine.View) {
	if m == nil {
		return
	}
	for _, f := range v.Feeds {
		if f.Cursor > 0 {
			m.SourceLag.WithLabelValues(f.Name).Set(float64(max(0, v.Time-f.Cursor)) / 1000)
		}
	}
	for _, sv := range v.SLOs {
		name := sv.SLO.Name
		m.SLOInstances.WithLabelValues(name).Set(float64(len(sv.Instances)))
		for _, sev := range slo.Severities {
			n := 0
			for j, s := range sv.Severities {
				if s == sev {
					n = sv.Firing[j]
				}
			}
			m.SLOAlertsFiring.WithLabelValues(name, string(sev)).Set(float64(n))
		}
		m.SLOBudgetRemainingMin.WithLabelValues(name).Set(sv.WorstBudget)
		if m.InstanceBurnRate != nil {
			for i := range sv.Instances {
				iv := &sv.Instances[i]
				lm := iv.Labels.Map()
				for w, r := range iv.Rates {
					m.SetInstanceBurnRate(name, lm, model.Duration(sv.Windows[w]).String(), r)
				}
				m.SetInstanceBudgetRemaining(name, lm, iv.BudgetRemaining)
			}
		}
	}
}

// known exports the per-source and per-receiver counters at 0 from the
// start, so that an increase() over them sees the first error or the first
// dead-lettered page.
func (m *Metrics) known(cfg *slo.Config, receivers map[string]notify.Receiver) {
	if m == nil {
		return
	}
	for _, src := range cfg.Sources {
		m.SourceErrors.WithLabelValues(src.Name)
		m.SamplesRead.WithLabelValues(src.Name)
	}
	for name := range receivers {
		for _, r := range []notify.Reason{notify.Sent, notify.Silenced, notify.InMaintenance, notify.DeadLettered, notify.Skipped, notify.Superseded} {
			m.Notifications.WithLabelValues(name, r.String())
		}
	}
}
