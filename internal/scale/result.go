package scale

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is everything one run measured. Durations and CPU are in
// seconds; a figure the run could not take is null in JSON and "n/a" in
// the table.
type Result struct {
	Machine    Machine         `json:"machine"`
	Databases  int             `json:"databases"`
	Days       float64         `json:"days"`
	Seed       uint64          `json:"seed"`
	Series     int             `json:"series"`
	History    HistoryResult   `json:"history"`
	Prometheus PrometheusIdle  `json:"prometheus"`
	Reference  ReferenceResult `json:"reference"`
	FirstStart FirstStart      `json:"first_start"`
	Steady     *Steady         `json:"steady"`
	Page       *PageResult     `json:"page"`
	// API is how long GET /api/v1/slos took, by phase; ReportSeconds how
	// long the weekly report asked after the steady cycles took.
	API           []APIPhase `json:"api"`
	ReportSeconds *float64   `json:"report_seconds,omitempty"`
	// Errors are what went wrong along the way, each stopping what
	// depended on it.
	Errors []string `json:"errors,omitempty"`
}

// Machine is where the run ran.
type Machine struct {
	CPUs       int     `json:"cpus"`
	CPUModel   string  `json:"cpu_model"`
	MemoryGiB  float64 `json:"memory_gib"`
	Go         string  `json:"go"`
	Prometheus string  `json:"prometheus"`
	Burnwatch  string  `json:"burnwatch"`
}

// HistoryResult is the data Prometheus held when burnwatch started.
type HistoryResult struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Samples int64     `json:"samples"`
	Bytes   int64     `json:"bytes"`
	Blocks  int       `json:"blocks"`
	Cached  bool      `json:"cached"`
	// WriteSeconds and SamplesPerSecond are of the generation of the
	// cached part (earlier, when Cached).
	WriteSeconds     float64 `json:"write_seconds"`
	SamplesPerSecond float64 `json:"samples_per_second"`
	GapSamples       int64   `json:"gap_samples"`
	// SeriesAcrossEnd counts the series with samples in the history's last
	// minute or after it, at the end of the run: 3 per database when the
	// live target goes on with the history's series.
	SeriesAcrossEnd int `json:"series_across_end"`
}

// PrometheusIdle is Prometheus's own cost while nothing but its scrape of
// the fleet runs: the baseline taken off its CPU below.
type PrometheusIdle struct {
	IdleCPUPerSecond float64 `json:"idle_cpu_per_second"`
	BaselineSeconds  float64 `json:"baseline_seconds"`
}

// ReferenceResult is what issue 10 compares a first start with.
type ReferenceResult struct {
	// CountSeconds is how long Prometheus took to read every raw sample of
	// the history once, and Counted how many it counted.
	CountSeconds *float64 `json:"count_seconds"`
	Counted      int64    `json:"counted"`
	// Rules*: one evaluation of the 7 windows as 14 recording-rule
	// expressions (queries and errors per window), when asked for.
	RulesSeconds           *float64 `json:"rules_seconds,omitempty"`
	RulesCPUSeconds        *float64 `json:"rules_cpu_seconds,omitempty"`
	RulesMicrosPerDatabase *float64 `json:"rules_cpu_us_per_database,omitempty"`
}

// FirstStart is burnwatch's start up to /readyz answering 200.
type FirstStart struct {
	ReadySeconds *float64 `json:"ready_seconds"`
	// TimedOut: not ready within the timeout; the figures are up to then.
	TimedOut       bool               `json:"timed_out"`
	Seconds        float64            `json:"seconds"`
	CPUSeconds     float64            `json:"cpu_seconds"`
	WriteBytes     int64              `json:"write_bytes"`
	PromCPUSeconds float64            `json:"prometheus_cpu_seconds"`
	Requests       map[string]float64 `json:"prometheus_requests"`
	// Backfill is burnwatch_backfill_progress_ratio at the end.
	Backfill *float64 `json:"backfill_progress,omitempty"`
}

