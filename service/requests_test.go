package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestEvaluationGoesOnWhileAnExportStreamsToASlowClient: an export of a
// long span to a client that reads nothing holds the export slot, and
// nothing else: pushes are counted, a cycle completes and the API
// answers. A second export is told to come back later (429), and once the
// slow client hangs up, its export stops within a second.
func TestEvaluationGoesOnWhileAnExportStreamsToASlowClient(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	for i := range 3 {
		for db := range 4 {
			ts.pushFor(fmt.Sprintf("db-%d", db), ts.clock.Add(-time.Duration(i+1)*time.Minute))
		}
	}
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = NewHTTPServer(ts.Handler(), slog.New(slog.DiscardHandler))
	srv.Start()
	defer srv.Close()

	// Every minute of 37 days of 4 instances, as JSON: tens of MB, far
	// more than the sockets buffer.
	long := url.Values{"from": {ts.clock.Add(-37 * 24 * time.Hour).Format(time.RFC3339)}, "to": {ts.clock.Format(time.RFC3339)},
		"margin": {"0s"}, "all": {"true"}}
	toks, _ := ts.apiTokens()
	slow, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET /api/v1/export?%s HTTP/1.1\r\nHost: burnwatch\r\nAuthorization: Bearer %s\r\n\r\n", long.Encode(), toks[0])

	short := "/api/v1/export?" + url.Values{"from": {ts.clock.Add(-10 * time.Minute).Format(time.RFC3339)}, "to": {ts.clock.Format(time.RFC3339)}}.Encode()
	get := func(path string) (int, string) {
		resp, err := boundedClient.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	waitFor(t, 5*time.Second, "the slow export to hold the slot", func() bool {
		status, retry := get(short)
		return status == http.StatusTooManyRequests && retry != ""
	})

	cycled := make(chan error, 1)
	go func() {
		if r := ts.pushBody(fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-9"},"total":10}`+"\n", ts.clock.Format(time.RFC3339))); r.status != http.StatusAccepted {
			cycled <- fmt.Errorf("push: %d %s", r.status, r.body)
			return
		}
		cycled <- ts.Cycle(context.Background())
	}()
	select {
	case err := <-cycled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cycle did not complete while an export streamed")
	}
	if status, _ := get("/api/v1/slos/cypher-availability"); status != http.StatusOK {
		t.Errorf("the API answered %d while an export streamed", status)
	}
	if d, _ := ts.SLO("cypher-availability"); len(d.All) != 5 {
		t.Errorf("%d instances: the push during the export was not counted", len(d.All))
	}
	if status, _ := get(short); status != http.StatusTooManyRequests {
		t.Fatalf("a second export: %d; the slow one no longer holds the slot, the test proves nothing", status)
	}

	slow.Close()
	hungUp := time.Now()
	waitFor(t, 2*time.Second, "the abandoned export to stop", func() bool {
		status, _ := get(short)
		return status == http.StatusOK
	})
	if took := time.Since(hungUp); took > time.Second+200*time.Millisecond {
		t.Errorf("the export went on %s after its client hung up", took)
	}
}

// TestReportsAndExportsAreBounded: a report over a span of centuries is
// refused (it took the service's lock long enough to stop evaluation), as
// is one longer than the history kept; a report or export asked while
// every slot is taken is told to come back later.
func TestReportsAndExportsAreBounded(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := boundedClient.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, q := range []string{
		"from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z",
		"from=2026-01-01T00:00:00Z&to=2026-11-05T00:00:00Z",
	} {
		if status, body := get("/api/v1/report?" + q); status != http.StatusBadRequest || !strings.Contains(body, "longer than the 38d of history kept") {
			t.Errorf("report %s: %d %s", q, status, body)
		}
	}
	if status, body := get("/api/v1/report?week=2026-W44&format=json"); status != http.StatusOK {
		t.Fatalf("a week's report: %d %s", status, body)
	}
	for range maxReports {
		ts.reports <- struct{}{}
	}
	ts.exports <- struct{}{}
	if status, _ := get("/api/v1/report?week=2026-W44"); status != http.StatusTooManyRequests {
		t.Errorf("a report while every slot is taken: %d, want 429", status)
	}
	if status, _ := get("/api/v1/export?from=2026-11-05T09:00:00Z&to=2026-11-05T10:00:00Z"); status != http.StatusTooManyRequests {
		t.Errorf("an export while its slot is taken: %d, want 429", status)
	}
}

// TestTheServerHasEveryTimeout: slow bodies and idle connections no
// longer stay open for ever.
func TestTheServerHasEveryTimeout(t *testing.T) {
	srv := NewHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout, "ReadTimeout": srv.ReadTimeout,
		"WriteTimeout": srv.WriteTimeout, "IdleTimeout": srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s is %s", name, d)
		}
	}
}

// pushFor pushes 1000 events of db in the minute of at.
func (ts *testService) pushFor(db string, at time.Time) {
	ts.t.Helper()
	body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":%q},"total":1000}`+"\n", at.Format(time.RFC3339), db)
	if r := ts.pushBody(body); r.status != http.StatusAccepted {
		ts.t.Fatalf("push: %d %s", r.status, r.body)
	}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// boundedClient fails a request that a bug would leave running, rather
// than hang the test.
var boundedClient = &http.Client{Timeout: 10 * time.Second}
