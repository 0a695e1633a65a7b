package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/internal/promtest"
	"github.com/burnwatch/burnwatch/internal/scenario"
	"github.com/burnwatch/burnwatch/report"
)

// TestServeAgainstPrometheus runs the service against a real Prometheus
// (Debian's, on loopback) holding four hours of two databases, db-1
// failing every query for the 30 minutes from E−60m to E−30m, where E is
// the recording's end, a minute ago. The service's clock starts at
// T0 = E−25m and steps 30s a cycle:
//
//   - the first cycle backfills, becomes ready, and reports db-1's page
//     and ticket firing and nothing for db-2;
//   - stopped and started again, it does not fire them a second time;
//   - with Prometheus unreachable for 11 minutes, nothing resolves and the
//     no-data alert fires;
//   - when Prometheus returns, the gap is backfilled and no-data resolves;
//   - the page resolves at E, when its 30m window lets go of E−30m.
func TestServeAgainstPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	om := writeScenario(t, end)
	promURL := promtest.Start(t, om)

	// A proxy in front of Prometheus that can make it unreachable.
	var down atomic.Bool
	target, _ := url.Parse(promURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxy := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go proxy.Serve(ln)
	t.Cleanup(func() { proxy.Close() })

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "burnwatch.yaml")
	cfg := fmt.Sprintf(`
sources:
  - name: prom
    prometheus: {url: "http://%s", retries: 0, timeout: 5s}
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [database]
    alerting:
      page: {playbook: database-unavailable}
`, ln.Addr())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	t0 := end.Add(-25 * time.Minute)
	clock := t0
	var transitions []burnrate.Transition
	open := func() *Service {
		svc, err := New(context.Background(), Options{
			ConfigPath:   cfgPath,
			StoragePath:  filepath.Join(dir, "data"),
			Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			Console:      io.Discard,
			Now:          func() time.Time { return clock },
			OnTransition: func(tr burnrate.Transition) { transitions = append(transitions, tr) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cycle := func(svc *Service) {
		t.Helper()
		if err := svc.Cycle(ctx); err != nil {
			t.Fatalf("cycle at %s: %v", clock.Format(time.RFC3339), err)
		}
	}
	firing := func(svc *Service) map[string]bool {
		m := map[string]bool{}
		for _, a := range svc.Alerts() {
			m[a.Alert+" "+a.Labels["database"]+a.Labels["source"]+" "+a.Severity] = true
		}
		return m
	}

	svc := open()
	if ok, _ := svc.Ready(); ok {
		t.Errorf("ready before backfilling")
	}
	cycle(svc)
	if ok, why := svc.Ready(); !ok {
		t.Fatalf("not ready after the first cycle: %s", why)
	}
	got := firing(svc)
	if !got["burn-rate db-1 page"] || !got["burn-rate db-1 ticket"] || len(got) != 2 {
		t.Fatalf("after the backfill, firing: %v; want db-1's page and ticket only", got)
	}
	fired := count(transitions, burnrate.BurnRateAlert, burnrate.Firing)
	// The backfill's history is logged, not paged: the pagers get only
	// the two alerts that still fire.
	if counts, _ := svc.Store().OutboxCounts(ctx); counts["pending"] != 2 || len(counts) != 1 {
		t.Errorf("after the backfill the outbox holds %v; want the page and the ticket pending", counts)
	}

	// Restart mid-incident.
	clock = clock.Add(30 * time.Second)
	cycle(svc)
	svc.Close()
	svc = open()
	clock = clock.Add(30 * time.Second)
	cycle(svc)
	if got := firing(svc); !got["burn-rate db-1 page"] {
		t.Fatalf("after a restart, firing: %v", got)
	}
	if n := count(transitions, burnrate.BurnRateAlert, burnrate.Firing); n != fired {
		t.Errorf("a restart logged %d more firing transitions", n-fired)
	}

	// Prometheus unreachable for 11 minutes.
	down.Store(true)
	for range 22 {
		clock = clock.Add(30 * time.Second)
		cycle(svc)
	}
	got = firing(svc)
	if !got["burn-rate db-1 page"] || !got["no-data prom ticket"] {
		t.Fatalf("with Prometheus down for 11m, firing: %v; want the page held and no-data", got)
	}
	if n := count(transitions, burnrate.BurnRateAlert, burnrate.Resolved); n != 0 {
		t.Errorf("%d burn-rate alerts resolved while the data was missing", n)
	}

	// Back: the gap is backfilled.
	down.Store(false)
	clock = clock.Add(30 * time.Second)
	cycle(svc)
	if got := firing(svc); got["no-data prom ticket"] || !got["burn-rate db-1 page"] {
		t.Fatalf("after Prometheus returned, firing: %v", got)
	}
	detail, _ := svc.SLO("cypher-availability")
	for _, in := range detail.All {
		if in.NoDataSince != nil {
			t.Errorf("instance %v still without data since %v", in.Labels, in.NoDataSince)
		}
	}

	// On to E: the page resolves then.
	for clock.Before(end.Add(time.Minute)) {
		clock = clock.Add(30 * time.Second)
		cycle(svc)
	}
	var resolved []string
	for _, tr := range transitions {
		if tr.Alert == burnrate.BurnRateAlert && tr.State == burnrate.Resolved {
			resolved = append(resolved, string(tr.Severity)+" "+tr.Time.Format(time.RFC3339))
		}
	}
	if want := "page " + end.Format(time.RFC3339); len(resolved) != 1 || resolved[0] != want {
		t.Errorf("resolved: %v, want [%s]", resolved, want)
	}

	// The outage's export: its minutes were backfilled, and its history
	// written as the backfill passed them.
	var buf bytes.Buffer
	ew, _ := report.NewExportWriter("json", &buf, nil)
	if err := svc.Export(ctx, ExportQuery{From: end.Add(-60 * time.Minute), To: end.Add(-30 * time.Minute)}, ew); err != nil {
		t.Fatal(err)
	}
	var doc exportDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Instances) != 1 || doc.Instances[0].Labels["database"] != "db-1" {
		t.Fatalf("the export has %+v, want db-1 alone", doc.Instances)
	}
	in := doc.Instances[0]
	if in.Impact.Bad != 30_000 || in.Impact.Valid != 30_000 || len(in.Minutes) != 30 {
		t.Errorf("the outage's export: %d minutes, impact %+v; want 30 minutes, 30000 failures of 30000", len(in.Minutes), in.Impact)
	}
	for _, m := range in.Minutes {
		if m.Valid != 1000 || m.Bad != 1000 {
			t.Errorf("minute %v: valid %v bad %v, want 1000 and 1000", m.T, m.Valid, m.Bad)
		}
	}
	svc.Close()
}

func count(trs []burnrate.Transition, alert string, state burnrate.State) int {
	n := 0
	for _, tr := range trs {
		if tr.Alert == alert && tr.State == state {
			n++
		}
	}
	return n
}

// writeScenario writes the recording: four hours to end, db-1 failing
// from end−60m to end−30m.
func writeScenario(t *testing.T, end time.Time) string {
	t.Helper()
	const minutes = 240
	start := end.Add(-minutes * time.Minute)
	outFrom, outTo := minutes-60, minutes-30 // sample indexes failing
	var errs []string
	v := 0
	for i := 0; i <= minutes; i++ {
		if i > outFrom && i <= outTo {
			v += 1000
		}
		errs = append(errs, fmt.Sprint(v))
	}
	desc := fmt.Sprintf(`start %s
neo4j_queries_total{database="db-1"} 0+1000x%d
neo4j_queries_total{database="db-2"} 0+1000x%d
neo4j_query_errors_total{database="db-1",code="Neo.DatabaseError.General.UnknownError"} %s
neo4j_query_errors_total{database="db-2",code="Neo.DatabaseError.General.UnknownError"} 0x%d
`, start.Format(time.RFC3339), minutes, minutes, strings.Join(errs, " "), minutes)
	sc, err := scenario.Parse(strings.NewReader(desc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fleet.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := sc.WriteOpenMetrics(w); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	return path
}
