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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// deadMansSwitch counts the pings it takes, and answers with code.
type deadMansSwitch struct {
	mu     sync.Mutex
	pings  int
	code   int
	bodies []string
}

func (d *deadMansSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pings++
	d.bodies = append(d.bodies, r.Method+" "+r.URL.Path+" "+string(b))
	if d.code != 0 {
		w.WriteHeader(d.code)
	}
}

func (d *deadMansSwitch) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pings
}

func heartbeats(ts *testService) map[string]float64 {
	out := map[string]float64{}
	for _, o := range heartbeatOutcomes {
		out[o] = testutil.ToFloat64(ts.metrics.Heartbeats.WithLabelValues(o))
	}
	return out
}

func TestHeartbeatOnlyWhileCyclesSucceed(t *testing.T) {
	sw := &deadMansSwitch{}
	srv := httptest.NewServer(sw)
	defer srv.Close()
	ts := newTestService(t, t.TempDir(), eventsConfig+fmt.Sprintf("heartbeat: {url: %q, interval: 2m}\n", srv.URL+"/ping/secret-uuid"))
	defer ts.Close()
	ctx := context.Background()
	if got := heartbeats(ts); got["sent"] != 0 || got["failed"] != 0 || got["skipped_not_evaluating"] != 0 {
		t.Fatalf("heartbeats before any: %v, want every outcome at 0", got)
	}
	// Ten minutes of successful cycles, asked every minute: one ping per
	// two minutes.
	for range 10 {
		ts.minute("db-1", 100, 0)
		ts.Heartbeat(ctx)
	}
	if n := sw.count(); n != 5 {
		t.Errorf("%d pings in 10 minutes at a 2m interval, want 5", n)
	}
	if got := sw.bodies[0]; got != "GET /ping/secret-uuid " {
		t.Errorf("ping %q", got)
	}
	// The service is stuck: the clock moves, no cycle succeeds. Once the
	// last cycle is three intervals old, the pings stop.
	for range 10 {
		ts.clock = ts.clock.Add(time.Minute)
		ts.Heartbeat(ctx)
	}
	if n := sw.count(); n != 5+1 {
		t.Errorf("%d pings after 10 minutes without a cycle, want 6 (one while the last cycle was recent)", n)
	}
	if got := heartbeats(ts); got["sent"] != 6 || got["skipped_not_evaluating"] != 4 || got["failed"] != 0 {
		t.Errorf("heartbeats %v, want 6 sent and 4 skipped_not_evaluating", got)
	}
	// Cycles succeed again, and the switch answers 500: failed, tried again
	// after a quarter of the interval.
	sw.mu.Lock()
	sw.code = http.StatusInternalServerError
	sw.mu.Unlock()
	for range 2 {
		ts.minute("db-1", 100, 0)
		ts.Heartbeat(ctx)
	}
	if got := heartbeats(ts); got["failed"] != 2 || got["sent"] != 6 {
		t.Errorf("heartbeats %v, want 2 failed", got)
	}
}

func TestHeartbeatFromAStoreThatFailsStops(t *testing.T) {
	sw := &deadMansSwitch{}
	srv := httptest.NewServer(sw)
	defer srv.Close()
	ts := newTestService(t, t.TempDir(), eventsConfig+fmt.Sprintf("heartbeat: {url: %q, interval: 1m}\n", srv.URL))
	ctx := context.Background()
	ts.minute("db-1", 100, 0)
	if sent, err := ts.Heartbeat(ctx); !sent || err != nil {
		t.Fatalf("heartbeat after a good cycle: sent %v, %v", sent, err)
	}
	// The store's file is gone from under it: every cycle fails.
	ts.db.Close()
	for range 5 {
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(ctx); err == nil {
			t.Fatal("a cycle on a closed store succeeded")
		}
		ts.Heartbeat(ctx)
	}
	if n := sw.count(); n > 2 {
		t.Errorf("%d pings while every cycle failed, want at most one more (within three intervals of the last good cycle)", n)
	}
	if got := heartbeats(ts); got["skipped_not_evaluating"] < 3 {
		t.Errorf("heartbeats %v, want skipped_not_evaluating", got)
	}
}

func TestHeartbeatIsTheLeadersAndAWatchdogToAlertmanager(t *testing.T) {
	am := &deadMansSwitch{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	pager := &fakePager{}
	ts, el := newReplica(t, pager)
	writeConfig(t, ts.dir, eventsConfig+fmt.Sprintf(`
routes:
  - receiver: pager
receivers:
  - name: pager
    console: {}
  - name: am
    alertmanager: {url: %q, alert_name: {watchdog: Watchdog}}
heartbeat: {receiver: am, interval: 1m}
`, srv.URL))
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		ts.minute("db-1", 100, 0)
		ts.Heartbeat(ctx)
	}
	if n := am.count(); n != 0 {
		t.Fatalf("a standby sent %d heartbeats", n)
	}
	if got := heartbeats(ts); got["sent"]+got["failed"]+got["skipped_not_evaluating"] != 0 {
		t.Errorf("a standby counted heartbeats %v: none is its business", got)
	}
	el.set(true)
	for range 3 {
		ts.minute("db-1", 100, 0)
		ts.Heartbeat(ctx)
	}
	if n := am.count(); n != 3 {
		t.Fatalf("the leader sent %d heartbeats in 3 minutes, want 3", n)
	}
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		EndsAt time.Time         `json:"endsAt"`
	}
	body := am.bodies[0]
	if err := json.Unmarshal([]byte(body[len("POST /api/v2/alerts "):]), &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("posted %q: %v", body, err)
	}
	if l := alerts[0].Labels; l["alertname"] != "Watchdog" || l["severity"] != "none" || l["slo"] != "burnwatch" {
		t.Errorf("watchdog labels %v", l)
	}
}

func TestHeartbeatNeverLogsItsURL(t *testing.T) {
	sw := &deadMansSwitch{code: http.StatusServiceUnavailable}
	srv := httptest.NewServer(sw)
	dead := httptest.NewServer(sw)
	dead.Close() // refuses connections
	defer srv.Close()
	for _, url := range []string{srv.URL + "/ping/s3cret-check-uuid", dead.URL + "/ping/s3cret-check-uuid"} {
		var logs strings.Builder
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "hb-url"), []byte(url+"\n"), 0o600)
		writeConfig(t, dir, eventsConfig+fmt.Sprintf("heartbeat: {url_file: %q}\n", filepath.Join(dir, "hb-url")))
		clock := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
		svc, err := New(context.Background(), Options{
			ConfigPath: filepath.Join(dir, "burnwatch.yaml"), StoragePath: filepath.Join(dir, "data"),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: func() time.Time { return clock }, Console: io.Discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Heartbeat(context.Background())
		svc.Close()
		if err == nil || !strings.Contains(logs.String(), "heartbeat failed") {
			t.Errorf("a failing switch: err %v, log:\n%s", err, logs.String())
		}
		if strings.Contains(logs.String(), "s3cret") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the heartbeat URL's secret is in the log or the error:\n%s\n%v", logs.String(), err)
		}
	}
}
