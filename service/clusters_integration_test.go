package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/promtest"
	"github.com/burnwatch/burnwatch/internal/scenario"
)

// One Prometheus per cluster (docs/deploy.md, "Many clusters"): two real
// servers hold the same databases, db-1 and db-2, and in cluster eu-1 db-1
// fails its last 30 minutes. Whichever way burnwatch reads them, one
// report must list the four instances, and only eu-1's db-1 may page.

// clusterRecording is four hours of db-1 and db-2 ending at end, db-1
// failing every query in the last 30 minutes when failing is set.
func clusterRecording(t *testing.T, end time.Time, failing bool) string {
	t.Helper()
	const minutes = 240
	var errs []string
	v := 0
	for i := 0; i <= minutes; i++ {
		if failing && i > minutes-30 {
			v += 1000
		}
		errs = append(errs, fmt.Sprint(v))
	}
	desc := fmt.Sprintf(`start %s
neo4j_queries_total{database="db-1"} 0+1000x%d
neo4j_queries_total{database="db-2"} 0+1000x%d
neo4j_query_errors_total{database="db-1",code="Neo.DatabaseError.General.UnknownError"} %s
neo4j_query_errors_total{database="db-2",code="Neo.DatabaseError.General.UnknownError"} 0x%d
`, end.Add(-minutes*time.Minute).Format(time.RFC3339), minutes, minutes, strings.Join(errs, " "), minutes)
	sc, err := scenario.Parse(strings.NewReader(desc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if err := sc.WriteOpenMetrics(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}

// clusterPrometheus starts a cluster's Prometheus with its external label
// orchestra, as each cluster's own server is configured.
func clusterPrometheus(t *testing.T, end time.Time, orchestra string, failing bool) string {
	t.Helper()
	return promtest.StartConfig(t, clusterRecording(t, end, failing),
		fmt.Sprintf("global:\n  scrape_interval: 1m\n  external_labels: {orchestra: %s}\n", orchestra))
}

// serveClusters runs one cycle of a service on config at clock and returns
// the alerts firing and the instances of the report of the recording's
// last four hours, each as orchestra/database.
func serveClusters(t *testing.T, config string, clock, end time.Time) (firing, instances []string) {
	t.Helper()
	dir := t.TempDir()
	writeConfig(t, dir, config)
	svc, err := New(context.Background(), Options{
		ConfigPath: filepath.Join(dir, "burnwatch.yaml"), StoragePath: filepath.Join(dir, "data"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock }, Console: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := svc.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, a := range svc.Alerts() {
		firing = append(firing, a.Labels["orchestra"]+"/"+a.Labels["database"]+" "+a.Severity)
	}
	rep, err := svc.Report(ctx, end.Add(-4*time.Hour).Truncate(time.Hour), end)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.SLOs {
		for _, in := range s.Instances {
			instances = append(instances, in.Labels["orchestra"]+"/"+in.Labels["database"])
		}
	}
	slices.Sort(firing)
	slices.Sort(instances)
	return firing, instances
}

const clusterSLO = `
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [orchestra, database]
`

func TestManyClusters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three Prometheus servers")
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	eu := clusterPrometheus(t, end, "eu-1", true)
	us := clusterPrometheus(t, end, "us-1", false)
	check := func(t *testing.T, config string) {
		t.Helper()
		firing, instances := serveClusters(t, config, end.Add(time.Minute), end)
		if got, want := strings.Join(instances, " "), "eu-1/db-1 eu-1/db-2 us-1/db-1 us-1/db-2"; got != want {
			t.Errorf("the report lists %s, want %s", got, want)
		}
		if got, want := strings.Join(firing, ", "), "eu-1/db-1 page, eu-1/db-1 ticket"; got != want {
			t.Errorf("firing %s, want %s: the outage in eu-1 pages eu-1's db-1 only", got, want)
		}
	}

	t.Run("one burnwatch over a global query layer", func(t *testing.T) {
		// A third Prometheus reading both through remote_read, as Thanos
		// Query or Mimir would serve them: each cluster's series carry its
		// external label.
		global := promtest.StartConfig(t, "", fmt.Sprintf(`global: {scrape_interval: 1m}
remote_read:
  - {url: %q, read_recent: true}
  - {url: %q, read_recent: true}
`, eu+"/api/v1/read", us+"/api/v1/read"))
		check(t, clusterSLO+fmt.Sprintf(`
sources:
  - name: global
    prometheus: {url: %q, api: query}
`, global))
	})

	t.Run("one SLO reading a source per cluster, each adding its label", func(t *testing.T) {
		// The query API does not add the servers' external labels: the
		// orchestra label comes from the sources alone.
		check(t, clusterSLO+fmt.Sprintf(`    sources: [eu, us]
sources:
  - name: eu
    prometheus: {url: %q, api: query}
    labels: {orchestra: eu-1}
  - name: us
    prometheus: {url: %q, api: query}
    labels: {orchestra: us-1}
`, eu, us))
	})
}
