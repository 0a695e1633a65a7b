package scale

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/procfs"
)

// Options are a run's parameters; the command's flags set them.
type Options struct {
	Databases   int
	Days        float64
	Seed        uint64
	CacheDir    string
	CacheMaxAge time.Duration
	// Cycles is how many steady cycles are measured after ready.
	Cycles int
	// Interval is burnwatch's evaluation_interval.
	Interval     time.Duration
	ReadyTimeout time.Duration
	PageTimeout  time.Duration
	// Fail is how many databases are made to fail.
	Fail          int
	InjectAtStart bool
	// Baseline is how long Prometheus's idle CPU is measured.
	Baseline  time.Duration
	Reference bool
	Rules     bool
	// Burnwatch is a burnwatch binary; empty builds cmd/burnwatch of the
	// module at Source.
	Burnwatch  string
	Source     string
	Prometheus string
	// WorkDir holds the run's data, state and logs; empty makes a
	// temporary one. Keep leaves it.
	WorkDir string
	Keep    bool
	Log     *slog.Logger
}

// Run stands everything up, measures, and stops everything it started,
// also when ctx is cancelled or a step fails. The result holds what was
// measured up to a failure, and the error says what failed.
func Run(ctx context.Context, o Options) (res *Result, err error) {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	res = &Result{Databases: o.Databases, Days: o.Days, Seed: o.Seed, Series: 3 * o.Databases}
	res.Machine = machine(o.Prometheus)

	work := o.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "burnwatch-scale-run-"); err != nil {
			return res, err
		}
	} else if err = os.MkdirAll(work, 0o755); err != nil {
		return res, err
	}
	defer func() {
		if o.Keep {
			log.Info("kept the run's data, state and logs", "dir", work)
			return
		}
		os.RemoveAll(work)
	}()

	bin := o.Burnwatch
	if bin == "" {
		log.Info("building burnwatch", "src", o.Source)
		if bin, err = buildBurnwatch(ctx, o.Source, work); err != nil {
			return res, err
		}
	}
	res.Machine.Burnwatch = burnwatchVersion(bin, o.Source)

	dataDir := filepath.Join(work, "prometheus-data")
	h, err := PrepareHistory(ctx, log, o.CacheDir, dataDir, o.Databases, o.Days, o.Seed, o.CacheMaxAge, time.Now())
	if err != nil {
		return res, fmt.Errorf("preparing the history: %w", err)
	}
	res.History = HistoryResult{Start: h.Start, End: h.End, Samples: h.Samples(), Cached: h.Cached,
		WriteSeconds: h.Written.Elapsed.Seconds(), SamplesPerSecond: h.Written.Rate(), GapSamples: h.Gap.Samples}
	res.History.Bytes, _ = dirSize(dataDir)
	blocks, _ := filepath.Glob(filepath.Join(dataDir, "*", "meta.json"))
	res.History.Blocks = len(blocks)

	// The fleet's live side, and the webhook burnwatch pages.
	sim := NewSimulator(h.Fleet, h.End, time.Now)
	simAddr, stopSim, err := serveLoopback(sim)
	if err != nil {
		return res, err
	}
	defer stopSim()
	hk := newHook()
	hookAddr, stopHook, err := serveLoopback(hk)
	if err != nil {
		return res, err
	}
	defer stopHook()

	log.Info("starting prometheus", "data", dataDir)
	prom, err := startPrometheus(ctx, o.Prometheus, work, dataDir, simAddr, Step)
	if err != nil {
		return res, err
	}
	defer prom.Stop()
	if err := waitFor(ctx, 2*Step+10*time.Second, func() bool { return sim.Scrapes() > 0 }); err != nil {
		return res, fmt.Errorf("waiting for prometheus to scrape the fleet: %w", err)
	}
	time.Sleep(2 * time.Second) // let the first scrape be ingested

	// Prometheus's idle cost: scraping the fleet and nothing else.
	log.Info("measuring prometheus idle", "for", o.Baseline)
	u0, err := prom.usage()
	if err != nil {
		return res, err
	}
	if err := sleep(ctx, o.Baseline); err != nil {
		return res, err
	}
	u1, err := prom.usage()
	if err != nil {
		return res, err
	}
	idle := (u1.cpu - u0.cpu) / u1.at.Sub(u0.at).Seconds()
	res.Prometheus = PrometheusIdle{IdleCPUPerSecond: idle, BaselineSeconds: u1.at.Sub(u0.at).Seconds()}
	aboveIdle := func(a, b usage) float64 { return max(0, b.cpu-a.cpu-idle*b.at.Sub(a.at).Seconds()) }

	if o.Reference {
		if err := reference(ctx, log, prom, h, o.Rules, o.Databases, aboveIdle, &res.Reference); err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
	}

	failing := pickFailing(o.Databases, o.Fail, o.Seed, h.Fleet)
	failSet := map[string]bool{}
	for _, db := range failing {
		failSet[db] = true
	}
	inject := func() error {
		at := time.Now()
		res.Page = &PageResult{Databases: failing, InjectedAt: at, AtStart: o.InjectAtStart}
		log.Info("failure injected", "databases", failing)
		return sim.Fail(failing, at)
	}
	if o.InjectAtStart && len(failing) > 0 {
		if err := inject(); err != nil {
			return res, err
		}
	}

	// The first start.
	promBefore, err := scrapeMetrics(ctx, prom.url+"/metrics")
	if err != nil {
		return res, err
	}
	pu0, _ := prom.usage()
	log.Info("starting burnwatch serve", "ready_timeout", o.ReadyTimeout)
	start := time.Now()
	bw, err := startBurnwatch(bin, work, prom.url, "http://"+hookAddr, o.Interval)
	if err != nil {
		return res, err
	}
	defer bw.Stop()
	probe := startProbe(ctx, bw.url)
	defer func() { res.API = probe.finish() }()
	took, readyErr := bw.waitReady(ctx, start, o.ReadyTimeout)
	fs := &res.FirstStart
	fs.Seconds = took.Seconds()
	if bu, err := bw.usage(); err == nil {
		fs.CPUSeconds, fs.WriteBytes = bu.cpu, bu.writeBytes
	}
	if pu1, err := prom.usage(); err == nil {
		fs.PromCPUSeconds = aboveIdle(pu0, pu1)
	}
	if promAfter, err := scrapeMetrics(ctx, prom.url+"/metrics"); err == nil {
		fs.Requests = requestDeltas(promBefore, promAfter, 1)
	}
	if m, err := scrapeMetrics(ctx, bw.url+"/metrics"); err == nil {
		if v, ok := m.sum("burnwatch_backfill_progress_ratio"); ok {
			fs.Backfill = &v
		}
	}
	switch {
	case readyErr == nil:
		fs.ReadySeconds = ptr(took.Seconds())
		log.Info("burnwatch ready", "seconds", took.Seconds())
	case errors.Is(readyErr, errNotReady):
		fs.TimedOut = true
		res.Errors = append(res.Errors, readyErr.Error())
		log.Warn("burnwatch not ready in time", "after", took)
	default:
		return res, readyErr
	}

	if fs.ReadySeconds != nil {
		probe.set("steady")
		steady, err := measureSteady(ctx, log, o, bw, prom, aboveIdle)
		res.Steady = steady
		if err != nil {
			return res, fmt.Errorf("measuring steady cycles: %w", err)
		}
		probe.set("during a report")
		if d, err := askReport(ctx, bw.url); err != nil {
			res.Errors = append(res.Errors, "the report: "+err.Error())
		} else {
			res.ReportSeconds = ptr(d.Seconds())
		}
		probe.set("steady")
		if !o.InjectAtStart && len(failing) > 0 {
			if err := inject(); err != nil {
				return res, err
			}
		}
	}
	if res.Page != nil {
		timeout := o.PageTimeout
		if o.InjectAtStart && fs.ReadySeconds == nil {
			timeout = 0 // burnwatch is still starting; what came in came in
		} else if o.InjectAtStart {
			timeout += took
		}
		res.Page.TimeoutSeconds = timeout.Seconds()
		if err := waitPage(ctx, log, hk, failSet, res.Page, timeout); err != nil {
			return res, err
		}
	}
	if err := checkSeamless(ctx, prom, h, &res.History); err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
	return res, nil
}

