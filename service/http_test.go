package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// apiTestNow is the fixed time every handler test runs at.
var apiTestNow = time.Date(2026, 11, 5, 12, 0, 30, 0, time.UTC)

// apiTestToken is the events token of the handler tests; the tests look for
// it, and for its distinctive middle, in every log line and response.
const apiTestToken = "s3cr3t-T0KEN-do-not-leak-42"

const apiTestConfig = `
slos:
  - name: cypher-availability
    description: Cypher queries succeed
    objective: 99.9
    window: 30d
    sli:
      total: neo4j_queries_total
      errors: neo4j_query_errors_total
      code_label: code
    group_by: [database]
  - name: api-availability
    objective: 99
    window: 7d
    sli:
      total: http_requests_total
      errors: http_request_errors_total
    group_by: [cluster, tenant]
`

func apiTestSLOConfig(t *testing.T) *slo.Config {
	t.Helper()
	cfg, err := slo.Parse("test.yaml", []byte(apiTestConfig))
	if err != nil {
		t.Fatalf("parsing the test config: %v", err)
	}
	return cfg
}

// apiFakeView is a View whose answers are function fields; a nil field
// answers with nothing.
type apiFakeView struct {
	slos   func() []SLOStatus
	slo    func(name string) (SLODetail, bool)
	alerts func() []AlertStatus
	ready  func() (bool, string)
}

var _ View = (*apiFakeView)(nil)

func (v *apiFakeView) SLOs() []SLOStatus {
	if v.slos == nil {
		return nil
	}
	return v.slos()
}

func (v *apiFakeView) SLO(name string) (SLODetail, bool) {
	if v.slo == nil {
		return SLODetail{}, false
	}
	return v.slo(name)
}

func (v *apiFakeView) Alerts() []AlertStatus {
	if v.alerts == nil {
		return nil
	}
	return v.alerts()
}

func (v *apiFakeView) Ready() (bool, string) {
	if v.ready == nil {
		return true, ""
	}
	return v.ready()
}

// apiFakeBatches is a BatchStore that records every call and answers with
// its function field, or with ids counting from 1.
type apiFakeBatches struct {
	appendBatch func(ctx context.Context, received int64, ndjson []byte) (int64, error)

	mu    sync.Mutex
	calls []apiBatchCall
}

type apiBatchCall struct {
	received int64
	ndjson   []byte
}

var _ BatchStore = (*apiFakeBatches)(nil)

func (b *apiFakeBatches) AppendBatch(ctx context.Context, received int64, ndjson []byte) (int64, error) {
	b.mu.Lock()
	b.calls = append(b.calls, apiBatchCall{received: received, ndjson: bytes.Clone(ndjson)})
	n := len(b.calls)
	b.mu.Unlock()
	if b.appendBatch != nil {
		return b.appendBatch(ctx, received, ndjson)
	}
	return int64(n), nil
}

// BatchByKey knows no keys; AppendKeyedBatch stores as AppendBatch does.
// The keys' semantics are tested against the real store (events_test.go).
func (b *apiFakeBatches) BatchByKey(context.Context, int64, string, []byte) (store.KeyedBatch, bool, error) {
	return store.KeyedBatch{}, false, nil
}

func (b *apiFakeBatches) AppendKeyedBatch(ctx context.Context, received int64, ndjson []byte, _ string, accepted int) (store.KeyedBatch, error) {
	id, err := b.AppendBatch(ctx, received, ndjson)
	return store.KeyedBatch{ID: id, Accepted: accepted}, err
}

func (b *apiFakeBatches) stored() []apiBatchCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]apiBatchCall(nil), b.calls...)
}

// apiLogBuffer collects log output written from handler goroutines.
type apiLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *apiLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *apiLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// apiTest is a running handler on a loopback httptest server.
type apiTest struct {
	t       *testing.T
	srv     *httptest.Server
	view    *apiFakeView
	batches *apiFakeBatches
	reg     *prometheus.Registry
	metrics *Metrics
	logs    *apiLogBuffer
	client  *http.Client
}

