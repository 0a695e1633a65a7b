package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/burnwatch/burnwatch/notify"
)

// testKey is the routing key every test receiver reads: 32 characters
// that appear nowhere else, so that finding any part of it in an error,
// a log or a formatted value is a leak.
const testKey = "u3kq9z2m7xw1v8r4t6y0p5n2b7c9d1f3"

// testAlertID is an alert ID as burnrate makes them (a hash).
const testAlertID = "3c59dc048e8850243be8079a5c74d079"

var t0 = time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)

// firing is a burn-rate page for one database, with every field set.
func firing() notify.Notification {
	return notify.Notification{
		AlertID:  testAlertID,
		Kind:     "burn-rate",
		SLO:      "cypher-availability",
		Labels:   map[string]string{"database": "db-1"},
		Severity: "page",
		State:    "firing",
		Time:     t0,
		Onset:    t0.Add(-5 * time.Minute),
		Summary:  `cypher-availability {database="db-1"}: budget burning 16.8× over 1h (2.3% gone), 87.3% left`,
		BurnRates: []notify.BurnRate{
			{Window: "1h", Rate: 16.8},
			{Window: "5m", Rate: 1000.0000000000001},
		},
		BudgetRemaining: 0.873,
		Codes: []notify.Code{
			{Code: "Neo.TransientError.General.DatabaseUnavailable", Class: "platform", Count: 412},
			{Code: "Neo.ClientError.Cluster.NotALeader", Class: "platform", Count: 37},
		},
		PlaybookID:   "database-unavailable",
		PlaybookURL:  "https://burnwatch.example.com/playbooks/database-unavailable",
		DashboardURL: "https://grafana.example.com/d/neo4j?var-database=db-1",
	}
}

func resolved(n notify.Notification) notify.Notification {
	n.State = "resolved"
	n.Time = n.Time.Add(40 * time.Minute)
	return n
}

