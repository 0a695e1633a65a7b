package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
)

// fakeDatadog answers GET /api/v1/query as Datadog's metrics query API
// does, for db-1's neo4j.queries (1,000 a minute) and neo4j.query.errors
// (every query failing from outage on), one point per minute bucket.
func fakeDatadog(t *testing.T, outage time.Time) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.Header.Get("DD-API-KEY") == "" || r.Header.Get("DD-APPLICATION-KEY") == "" {
			http.Error(w, `{"errors":["Forbidden"]}`, http.StatusForbidden)
			return
		}
		from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
		to, _ := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		q := r.URL.Query().Get("query")
		if !strings.Contains(q, "{orchestra:eu-1}") {
			http.Error(w, `{"errors":["the test expects the selector's filter"]}`, http.StatusBadRequest)
			return
		}
		metric, tags := "neo4j.queries", []string{"database:db-1"}
		if strings.Contains(q, "neo4j.query.errors") {
			metric, tags = "neo4j.query.errors", []string{"database:db-1", "code:Neo.DatabaseError.General.UnknownError"}
		}
		scope := append([]string{"orchestra:eu-1"}, tags...)
		var points [][2]any
		for m := (from + 59) / 60 * 60; m+60 <= to; m += 60 {
			v := 1000.0
			if metric == "neo4j.query.errors" && time.Unix(m, 0).Before(outage) {
				v = 0
			}
			points = append(points, [2]any{float64(m * 1000), v})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"status": "ok", "res_type": "time_series", "query": q,
			"from_date": from * 1000, "to_date": to * 1000,
			"series": []map[string]any{{
				"metric": metric, "display_name": metric, "aggr": "sum",
				"scope": strings.Join(scope, ","), "tag_set": tags,
				"expression": q, "interval": 60, "length": len(points), "pointlist": points,
			}},
		})
	}))
}

// writeDatadogConfig writes to dir a config of one SLO, its total read from
// Datadog's metric total, on a Datadog source at url, and its keys.
func writeDatadogConfig(t *testing.T, dir, url, total string) {
	t.Helper()
	os.WriteFile(filepath.Join(dir, "api"), []byte("5f1e0c2a9b8d7e6f5a4b3c2d1e0f9a8b\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "app"), []byte("0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d\n"), 0o600)
	cfg := fmt.Sprintf(`
sources:
  - name: dd
    datadog: {endpoint: %q, api_key_file: %q, app_key_file: %q, retries: 0}
slos:
  - name: cypher-availability
    objective: 99.9
    window: 7d
    sli:
      total: %s{orchestra="eu-1"}
      errors: neo4j_query_errors{orchestra="eu-1"}
      datadog: {total: %s, errors: neo4j.query.errors}
    group_by: [database]
`, url, filepath.Join(dir, "api"), filepath.Join(dir, "app"), strings.ReplaceAll(total, ".", "_"), total)
	writeConfig(t, dir, cfg)
}

// TestServeReadsDatadog runs the service on a Datadog source (faked):
// it backfills, pages for db-1's outage, and a cycle later reads on from
// its cursor without counting a minute twice.
func TestServeReadsDatadog(t *testing.T) {
	now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	outage := now.Add(-10 * time.Minute)
	dd := fakeDatadog(t, outage)
	defer dd.Close()
	dir := t.TempDir()
	writeDatadogConfig(t, dir, dd.URL, "neo4j.queries")

	clock := now
	var trs []burnrate.Transition
	svc, err := New(context.Background(), Options{
		ConfigPath:   filepath.Join(dir, "burnwatch.yaml"),
		StoragePath:  filepath.Join(dir, "data"),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Console:      io.Discard,
		Now:          func() time.Time { return clock },
		OnTransition: func(tr burnrate.Transition) { trs = append(trs, tr) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, why := svc.Ready(); !ok {
		t.Fatalf("not ready: %s", why)
	}
	got := map[string]bool{}
	for _, a := range svc.Alerts() {
		got[a.Labels["database"]+" "+a.Severity] = true
	}
	if !got["db-1 page"] {
		t.Fatalf("firing %v; want db-1's page", got)
	}
	for range 4 {
		clock = clock.Add(30 * time.Second)
		if err := svc.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := svc.SLO("cypher-availability")
	in := d.All[0]
	// Each cycle reads to three minutes before its clock (at 12:02, to
	// 11:59), from where the last one stopped.
	// The failing buckets 11:50 … 11:58 each end by 11:59: nine, once each.
	if in.Events.Platform != 9000 {
		t.Errorf("counted %v failures, want the 9 failing minutes to 11:59 once each (events %+v)", in.Events.Platform, in.Events)
	}
	// And every minute of the 7-day backfill and the cycles after it once:
	// from 12:00 − 7d − 3m to 11:59.
	if want := int64(7*24*60+2) * 1000; in.Events.Total != want {
		t.Errorf("counted %v queries, want %v", in.Events.Total, want)
	}
}

// TestSelectorsThatMatchNothingAreSaid: a Datadog source whose queries
// match no series (a metric named wrong) is read whole, and the SLO
// evaluates nothing: serve goes on, since series may come, but says so,
// in its log once and in the SLO's status for as long as it lasts.
func TestSelectorsThatMatchNothingAreSaid(t *testing.T) {
	dd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("query")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "res_type": "time_series", "query": q, "series": []any{}})
	}))
	defer dd.Close()
	dir := t.TempDir()
	writeDatadogConfig(t, dir, dd.URL, "neo4j.querys") // misspelt
	var logs strings.Builder
	clock := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	svc, err := New(context.Background(), Options{
		ConfigPath:  filepath.Join(dir, "burnwatch.yaml"),
		StoragePath: filepath.Join(dir, "data"),
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Console:     io.Discard,
		Now:         func() time.Time { return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if st := svc.SLOs(); len(st[0].Warnings) != 0 {
		t.Errorf("a warning before the first read: %v", st[0].Warnings)
	}
	for range 3 {
		if err := svc.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Minute)
	}
	st := svc.SLOs()
	if len(st[0].Warnings) != 1 || !strings.Contains(st[0].Warnings[0], "no series of source dd matches the SLO's selectors (total sum:neo4j.querys{orchestra:eu-1}") {
		t.Errorf("the SLO's warnings: %q", st[0].Warnings)
	}
	if n := strings.Count(logs.String(), "match no series"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
}