// newAPITest starts the handler with fakes, debug logging into a buffer and
// the test token; edit adjusts the options first.
func newAPITest(t *testing.T, edit func(*HandlerOptions)) *apiTest {
	t.Helper()
	cfg := apiTestSLOConfig(t)
	at := &apiTest{
		t:       t,
		view:    &apiFakeView{},
		batches: &apiFakeBatches{},
		reg:     prometheus.NewRegistry(),
		logs:    &apiLogBuffer{},
		client:  &http.Client{Timeout: 10 * time.Second},
	}
	at.metrics = NewMetrics(at.reg, false)
	o := HandlerOptions{
		View:        at.view,
		Batches:     at.batches,
		Config:      func() *slo.Config { return cfg },
		EventsToken: func() (string, error) { return apiTestToken, nil },
		Reload:      func(context.Context) error { return nil },
		Registry:    at.reg,
		Metrics:     at.metrics,
		Now:         func() time.Time { return apiTestNow },
		Logger:      slog.New(slog.NewJSONHandler(at.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	at.srv = httptest.NewServer(Handler(o))
	t.Cleanup(at.close)
	return at
}

// close stops the server, waiting for requests in flight, so that every log
// line has been written.
func (at *apiTest) close() { at.srv.Close() }

// apiResponse is a response read in full.
type apiResponse struct {
	status int
	header http.Header
	body   string
}

func (at *apiTest) do(method, path string, header http.Header, body io.Reader) apiResponse {
	at.t.Helper()
	req, err := http.NewRequest(method, at.srv.URL+path, body)
	if err != nil {
		at.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := at.client.Do(req)
	if err != nil {
		at.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		at.t.Fatalf("%s %s: reading the response: %v", method, path, err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (at *apiTest) get(path string) apiResponse { return at.do(http.MethodGet, path, nil, nil) }

func wantStatus(t *testing.T, r apiResponse, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

func wantJSON(t *testing.T, r apiResponse, status int, body string) {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if got := strings.TrimSpace(r.body); got != body {
		t.Errorf("body\n got %s\nwant %s", got, body)
	}
}

func TestHealthzAnswersOK(t *testing.T) {
	at := newAPITest(t, nil)
	r := at.get("/healthz")
	wantStatus(t, r, http.StatusOK)
	if r.body != "ok\n" {
		t.Errorf("body %q, want ok", r.body)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("answers 200 once the service is ready", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) {
			o.View.(*apiFakeView).ready = func() (bool, string) { return true, "" }
		})
		r := at.get("/readyz")
		wantStatus(t, r, http.StatusOK)
		if r.body != "ready\n" {
			t.Errorf("body %q, want ready", r.body)
		}
	})
	t.Run("answers 503 with the reason while backfilling", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) {
			o.View.(*apiFakeView).ready = func() (bool, string) { return false, "backfilling prometheus: 42%" }
		})
		r := at.get("/readyz")
		wantStatus(t, r, http.StatusServiceUnavailable)
		if r.body != "not ready: backfilling prometheus: 42%\n" {
			t.Errorf("body %q, want the reason", r.body)
		}
	})
}

func TestReload(t *testing.T) {
	t.Run("answers 200 when the new config is loaded", func(t *testing.T) {
		calls := 0
		at := newAPITest(t, func(o *HandlerOptions) {
			o.Reload = func(context.Context) error { calls++; return nil }
		})
		wantJSON(t, at.do(http.MethodPost, "/-/reload", nil, nil), http.StatusOK, `{"status":"reloaded"}`)
		if calls != 1 {
			t.Errorf("Reload called %d times, want once", calls)
		}
	})
	t.Run("answers 400 with every problem of a bad config", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) {
			o.Reload = func(context.Context) error {
				return fmt.Errorf("reloading: %w", slo.Errors{
					{File: "c.yaml", Line: 4, Field: "slos[0].objective", Msg: "100 is not below 100"},
					{File: "c.yaml", Line: 9, Field: "slos[1].name", Msg: `"a" is used twice`},
				})
			}
		})
		wantJSON(t, at.do(http.MethodPost, "/-/reload", nil, nil), http.StatusBadRequest,
			`{"error":"reloading: c.yaml:4: slos[0].objective: 100 is not below 100\nc.yaml:9: slos[1].name: \"a\" is used twice",`+
				`"errors":["c.yaml:4: slos[0].objective: 100 is not below 100","c.yaml:9: slos[1].name: \"a\" is used twice"]}`)
	})
	t.Run("answers 400 with a plain error as it is", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) {
			o.Reload = func(context.Context) error {
				return errors.New("reading config: open c.yaml: no such file or directory")
			}
		})
		wantJSON(t, at.do(http.MethodPost, "/-/reload", nil, nil), http.StatusBadRequest,
			`{"error":"reading config: open c.yaml: no such file or directory"}`)
	})
	t.Run("is refused for GET", func(t *testing.T) {
		at := newAPITest(t, nil)
		wantStatus(t, at.get("/-/reload"), http.StatusMethodNotAllowed)
	})
}