// checkSeamless counts the series with samples in the last minute of the
// history or after it: if the live target's labels differed from the
// history's, every database would count twice.
func checkSeamless(ctx context.Context, prom *promServer, h *History, r *HistoryResult) error {
	now := time.Now()
	q := fmt.Sprintf(`count(count_over_time({__name__=~"neo4j_.*"}[%dms]))`, now.Sub(h.End.Add(-time.Minute)).Milliseconds())
	v, _, err := prom.query(ctx, q, now)
	if err != nil {
		return fmt.Errorf("counting the series across the history's end: %w", err)
	}
	r.SeriesAcrossEnd = int(v)
	if want := 3 * h.Fleet.Len(); r.SeriesAcrossEnd != want {
		return fmt.Errorf("%d series across the history's end, want %d: the live target's labels differ from the history's", r.SeriesAcrossEnd, want)
	}
	return nil
}

// reference measures what issue 10 compares burnwatch with: Prometheus
// reading every raw sample of the history once, and optionally one
// evaluation of the 7 windows as recording rules.
func reference(ctx context.Context, log *slog.Logger, prom *promServer, h *History, rules bool, n int,
	aboveIdle func(a, b usage) float64, ref *ReferenceResult) error {
	span := h.End.Sub(h.Start) + Step
	q := fmt.Sprintf(`sum(count_over_time({__name__=~"neo4j_.*"}[%dms]))`, span.Milliseconds())
	log.Info("reading every sample once", "query", q)
	v, took, err := prom.query(ctx, q, h.End)
	if err != nil {
		return fmt.Errorf("reference: %w", err)
	}
	ref.CountSeconds, ref.Counted = ptr(took.Seconds()), int64(v)
	if !rules {
		return nil
	}
	log.Info("evaluating the 7 windows as recording rules")
	u0, err := prom.usage()
	if err != nil {
		return err
	}
	var wall time.Duration
	for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"} {
		// count() keeps the answer to one number: what a rule would write
		// to the TSDB is computed, not shipped as JSON.
		for _, e := range []string{
			fmt.Sprintf(`count(sum by (database) (increase(%s[%s])))`, QueriesMetric, w),
			fmt.Sprintf(`count(sum by (database, code) (increase(%s[%s])))`, ErrorsMetric, w),
		} {
			_, took, err := prom.query(ctx, e, h.End)
			if err != nil {
				return fmt.Errorf("recording rules: %w", err)
			}
			wall += took
		}
	}
	u1, err := prom.usage()
	if err != nil {
		return err
	}
	cpu := aboveIdle(u0, u1)
	ref.RulesSeconds, ref.RulesCPUSeconds = ptr(wall.Seconds()), ptr(cpu)
	ref.RulesMicrosPerDatabase = ptr(cpu / float64(n) * 1e6)
	return nil
}

