package ingest

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/slo"
)

const limitedConfig = `
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [database]
limits:
  max_instances_per_slo: 2
  max_codes_per_instance: 2
  max_labels: 8
  max_label_value_length: 64
`

// TestSeriesOverALimitAreDroppedAndCounted: a source whose cardinality
// explodes makes no more instances, codes or long-labelled series than the
// limits allow; what it brings beyond them is dropped, counted by reason,
// and kept nowhere, while what was within them goes on counting.
func TestSeriesOverALimitAreDroppedAndCounted(t *testing.T) {
	r := newRouter(t, limitedConfig)
	total := func(db string) labels.Labels {
		return labels.FromStrings("__name__", "neo4j_queries_total", "database", db)
	}
	errs := func(db, code string) labels.Labels {
		return labels.FromStrings("__name__", "neo4j_query_errors_total", "database", db, "code", code)
	}
	nop := func(*burnrate.Instance) {}
	a, b := r.Resolve(total("a")), r.Resolve(total("b"))
	if a == nil || b == nil {
		t.Fatal("the first two instances were dropped")
	}
	for i, db := range []string{"c", "d", "c"} {
		if s := r.Resolve(total(db)); s != nil {
			t.Errorf("a third instance %s was made (read %d)", db, i)
		}
	}
	if s := r.Resolve(errs("c", "X")); s != nil {
		t.Errorf("an error series of a third instance was made")
	}
	for _, code := range []string{"Neo.DatabaseError.General.UnknownError", "Neo.ClientError.Statement.SyntaxError"} {
		if r.Resolve(errs("a", code)) == nil {
			t.Fatalf("code %s of a was dropped within the limit", code)
		}
	}
	if s := r.Resolve(errs("a", "Neo.TransientError.General.OutOfMemoryError")); s != nil {
		t.Errorf("a third code of a was counted")
	}
	many := labels.NewBuilder(total("a"))
	for _, n := range []string{"l1", "l2", "l3", "l4", "l5", "l6", "l7"} {
		many.Set(n, "x")
	}
	if r.Resolve(many.Labels()) != nil {
		t.Errorf("a series of 9 labels was made")
	}
	if r.Resolve(total(strings.Repeat("x", 65))) != nil {
		t.Errorf("a series with a value of 65 bytes was made")
	}
	if got := len(r.Instances()); got != 2 {
		t.Errorf("%d instances, want 2", got)
	}
	d := r.TakeDrops()
	want := map[DropReason]int{DropInstances: 4, DropCodes: 1, DropLabels: 1, DropLabelValueLength: 1}
	for reason, n := range want {
		if d.Count[reason] != n {
			t.Errorf("dropped for %s: %d, want %d", reason, d.Count[reason], n)
		}
	}
	if d.SLO[DropInstances] != "cypher-availability" || !strings.Contains(d.Example[DropInstances], `database="c"`) {
		t.Errorf("the example of a drop: %q of %q", d.Example[DropInstances], d.SLO[DropInstances])
	}
	if r.TakeDrops().Any() {
		t.Errorf("drops are counted once")
	}
	// What is within the limits counts on.
	r.Observe(a, t0, 10, false, nop)
	r.Observe(a, t0+60_000, 30, false, nop)
	if got := r.Instances()[0].Totals.Total; got != 20 {
		t.Errorf("a counted %v, want 20", got)
	}
	// Pushed counts follow the same limits.
	if r.Pushed("cypher-availability", labels.FromStrings("database", "e"), "") != nil {
		t.Errorf("a pushed third instance was made")
	}
	if r.Pushed("cypher-availability", labels.FromStrings("database", "b"), "") == nil {
		t.Errorf("a pushed total of a known instance was dropped")
	}
	for i, code := range []string{"P1", "P2", "P3"} {
		if s := r.Pushed("cypher-availability", labels.FromStrings("database", "b"), code); (s == nil) != (i == 2) {
			t.Errorf("pushed code %s of b: %v", code, s)
		}
	}
}

// TestTheDefaultLimitsLeaveAFleetAlone: the defaults are far above what
// the scale harness's fleets bring.
func TestTheDefaultLimitsLeaveAFleetAlone(t *testing.T) {
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Limits
	if l.MaxInstancesPerSLO < 50_000 || l.MaxCodesPerInstance < 100 || l.MaxLabels < 30 || l.MaxLabelValueLength < 256 {
		t.Errorf("default limits %+v", l)
	}
}