// Steady is K cycles after ready.
type Steady struct {
	Cycles               int                 `json:"cycles"`
	Seconds              float64             `json:"seconds"`
	WallPerCycle         *float64            `json:"wall_per_cycle"`
	CPUPerCycle          float64             `json:"cpu_per_cycle"`
	Instances            int                 `json:"instances"`
	CPUMicrosPerInstance *float64            `json:"cpu_us_per_instance_per_cycle"`
	Stages               map[string]*float64 `json:"stages"`
	RSSBytes             int64               `json:"rss_bytes"`
	RSSPerInstance       *float64            `json:"rss_bytes_per_instance"`
	StoreBytes           *float64            `json:"store_bytes"`
	StateDirBytes        int64               `json:"state_dir_bytes"`
	WriteBytesPerHour    float64             `json:"write_bytes_per_hour"`
	WritePerHour10k      *float64            `json:"write_bytes_per_hour_per_10k_instances"`
	PromCPUPerCycle      float64             `json:"prometheus_cpu_per_cycle"`
	RequestsPerCycle     map[string]float64  `json:"prometheus_requests_per_cycle"`
}

// PageResult is the delay from failure injection to the page.
type PageResult struct {
	Databases  []string  `json:"databases"`
	InjectedAt time.Time `json:"injected_at"`
	AtStart    bool      `json:"at_start"`
	// DelaySeconds is from the injection to the first page of an injected
	// database reaching the webhook; null when none came in time.
	DelaySeconds *float64 `json:"delay_seconds"`
	// TransitionDelaySeconds is to the time burnwatch gave the transition.
	TransitionDelaySeconds *float64 `json:"transition_delay_seconds"`
	Paged                  int      `json:"paged"`
	OtherPages             int      `json:"other_pages"`
	Notifications          int      `json:"notifications"`
	TimeoutSeconds         float64  `json:"timeout_seconds"`
}

// stages are burnwatch's cycle stages, as burnwatch_cycle_stage_seconds
// labels them.
var stages = []string{"read", "apply", "commit", "notify"}