// measureSteady waits for a cycle to end, then measures the next
// o.Cycles.
func measureSteady(ctx context.Context, log *slog.Logger, o Options, bw *burnwatchServer, prom *promServer,
	aboveIdle func(a, b usage) float64) (*Steady, error) {
	log.Info("measuring steady cycles", "cycles", o.Cycles, "interval", o.Interval)
	timeout := time.Duration(o.Cycles+2)*o.Interval*3 + 2*time.Minute
	// Each poll of /metrics costs burnwatch a little CPU, which the
	// figures include: about 30 polls a cycle, whatever the interval.
	every := min(max(o.Interval/30, 100*time.Millisecond), time.Second)
	a, err := cyclePointAfter(ctx, bw, prom, 1, every, timeout) // the end of a cycle
	if err != nil {
		return nil, err
	}
	b, err := cyclePointAfter(ctx, bw, prom, o.Cycles, every, timeout)
	if err != nil {
		return nil, err
	}
	mA, mB, bA, bB, pA, pB := a.bw, b.bw, a.bwUsage, b.bwUsage, a.promUsage, b.promUsage
	eA, eB, promA, promB := a.evals, b.evals, a.prom, b.prom
	cycles := eB - eA
	span := bB.at.Sub(bA.at).Seconds()
	s := &Steady{Cycles: int(cycles), Seconds: span, CPUPerCycle: (bB.cpu - bA.cpu) / cycles,
		RSSBytes: bB.rss, Stages: map[string]*float64{}}
	s.WallPerCycle = meanDelta(mA, mB, "burnwatch_evaluation_duration_seconds")
	for _, st := range stages {
		// Per cycle, not per observation: a stage may be observed more
		// than once in a cycle (a read per source) or not at all.
		if d := sumDelta(mA, mB, "burnwatch_cycle_stage_seconds_sum", "stage", st); d != nil {
			s.Stages[st] = ptr(*d / cycles)
		}
	}
	if v, ok := mB.sum("burnwatch_slo_instances"); ok && v > 0 {
		s.Instances = int(v)
		s.CPUMicrosPerInstance = ptr(s.CPUPerCycle / v * 1e6)
		s.RSSPerInstance = ptr(float64(bB.rss) / v)
	}
	if v, ok := mB.sum("burnwatch_store_bytes"); ok {
		s.StoreBytes = &v
	}
	s.StateDirBytes, _ = dirSize(bw.storage)
	s.WriteBytesPerHour = float64(bB.writeBytes-bA.writeBytes) / span * 3600
	if s.Instances > 0 {
		s.WritePerHour10k = ptr(s.WriteBytesPerHour / float64(s.Instances) * 10000)
	}
	s.PromCPUPerCycle = aboveIdle(pA, pB) / cycles
	s.RequestsPerCycle = requestDeltas(promA, promB, cycles)
	return s, nil
}

