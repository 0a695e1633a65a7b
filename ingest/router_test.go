package ingest

import (
	"math"
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

// TestSamplesNoCounterHoldsAreIgnored: an infinite, negative or
// impossibly large sample would make every sum over the instance +Inf or
// NaN (1e308 twice overflows), its burn rates and budget with them; it is
// ignored as a staleness marker is, and the counter goes on from the
// sample before it.
func TestSamplesNoCounterHoldsAreIgnored(t *testing.T) {
	r := newRouter(t, string(slo.DefaultConfig))
	total := r.Resolve(labels.FromStrings("__name__", "neo4j_queries_total", "database", "a"))
	errs := r.Resolve(labels.FromStrings("__name__", "neo4j_query_errors_total", "database", "a", "code", "Neo.DatabaseError.General.UnknownError"))
	nop := func(*burnrate.Instance) {}
	r.Observe(total, t0, 100, false, nop)
	r.Observe(errs, t0, 1, false, nop)
	for i, v := range []float64{1e308, math.Inf(1), -5, math.NaN(), 1e300} {
		ts := t0 + int64(i+1)*1000
		r.Observe(total, ts, v, false, nop)
		r.Observe(errs, ts, v, false, nop)
	}
	r.Observe(total, t0+60000, 200, false, nop)
	r.Observe(errs, t0+60000, 3, false, nop)
	in := r.Instances()[0]
	if got, want := in.Totals, (burnrate.Events{Total: 100, Platform: 2}); got != want {
		t.Errorf("totals %+v, want %+v: only the counters' own increases", got, want)
	}
	if b := in.BudgetRemaining(t0 + 60000); math.IsNaN(b) || math.IsInf(b, 0) {
		t.Errorf("budget remaining %v", b)
	}
}

// TestALowercasedCodeIsCountedAsItsVendorSpellsIt: Datadog lowercases tag
// values; the router gives such a series the class of the code as Neo4j
// writes it, and names it so in the codes behind a page.
func TestALowercasedCodeIsCountedAsItsVendorSpellsIt(t *testing.T) {
	r := newRouter(t, string(slo.DefaultConfig))
	s := r.Resolve(labels.FromStrings("__name__", "neo4j_query_errors_total", "database", "a", "code", "neo.clienterror.statement.syntaxerror"))
	if s.Decision.Class != classify.User {
		t.Errorf("class %v, want user", s.Decision.Class)
	}
	if s.Code != "Neo.ClientError.Statement.SyntaxError" {
		t.Errorf("code %q, want Neo.ClientError.Statement.SyntaxError", s.Code)
	}
}