func TestPlaybooksMountedWhenGiven(t *testing.T) {
	at := newAPITest(t, func(o *HandlerOptions) {
		o.Playbooks = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "playbook at "+r.URL.Path)
		})
	})
	r := at.get("/playbooks/database-unavailable")
	wantStatus(t, r, http.StatusOK)
	if r.body != "playbook at /playbooks/database-unavailable" {
		t.Errorf("body %q", r.body)
	}

	without := newAPITest(t, nil)
	wantStatus(t, without.get("/playbooks/database-unavailable"), http.StatusNotFound)
}

func TestRequestsAreLoggedAtDebug(t *testing.T) {
	at := newAPITest(t, nil)
	at.get("/healthz")
	at.get("/api/v1/slos/nope")
	at.close()
	logs := at.logs.String()
	for _, want := range []string{
		`"msg":"http request","method":"GET","path":"/healthz","status":200,"duration":`,
		`"msg":"http request","method":"GET","path":"/api/v1/slos/nope","status":404,"duration":`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s\nlog:\n%s", want, logs)
		}
	}
	if !strings.Contains(logs, `"level":"DEBUG"`) {
		t.Errorf("request lines are not at debug level:\n%s", logs)
	}
}

func TestProfilesAreServed(t *testing.T) {
	at := newAPITest(t, nil)
	r := at.get("/debug/pprof/")
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "goroutine") {
		t.Errorf("the profile index lists no goroutine profile:\n%s", r.body)
	}
	wantStatus(t, at.get("/debug/pprof/goroutine?debug=1"), http.StatusOK)
}

// TestAnAnswerJSONCannotHoldIsA500NotAnEmpty200: a NaN or an infinity in
// an answer (which validated counts should never make) fails the request
// with a body that says why; it never goes out as a 200 with an empty or
// cut body.
func TestAnAnswerJSONCannotHoldIsA500NotAnEmpty200(t *testing.T) {
	for name, v := range map[string]float64{"NaN": math.NaN(), "+Inf": math.Inf(1)} {
		t.Run(name, func(t *testing.T) {
			at := newAPITest(t, func(o *HandlerOptions) {
				o.View.(*apiFakeView).slos = func() []SLOStatus {
					return []SLOStatus{{Name: "x", Worst: []InstanceStatus{{BudgetRemaining: v}}}}
				}
			})
			r := at.get("/api/v1/slos")
			wantStatus(t, r, http.StatusInternalServerError)
			var body apiError
			if err := json.Unmarshal([]byte(r.body), &body); err != nil || !strings.Contains(body.Error, "unsupported value") {
				t.Errorf("body %q: want a JSON error naming the value", r.body)
			}
		})
	}
}