// cyclePoint is what the harness reads at the end of a cycle.
type cyclePoint struct {
	evals              float64 // burnwatch_evaluations_total
	bw, prom           metrics
	bwUsage, promUsage usage
}

// cyclePointAfter waits until burnwatch has completed the given number of
// cycles more than when it is called, and reads both servers' metrics and
// usage.
func cyclePointAfter(ctx context.Context, bw *burnwatchServer, prom *promServer, cycles int, every, timeout time.Duration) (cyclePoint, error) {
	var p cyclePoint
	first := -1.0
	err := poll(ctx, bw.process, every, timeout, func() (bool, error) {
		m, err := scrapeMetrics(ctx, bw.url+"/metrics")
		if err != nil {
			return false, err
		}
		p.bw = m
		p.evals, _ = m.sum("burnwatch_evaluations_total")
		if first < 0 {
			first = p.evals
		}
		return p.evals >= first+float64(cycles), nil
	})
	if err != nil {
		return p, err
	}
	var errB, errP, errM error
	p.bwUsage, errB = bw.usage()
	p.promUsage, errP = prom.usage()
	p.prom, errM = scrapeMetrics(ctx, prom.url+"/metrics")
	return p, errors.Join(errB, errP, errM)
}

// waitPage waits up to timeout after the injection for the first page of
// an injected database, and records it.
func waitPage(ctx context.Context, log *slog.Logger, hk *hook, dbs map[string]bool, p *PageResult, timeout time.Duration) error {
	deadline := time.NewTimer(time.Until(p.InjectedAt.Add(timeout)))
	defer deadline.Stop()
	for {
		n, next := hk.firstPage(dbs)
		if n != nil {
			p.DelaySeconds = ptr(n.Received.Sub(p.InjectedAt).Seconds())
			p.TransitionDelaySeconds = ptr(n.Time.Sub(p.InjectedAt).Seconds())
			log.Info("paged", "database", n.Labels["database"], "delay", n.Received.Sub(p.InjectedAt))
			break
		}
		select {
		case <-next:
			continue
		case <-deadline.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		break
	}
	p.Paged, p.OtherPages, p.Notifications = hk.counts(dbs)
	return nil
}

// pickFailing names k databases drawn from the seed, in order.
func pickFailing(n, k int, seed uint64, f *Fleet) []string {
	k = min(k, n)
	perm := rand.New(rand.NewPCG(seed, 0x6661696c)).Perm(n)[:k] // "fail"
	slices.Sort(perm)
	out := make([]string, k)
	for j, i := range perm {
		out[j] = f.Name(i)
	}
	return out
}

// requestDeltas are the requests Prometheus served between two reads of
// its metrics, per API handler, divided by per.
func requestDeltas(a, b metrics, per float64) map[string]float64 {
	before := a.byLabel("prometheus_http_requests_total", "handler")
	out := map[string]float64{}
	for h, v := range b.byLabel("prometheus_http_requests_total", "handler") {
		if d := v - before[h]; d > 0 && strings.HasPrefix(h, "/api/") {
			out[h] = d / per
		}
	}
	return out
}

// meanDelta is the mean of a histogram or summary between two reads: its
// _sum's increase over its _count's. Nil when it is absent or unchanged.
func meanDelta(a, b metrics, name string, match ...string) *float64 {
	sa, okA := a.sum(name+"_sum", match...)
	sb, okB := b.sum(name+"_sum", match...)
	ca, _ := a.sum(name+"_count", match...)
	cb, _ := b.sum(name+"_count", match...)
	if !okA || !okB || cb <= ca {
		return nil
	}
	return ptr((sb - sa) / (cb - ca))
}

// sumDelta is the increase of a counter (or a histogram's _sum) between
// two reads; nil when the second read has none.
func sumDelta(a, b metrics, name string, match ...string) *float64 {
	vb, ok := b.sum(name, match...)
	if !ok {
		return nil
	}
	va, _ := a.sum(name, match...)
	return ptr(vb - va)
}

// poll calls done every so often until it says so, the process exits, ctx
// ends or timeout passes.
func poll(ctx context.Context, p *process, every, timeout time.Duration, done func() (bool, error)) error {
	end := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("gave up after %s", timeout)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s %w: %s", p.name, errExited, tail(p.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	end := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(end) {
			return fmt.Errorf("not within %s", timeout)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serveLoopback serves h on a free loopback port until stop is called.
func serveLoopback(h http.Handler) (addr string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return l.Addr().String(), func() { srv.Close() }, nil
}

// machine describes where the run runs.
func machine(prometheus string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Prometheus: prometheusVersion(prometheus)}
	if fs, err := procfs.NewDefaultFS(); err == nil {
		if mi, err := fs.Meminfo(); err == nil && mi.MemTotal != nil {
			m.MemoryGiB = float64(*mi.MemTotal) / (1 << 20)
		}
		if ci, err := fs.CPUInfo(); err == nil && len(ci) > 0 {
			m.CPUModel = ci[0].ModelName
		}
	}
	return m
}

// burnwatchVersion is `burnwatch version` and, when built here, the
// checkout's commit.
func burnwatchVersion(bin, src string) string {
	out, _ := exec.Command(bin, "version").Output()
	v := strings.TrimSpace(string(out))
	if src != "" {
		if c, err := exec.Command("git", "-C", src, "describe", "--always", "--dirty").Output(); err == nil {
			v += " (" + strings.TrimSpace(string(c)) + ")"
		}
	}
	return v
}

func ptr[T any](v T) *T { return &v }
