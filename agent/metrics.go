package agent

import (
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The counters burnwatch's default config reads (slo/default.yaml).
const (
	QueriesMetric = "neo4j_queries_total"
	ErrorsMetric  = "neo4j_query_errors_total"
	// CodeLabel is the default config's code_label.
	CodeLabel = "code"
)

var (
	queriesDesc = prometheus.NewDesc(QueriesMetric,
		"Neo4j queries that ended, failed ones included, by database, as read from the query log.",
		[]string{"database"}, nil)
	errorsDesc = prometheus.NewDesc(ErrorsMetric,
		"Neo4j queries that failed, by database and code (the GQLSTATUS, or the Neo.* status code where the log has no specific GQLSTATUS).",
		[]string{"database", CodeLabel}, nil)
)

// exporter serves the totals of the last committed checkpoint: what a
// scrape sees was written to disk first, so a restarted agent goes on from
// at least the value scraped, and Prometheus never sees a counter go back.
type exporter struct {
	totals atomic.Pointer[map[string]Counts]
}

func (e *exporter) publish(t map[string]Counts) { e.totals.Store(&t) }

func (e *exporter) Describe(ch chan<- *prometheus.Desc) {
	ch <- queriesDesc
	ch <- errorsDesc
}

func (e *exporter) Collect(ch chan<- prometheus.Metric) {
	p := e.totals.Load()
	if p == nil {
		return
	}
	dbs := make([]string, 0, len(*p))
	for db := range *p {
		dbs = append(dbs, db)
	}
	sort.Strings(dbs)
	for _, db := range dbs {
		c := (*p)[db]
		ch <- prometheus.MustNewConstMetric(queriesDesc, prometheus.CounterValue, c.Total, db)
		for code, n := range c.Errors {
			ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, n, db, code)
		}
	}
}

// metrics are the agent's own health.
type metrics struct {
	lines        prometheus.Counter
	skipped      *prometheus.CounterVec
	dropped      *prometheus.CounterVec
	rotations    prometheus.Counter
	truncations  prometheus.Counter
	lost         prometheus.Counter
	checkpoints  prometheus.Counter
	checkpointEr prometheus.Counter
	lastCommit   prometheus.Gauge
	spoolBatches prometheus.Gauge
	spoolBytes   prometheus.Gauge
	spoolFull    prometheus.Gauge
	pushes       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		lines: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_log_lines_total",
			Help: "Query log lines read."}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "burnwatch_agent_log_lines_skipped_total",
			Help: "Query log lines that were not read as an entry: unparsed (neither format), too_long (past the line limit)."}, []string{"reason"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "burnwatch_agent_entries_dropped_total",
			Help: "Entries not counted: databases (past the database limit), database_name (a name past 255 bytes)."}, []string{"reason"}),
		rotations: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_log_rotations_total",
			Help: "Times the query log was followed to a new file."}),
		truncations: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_log_truncations_total",
			Help: "Times the query log was truncated and read again from its start."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_log_position_lost_total",
			Help: "Starts at which the saved position's file was gone: lines written to it after the last checkpoint were not read."}),
		checkpoints: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_checkpoints_total",
			Help: "State checkpoints committed."}),
		checkpointEr: prometheus.NewCounter(prometheus.CounterOpts{Name: "burnwatch_agent_checkpoint_errors_total",
			Help: "Steps that failed to read the log or commit their checkpoint (they are repeated)."}),
		lastCommit: prometheus.NewGauge(prometheus.GaugeOpts{Name: "burnwatch_agent_last_checkpoint_timestamp_seconds",
			Help: "When the last checkpoint was committed."}),
		spoolBatches: prometheus.NewGauge(prometheus.GaugeOpts{Name: "burnwatch_agent_spool_batches",
			Help: "Batches waiting in the spool to be pushed."}),
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "burnwatch_agent_spool_bytes",
			Help: "Bytes waiting in the spool to be pushed."}),
		spoolFull: prometheus.NewGauge(prometheus.GaugeOpts{Name: "burnwatch_agent_spool_full",
			Help: "1 while the spool is at its limit and the query log is not read."}),
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "burnwatch_agent_push_requests_total",
			Help: "Attempts to push a batch, by outcome: sent, retry, refused."}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.lines, m.skipped, m.dropped, m.rotations, m.truncations, m.lost,
			m.checkpoints, m.checkpointEr, m.lastCommit, m.spoolBatches, m.spoolBytes, m.spoolFull, m.pushes)
	}
	for _, r := range []string{"unparsed", "too_long"} {
		m.skipped.WithLabelValues(r)
	}
	for _, r := range []string{"databases", "database_name"} {
		m.dropped.WithLabelValues(r)
	}
	for _, o := range []PushOutcome{PushSent, PushRetry, PushRefused} {
		m.pushes.WithLabelValues(o.String())
	}
	return m
}