// writeKey writes content to a key file and returns its path.
func writeKey(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "routing-key")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newReceiver returns a receiver of f reading testKey from a file (with
// the white space an editor leaves), logging at debug level into log.
func newReceiver(t *testing.T, f *fakeEvents, log *bytes.Buffer, edit ...func(*Config)) *Receiver {
	t.Helper()
	c := Config{RoutingKeyFile: writeKey(t, "  "+testKey+"\n"), Endpoint: f.srv.URL}
	for _, e := range edit {
		e(&c)
	}
	r, err := New("oncall", c)
	if err != nil {
		t.Fatal(err)
	}
	if log != nil {
		r.Log = slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return r
}

func notifyOK(t *testing.T, r *Receiver, n notify.Notification) {
	t.Helper()
	retry, err := r.Notify(context.Background(), n)
	if err != nil || retry {
		t.Fatalf("Notify(%s %s) = %v, %v; want delivered", n.State, n.AlertID, retry, err)
	}
}

func TestTriggerCarriesEveryFieldAndTheResolveItsDedupKey(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	notifyOK(t, r, n)
	notifyOK(t, r, resolved(n))

	events, bodies := f.received()
	if len(events) != 2 {
		t.Fatalf("PagerDuty got %d events; want a trigger and a resolve", len(events))
	}
	tr := events[0]
	if tr.RoutingKey != testKey || tr.EventAction != "trigger" || tr.DedupKey == nil || *tr.DedupKey != testAlertID {
		t.Errorf("trigger: routing key ok %v, action %q, dedup key %v; want the key, trigger, %s",
			tr.RoutingKey == testKey, tr.EventAction, tr.DedupKey, testAlertID)
	}
	p := tr.Payload
	want := wirePayload{
		Summary:   n.Summary,
		Source:    `{database="db-1"}`,
		Severity:  "critical",
		Timestamp: "2026-11-05T02:00:00Z",
		Component: "burnwatch",
		Group:     "cypher-availability",
		Class:     "Neo.TransientError.General.DatabaseUnavailable",
	}
	got := *p
	got.CustomDetails = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trigger payload:\n got %+v\nwant %+v", got, want)
	}
	wantDetails := `{
		"alert": "burn-rate",
		"slo": "cypher-availability",
		"severity": "page",
		"labels": {"database": "db-1"},
		"burn_rates": {"1h": 16.8, "5m": 1000},
		"budget_remaining_percent": 87.3,
		"top_codes": [
			{"code": "Neo.TransientError.General.DatabaseUnavailable", "class": "platform", "count": 412},
			{"code": "Neo.ClientError.Cluster.NotALeader", "class": "platform", "count": 37}
		],
		"onset": "2026-11-05T01:55:00Z",
		"playbook": "database-unavailable"
	}`
	assertJSONEqual(t, "custom_details", p.CustomDetails, wantDetails)
	wantLinks := []wireLink{
		{Href: n.PlaybookURL, Text: "Playbook: database-unavailable"},
		{Href: n.DashboardURL, Text: "Dashboard"},
	}
	if !slices.Equal(tr.Links, wantLinks) {
		t.Errorf("links = %+v; want %+v", tr.Links, wantLinks)
	}

	// The resolve carries what PagerDuty needs to find the incident, and
	// nothing else.
	var fields map[string]any
	if err := json.Unmarshal(bodies[1], &fields); err != nil {
		t.Fatal(err)
	}
	wantResolve := map[string]any{"routing_key": testKey, "event_action": "resolve", "dedup_key": testAlertID}
	if len(fields) != len(wantResolve) {
		t.Errorf("resolve has fields %v; want only routing_key, event_action and dedup_key", slices.Sorted(maps.Keys(fields)))
	}
	for k, v := range wantResolve {
		if fields[k] != v {
			t.Errorf("resolve %s: got %v, want it", k, k == "routing_key" || fields[k] == v)
		}
	}
	if inc := f.incident(testAlertID); inc == nil || inc.state != "resolved" || inc.opened != 1 {
		t.Errorf("incident %s = %+v; want one, opened once and resolved", testAlertID, inc)
	}
}

func assertJSONEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: the test's want: %v", what, err)
	}
	gb, _ := json.MarshalIndent(g, "", "  ")
	wb, _ := json.MarshalIndent(w, "", "  ")
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

func TestARestartedReceiverResolvesTheIncidentItsPredecessorOpened(t *testing.T) {
	f := newFakeEvents(t)
	cfg := func(c *Config) { c.RoutingKeyFile = writeKey(t, testKey) }
	before := newReceiver(t, f, nil, cfg)
	n := firing()
	notifyOK(t, before, n)
	// After a crash the outbox sends the trigger again, then the resolve,
	// through a receiver built anew from the same config.
	after := newReceiver(t, f, nil, cfg)
	notifyOK(t, after, n)
	notifyOK(t, after, resolved(n))

	events, _ := f.received()
	for i, ev := range events {
		if ev.DedupKey == nil || *ev.DedupKey != testAlertID {
			t.Errorf("event %d (%s) has dedup key %v; want %s", i, ev.EventAction, ev.DedupKey, testAlertID)
		}
	}
	inc := f.incident(testAlertID)
	if inc == nil || inc.opened != 1 || inc.triggers != 2 || inc.state != "resolved" {
		t.Errorf("incident = %+v; want opened once by two triggers, then resolved", inc)
	}
}

func TestALongSummaryIsCutTo1024Runes(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	n.Summary = strings.Repeat("ψ", 1500) // two bytes each: runes, not bytes, count
	notifyOK(t, r, n)
	events, _ := f.received()
	s := events[0].Payload.Summary
	if got := utf8.RuneCountInString(s); got != 1024 || !strings.HasSuffix(s, "…") {
		t.Errorf("summary has %d runes, ends %q; want 1024 ending in …", got, s[len(s)-6:])
	}
}

