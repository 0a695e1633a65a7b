package ingest

import (
	"context"
	"os"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/source"
)

// TestReplayTakesTheDatabaseFromTheMetricName replays Neo4j's own per-database
// query counters, whose database is part of the metric name, through an SLO
// whose relabel_configs copy it into the database label: each database is its
// own instance with its own counts, and only the one with the outage pages.
func TestReplayTakesTheDatabaseFromTheMetricName(t *testing.T) {
	cfgYAML, err := os.ReadFile("../testdata/config/neo4j-metrics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, string(cfgYAML))
	rd, err := source.Open("../testdata/replay/neo4j-metrics.om", nil, source.OpenMetrics)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var trs []burnrate.Transition
	if _, err := r.Replay(context.Background(), rd, func(tr burnrate.Transition) error {
		trs = append(trs, tr)
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	got := map[string]burnrate.Events{}
	for _, in := range r.Instances() {
		got[in.Labels.Get("database")] = in.Totals
	}
	// 240 minutes of 1,000 queries each (success and failure counters
	// both count as total); tenant_a fails 1 a minute, tenant_b 1 a minute
	// but for 20 minutes when all 1,000 fail. Without codes, every failure
	// is the platform's.
	want := map[string]burnrate.Events{
		"tenant_a": {Total: 240000, Platform: 240},
		"tenant_b": {Total: 240000, Platform: 220 + 20000},
	}
	if len(got) != len(want) || got["tenant_a"] != want["tenant_a"] || got["tenant_b"] != want["tenant_b"] {
		t.Errorf("counted per database %+v, want %+v", got, want)
	}
	for _, tr := range trs {
		if db := tr.Labels.Get("database"); db != "tenant_b" {
			t.Errorf("%s %s %s for database %q; only tenant_b had an outage", tr.Alert, tr.Severity, tr.State, db)
		}
	}
	if len(trs) == 0 {
		t.Errorf("tenant_b's 20-minute outage paged no one")
	}
}

func TestRelabelCanDropASeries(t *testing.T) {
	r := newRouter(t, `
slos:
  - name: cypher
    objective: 99.9
    sli:
      total: '{__name__=~"neo4j_database_.+_db_query_execution_(success|failure)_total"}'
      errors: '{__name__=~"neo4j_database_.+_db_query_execution_failure_total"}'
      relabel_configs:
        - source_labels: [__name__]
          regex: 'neo4j_database_(system)_.*'
          action: drop
        - source_labels: [__name__]
          regex: 'neo4j_database_(.+)_db_query_execution_(?:success|failure)_total'
          target_label: database
    group_by: [database]
`)
	if s := r.Resolve(labelsOf("neo4j_database_system_db_query_execution_success_total")); s != nil {
		t.Errorf("the system database's series was dropped by a rule, yet it counts for %d instances", len(s.targets))
	}
	s := r.Resolve(labelsOf("neo4j_database_movies_db_query_execution_success_total"))
	if s == nil || r.Instances()[0].Labels.Get("database") != "movies" {
		t.Fatalf("the movies database was not its own instance")
	}
}

func labelsOf(name string) labels.Labels { return labels.FromStrings("__name__", name) }
