package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/slo"
)

func newRouter(t *testing.T, yaml string) *Router {
	t.Helper()
	cfg, err := slo.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Classifier()
	if err != nil {
		t.Fatal(err)
	}
	return NewRouter(cfg, c)
}

const t0 = int64(1_762_300_800_000)

func TestRouterCountsByClass(t *testing.T) {
	r := newRouter(t, string(slo.DefaultConfig))
	total := r.Resolve(labels.FromStrings("__name__", "neo4j_queries_total", "database", "a"))
	user := r.Resolve(labels.FromStrings("__name__", "neo4j_query_errors_total", "database", "a", "code", "Neo.ClientError.Statement.SyntaxError"))
	platform := r.Resolve(labels.FromStrings("__name__", "neo4j_query_errors_total", "database", "a", "code", "Neo.DatabaseError.General.UnknownError"))
	if r.Resolve(labels.FromStrings("__name__", "node_cpu_seconds_total")) != nil {
		t.Errorf("a series no SLO reads resolved")
	}
	if user.Decision.Class != classify.User || platform.Decision.Class != classify.Platform {
		t.Fatalf("classes %v, %v", user.Decision, platform.Decision)
	}
	nop := func(*burnrate.Instance) {}
	// Baselines first: a series seen from the start counts from its first value.
	r.Observe(total, t0, 5000, false, nop)
	r.Observe(user, t0, 50, false, nop)
	r.Observe(platform, t0, 7, false, nop)
	r.Observe(total, t0+60000, 6000, false, nop)
	r.Observe(user, t0+60000, 150, false, nop)
	r.Observe(platform, t0+60000, 10, false, nop)
	// A counter reset: 4 after 10 means the counter restarted; 4 are new.
	r.Observe(total, t0+120000, 7000, false, nop)
	r.Observe(platform, t0+120000, 4, false, nop)

	in := r.Instances()[0]
	if got, want := in.Totals, (burnrate.Events{Total: 2000, User: 100, Platform: 7}); got != want {
		t.Errorf("totals %+v, want %+v", got, want)
	}
	if got, want := in.Sum(t0+120000, 5*time.Minute), (burnrate.Counts{Valid: 1900, Bad: 7}); got != want {
		t.Errorf("5m window %+v, want valid = total − user = %v", got, want)
	}
}

func TestSeriesThatAppearsLateStartsFromZero(t *testing.T) {
	r := newRouter(t, string(slo.DefaultConfig))
	errs := r.Resolve(labels.FromStrings("__name__", "neo4j_query_errors_total", "database", "a", "code", "Neo.DatabaseError.General.UnknownError"))
	r.Observe(errs, t0, 30, true, func(*burnrate.Instance) {})
	if got := r.Instances()[0].Totals.Platform; got != 30 {
		t.Errorf("a fresh series' first value counted %v, want 30", got)
	}
}

func TestSeriesCanBeTotalAndErrors(t *testing.T) {
	r := newRouter(t, `
slos:
  - name: http
    objective: 99
    sli: {total: 'http_requests_total', errors: 'http_requests_total{code=~"[45].."}'}
    group_by: [service]
`)
	ok := r.Resolve(labels.FromStrings("__name__", "http_requests_total", "service", "api", "code", "200"))
	bad := r.Resolve(labels.FromStrings("__name__", "http_requests_total", "service", "api", "code", "503"))
	user := r.Resolve(labels.FromStrings("__name__", "http_requests_total", "service", "api", "code", "404"))
	nop := func(*burnrate.Instance) {}
	for i, v := range []float64{0, 100} {
		ts := t0 + int64(i)*60000
		r.Observe(ok, ts, 9*v, false, nop)
		r.Observe(bad, ts, v/2, false, nop)
		r.Observe(user, ts, v/2, false, nop)
	}
	// 900 + 50 + 50 events; the 404s are the users' and not valid.
	if got, want := r.Instances()[0].Sum(t0+60000, time.Minute), (burnrate.Counts{Valid: 950, Bad: 50}); got != want {
		t.Errorf("window %+v, want %+v", got, want)
	}
}