func TestAnswersThatAreNotAcceptance(t *testing.T) {
	now := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		status    int
		header    map[string]string
		body      string // JSON unless Content-Type says otherwise
		retry     bool
		wait      time.Duration // of a notify.RetryAfter; 0 when the error is none
		wantInErr []string
	}{
		{
			name:   "a 400 is never retried and says what PagerDuty found wrong",
			status: 400,
			body:   `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is invalid (must be one of: critical, error, warning, info)"]}`,
			retry:  false,
			wantInErr: []string{"400 Bad Request", "invalid event", "Event object is invalid",
				"'payload.severity' is invalid", `pagerduty receiver "oncall"`, "trigger of alert " + testAlertID},
		},
		{
			name:      "a 429 with Retry-After in seconds asks to wait that long",
			status:    429,
			header:    map[string]string{"Retry-After": "7"},
			body:      `{"status":"throttle event","message":"Requests for this service are arriving too quickly. Please retry later."}`,
			retry:     true,
			wait:      7 * time.Second,
			wantInErr: []string{"429 Too Many Requests", "arriving too quickly", "retry after 7s"},
		},
		{
			name:   "a 429 with Retry-After as a date asks to wait until then",
			status: 429,
			header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			body:   `{"status":"throttle event","message":"Please retry later."}`,
			retry:  true,
			wait:   90 * time.Second,
		},
		{
			name:   "a 429 without Retry-After waits 30s, half PagerDuty's rate-limit minute",
			status: 429,
			body:   `{"status":"throttle event","message":"Please retry later."}`,
			retry:  true,
			wait:   30 * time.Second,
		},
		{
			name:   "a 429 with an unreadable Retry-After waits 30s",
			status: 429,
			header: map[string]string{"Retry-After": "soon"},
			retry:  true,
			wait:   30 * time.Second,
		},
		{
			name:   "a 429 asking for a day waits at most an hour",
			status: 429,
			header: map[string]string{"Retry-After": "86400"},
			retry:  true,
			wait:   time.Hour,
		},
		{
			name:      "a 500 is retried",
			status:    500,
			body:      `{"status":"error","message":"Internal Server Error"}`,
			retry:     true,
			wantInErr: []string{"500 Internal Server Error"},
		},
		{
			name:      "a 502 from a proxy, in HTML, is retried and quoted",
			status:    502,
			header:    map[string]string{"Content-Type": "text/html"},
			body:      "<html><body><h1>502 Bad Gateway</h1>\n upstream   unavailable</body></html>",
			retry:     true,
			wantInErr: []string{"502 Bad Gateway", "<h1>502 Bad Gateway</h1> upstream unavailable"},
		},
		{
			name:   "a 503 is retried",
			status: 503,
			retry:  true,
		},
		{
			name:   "a 408 (PagerDuty timed out) is retried",
			status: 408,
			retry:  true,
		},
		{
			name:      "a 404 (a wrong endpoint path behind a proxy) is not retried",
			status:    404,
			header:    map[string]string{"Content-Type": "text/plain"},
			body:      "404 page not found",
			retry:     false,
			wantInErr: []string{"404 Not Found", "404 page not found"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEvents(t)
			f.setAnswer(func(w http.ResponseWriter, _ *wireEvent) bool {
				w.Header().Set("Content-Type", "application/json")
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
				return true
			})
			r := newReceiver(t, f, nil)
			r.now = func() time.Time { return now }
			retry, err := r.Notify(context.Background(), firing())
			if err == nil {
				t.Fatalf("Notify = %v, nil; want an error", retry)
			}
			if retry != tc.retry {
				t.Errorf("retry = %v; want %v (err: %v)", retry, tc.retry, err)
			}
			var ra notify.RetryAfter
			switch isRA := errors.As(err, &ra); {
			case tc.wait == 0 && isRA:
				t.Errorf("the error asks to retry after %v; want no RetryAfter: %v", ra.RetryAfter(), err)
			case tc.wait != 0 && !isRA:
				t.Errorf("the error is no notify.RetryAfter: %v", err)
			case tc.wait != 0 && ra.RetryAfter() != tc.wait:
				t.Errorf("RetryAfter() = %v; want %v", ra.RetryAfter(), tc.wait)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tc.status {
				t.Errorf("errors.As(*StatusError) gives %+v; want status %d", se, tc.status)
			}
			for _, s := range tc.wantInErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q\nlacks %q", err, s)
				}
			}
		})
	}
}

