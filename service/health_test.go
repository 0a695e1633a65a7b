package service

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadinessFailsWhenCyclesKeepFailing: with the disk full every cycle
// failed and /readyz still said ready. Now FailedCyclesNotReady failures
// in a row make it answer 503 with the reason, every one is counted, and
// the first cycle that commits again makes it ready.
func TestReadinessFailsWhenCyclesKeepFailing(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	readyz := func() (int, string) {
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	ctx := context.Background()
	cycle := func() error {
		ts.clock = ts.clock.Add(30 * time.Second)
		return ts.Cycle(ctx)
	}
	if err := cycle(); err != nil {
		t.Fatal(err)
	}
	if status, body := readyz(); status != http.StatusOK {
		t.Fatalf("before: %d %s", status, body)
	}

	// Every commit writes the cycle's progress; SQLite's own answer to a
	// full disk is refused in its place.
	raw, err := sql.Open("sqlite", filepath.Join(ts.dir, "data", "burnwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`CREATE TRIGGER disk_full BEFORE UPDATE ON progress BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= FailedCyclesNotReady; i++ {
		if err := cycle(); err == nil {
			t.Fatalf("cycle %d committed on a full disk", i)
		}
		status, body := readyz()
		if i < FailedCyclesNotReady && status != http.StatusOK {
			t.Errorf("after %d failed cycle(s): %d %s; one failure is no reason to leave the load balancer", i, status, body)
		}
		if i == FailedCyclesNotReady && (status != http.StatusServiceUnavailable || !strings.Contains(body, "evaluation cycles failed") || !strings.Contains(body, "disk is full")) {
			t.Errorf("after %d failed cycles: %d %q; want 503 with the reason", i, status, body)
		}
	}
	if got := apiCounterValue(t, ts.reg, "burnwatch_cycle_failures_total", "", ""); got < FailedCyclesNotReady {
		t.Errorf("burnwatch_cycle_failures_total = %v, want at least %d", got, FailedCyclesNotReady)
	}

	if _, err := raw.Exec(`DROP TRIGGER disk_full`); err != nil {
		t.Fatal(err)
	}
	if err := cycle(); err != nil {
		t.Fatalf("the cycle after the disk was freed: %v", err)
	}
	if status, body := readyz(); status != http.StatusOK {
		t.Errorf("after a cycle committed again: %d %s", status, body)
	}
}