// WriteTable prints the result for a person, one figure a line.
func (r *Result) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(what string, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", what, fmt.Sprintf(format, args...))
	}
	m := r.Machine
	fmt.Fprintf(tw, "burnwatch scale: %s databases × %g days (%s series), seed %d\n", count(int64(r.Databases)), r.Days, count(int64(r.Series)), r.Seed)
	fmt.Fprintf(tw, "machine: %d CPUs (%s), %.1f GiB, %s; %s; %s\n\n", m.CPUs, m.CPUModel, m.MemoryGiB, m.Go, m.Prometheus, m.Burnwatch)

	h := r.History
	cached := "generated now"
	if h.Cached {
		cached = "from the cache, generated earlier"
	}
	row("history", "%s to %s: %s samples, %s in %d blocks", h.Start.UTC().Format(time.RFC3339), h.End.UTC().Format(time.RFC3339), count(h.Samples), bytesStr(float64(h.Bytes)), h.Blocks)
	row("  written", "%s in %.1f s: %s samples/s (%s); %s samples since the cached end", count(h.Samples-h.GapSamples), h.WriteSeconds, count(int64(h.SamplesPerSecond)), cached, count(h.GapSamples))
	row("  live target", "%s series across the history's end (3 per database when it goes on seamlessly)", count(int64(h.SeriesAcrossEnd)))
	row("prometheus idle", "%.3f CPU-s/s scraping the fleet (baseline over %.0f s, taken off below)", r.Prometheus.IdleCPUPerSecond, r.Prometheus.BaselineSeconds)
	row("reference: read every sample once", "%s (count_over_time counted %s)", secs(r.Reference.CountSeconds), count(r.Reference.Counted))
	if r.Reference.RulesSeconds != nil {
		row("reference: 7 windows as recording rules", "%s wall, %s CPU, %s µs CPU per database per evaluation", secs(r.Reference.RulesSeconds), secs(r.Reference.RulesCPUSeconds), num(r.Reference.RulesMicrosPerDatabase, 1))
	}

	f := r.FirstStart
	ready := secs(f.ReadySeconds)
	if f.TimedOut {
		ready = fmt.Sprintf("not ready after %.0f s (backfill %s)", f.Seconds, pct(f.Backfill))
	}
	row("first start: time to ready", "%s", ready)
	if f.ReadySeconds != nil && r.Reference.CountSeconds != nil && *r.Reference.CountSeconds > 0 {
		row("  ÷ reading every sample once", "%.0f×", *f.ReadySeconds / *r.Reference.CountSeconds)
	}
	row("  burnwatch CPU", "%.1f s; wrote %s", f.CPUSeconds, bytesStr(float64(f.WriteBytes)))
	row("  prometheus CPU", "%.1f s above idle", f.PromCPUSeconds)
	row("  prometheus requests", "%s", requests(f.Requests, 0))

	if s := r.Steady; s != nil {
		row(fmt.Sprintf("steady: %d cycles over %.0f s", s.Cycles, s.Seconds), "%d instances", s.Instances)
		row("  wall per cycle", "%s", secs(s.WallPerCycle))
		row("  CPU per cycle", "%.3f s; %s µs per instance", s.CPUPerCycle, num(s.CPUMicrosPerInstance, 1))
		for _, st := range stages {
			row("  stage "+st, "%s per cycle", secs(s.Stages[st]))
		}
		row("  resident", "%s; %s per instance", bytesStr(float64(s.RSSBytes)), bytesPtr(s.RSSPerInstance))
		row("  store", "%s (burnwatch_store_bytes); %s on disk", bytesPtr(s.StoreBytes), bytesStr(float64(s.StateDirBytes)))
		row("  written per hour", "%s; %s per 10,000 instances", bytesStr(s.WriteBytesPerHour), bytesPtr(s.WritePerHour10k))
		row("  prometheus CPU per cycle", "%.3f s above idle", s.PromCPUPerCycle)
		row("  prometheus requests per cycle", "%s", requests(s.RequestsPerCycle, 1))
	} else {
		row("steady", "n/a")
	}
	if p := r.Page; p != nil {
		when := "after ready"
		if p.AtStart {
			when = "just before burnwatch started"
		}
		row("page: failure injected "+when, "%s at %s", strings.Join(p.Databases, ", "), p.InjectedAt.UTC().Format(time.RFC3339))
		switch {
		case p.DelaySeconds != nil:
			row("  delay to the page", "%s (transition stamped %s after)", secs(p.DelaySeconds), secs(p.TransitionDelaySeconds))
		case p.TimeoutSeconds == 0:
			row("  delay to the page", "no page while burnwatch was starting (not waited for further: it was not ready)")
		default:
			row("  delay to the page", "no page within %.0f s", p.TimeoutSeconds)
		}
		row("  pages", "%d of %d injected databases; %d for others; %d notifications in all", p.Paged, len(p.Databases), p.OtherPages, p.Notifications)
	}
	if r.ReportSeconds != nil {
		row("the weekly report", "%s", secs(r.ReportSeconds))
	}
	for _, a := range r.API {
		row("API: GET /api/v1/slos "+a.Phase, "median %.1f ms, p99 %.1f ms, max %.1f ms over %d requests", a.MedianMS, a.P99MS, a.MaxMS, a.Requests)
	}
	for _, e := range r.Errors {
		row("error", "%s", e)
	}
	tw.Flush()
}

func secs(v *float64) string {
	if v == nil {
		return "n/a"
	}
	switch {
	case *v < 0.001:
		return fmt.Sprintf("%.0f µs", *v*1e6)
	case *v < 1:
		return fmt.Sprintf("%.1f ms", *v*1e3)
	}
	return fmt.Sprintf("%.2f s", *v)
}

func num(v *float64, prec int) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func pct(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", *v*100)
}

func bytesPtr(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return bytesStr(*v)
}

func bytesStr(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// count writes n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func requests(m map[string]float64, prec int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, h := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %.*f", h, prec, m[h]))
	}
	return strings.Join(parts, ", ")
}