func TestNoAnswerIsRetried(t *testing.T) {
	t.Run("a refused connection is retried", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		r, err := New("oncall", Config{RoutingKeyFile: writeKey(t, testKey), Endpoint: gone.URL})
		if err != nil {
			t.Fatal(err)
		}
		retry, err := r.Notify(context.Background(), firing())
		if !retry || err == nil {
			t.Fatalf("Notify = %v, %v; want a retry and an error", retry, err)
		}
		if !strings.Contains(err.Error(), "trigger of alert "+testAlertID) {
			t.Errorf("error %q does not say what was being done", err)
		}
	})
	t.Run("a PagerDuty slower than the timeout is retried", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer slow.Close()
		defer close(release)
		r, err := New("oncall", Config{RoutingKeyFile: writeKey(t, testKey), Endpoint: slow.URL, Timeout: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if retry, err := r.Notify(context.Background(), firing()); !retry || err == nil {
			t.Fatalf("Notify = %v, %v; want a retry and an error", retry, err)
		}
	})
	t.Run("a cancelled delivery is retried and says so", func(t *testing.T) {
		f := newFakeEvents(t)
		r := newReceiver(t, f, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		retry, err := r.Notify(ctx, firing())
		if !retry || !errors.Is(err, context.Canceled) {
			t.Fatalf("Notify = %v, %v; want a retry and context.Canceled", retry, err)
		}
	})
}

func TestNotificationsNoEventCanBeMadeOfAreNotRetried(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	for _, tc := range []struct {
		name string
		edit func(*notify.Notification)
	}{
		{"without an alert ID there is no dedup key to resolve by", func(n *notify.Notification) { n.AlertID = "" }},
		{"a state other than firing or resolved", func(n *notify.Notification) { n.State = "pending" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := firing()
			tc.edit(&n)
			if retry, err := r.Notify(context.Background(), n); retry || err == nil {
				t.Errorf("Notify = %v, %v; want no retry and an error", retry, err)
			}
		})
	}
	if events, _ := f.received(); len(events) != 0 {
		t.Errorf("PagerDuty got %d events; want none", len(events))
	}
}

func TestConcurrentDeliveriesEachSeeTheirOwnAnswer(t *testing.T) {
	f := newFakeEvents(t)
	// Odd alerts are rate limited for as many seconds as their number.
	f.setAnswer(func(w http.ResponseWriter, ev *wireEvent) bool {
		var i int
		fmt.Sscanf(*ev.DedupKey, "alert-%d", &i)
		if i%2 == 0 {
			return false
		}
		w.Header().Set("Retry-After", fmt.Sprint(i))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"status": "throttle event", "message": "slow down"})
		return true
	})
	r := newReceiver(t, f, nil)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			n := firing()
			n.AlertID = fmt.Sprintf("alert-%d", i)
			retry, err := r.Notify(context.Background(), n)
			var ra notify.RetryAfter
			switch {
			case i%2 == 0 && (retry || err != nil):
				t.Errorf("alert %d: Notify = %v, %v; want delivered", i, retry, err)
			case i%2 == 1 && (!retry || !errors.As(err, &ra) || ra.RetryAfter() != time.Duration(i)*time.Second):
				t.Errorf("alert %d: Notify = %v, %v; want a retry after %ds", i, retry, err, i)
			}
		})
	}
	wg.Wait()
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 30 * time.Second},
		{"0", 0},
		{" 12 ", 12 * time.Second},
		{"-5", 30 * time.Second},
		{"1.5", 30 * time.Second},
		{"99999999999999999999", 30 * time.Second},
		{"7200", time.Hour},
		{now.Add(2 * time.Minute).Format(http.TimeFormat), 2 * time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Thu, 05 Nov 2026 02:00:45 GMT", 45 * time.Second},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tc.header, got, tc.want)
		}
	}
}
