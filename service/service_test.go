package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/store"
)

const eventsConfig = `
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [database]
`

// testService runs a service on an events source with a virtual clock.
type testService struct {
	*Service
	t         *testing.T
	dir       string
	clock     time.Time
	trs       []burnrate.Transition
	receivers map[string]notify.Receiver
	// logs, when set, receives the service's log, as JSON at debug level.
	logs io.Writer
}

func writeConfig(t *testing.T, dir, config string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "burnwatch.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (ts *testService) clockStart() time.Time { return time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC) }

func newTestService(t *testing.T, dir, config string) *testService {
	t.Helper()
	ts := &testService{t: t, dir: dir}
	ts.clock = ts.clockStart()
	if config != "" {
		writeConfig(t, dir, config)
	}
	ts.open()
	return ts
}

// engine runs fn on the service's writer, with its engine.
func (ts *testService) engine(fn func(*engine.Engine)) {
	ts.t.Helper()
	if err := ts.do(context.Background(), func() error { fn(ts.eng); return nil }); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testService) open() {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if ts.logs != nil {
		log = slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	svc, err := New(context.Background(), Options{
		ConfigPath:   filepath.Join(ts.dir, "burnwatch.yaml"),
		StoragePath:  filepath.Join(ts.dir, "data"),
		Logger:       log,
		Now:          func() time.Time { return ts.clock },
		OnTransition: func(t burnrate.Transition) { ts.trs = append(ts.trs, t) },
		Console:      io.Discard,
		Receivers:    ts.receivers,
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.Service = svc
}

// Handler is the service's handler as an authenticated API client sees
// it: a request without an Authorization header gets the service's API
// token. Tests of access itself use ts.Service.Handler().
func (ts *testService) Handler() http.Handler {
	h := ts.Service.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			toks, err := ts.apiTokens()
			if err != nil {
				ts.t.Error(err)
			}
			r.Header.Set("Authorization", "Bearer "+toks[0])
		}
		h.ServeHTTP(w, r)
	})
}

// push sends a batch through the HTTP API, as a pusher would.
func (ts *testService) push(body string) *http.Response {
	ts.t.Helper()
	r := ts.pushBody(body)
	return &http.Response{StatusCode: r.status, Status: fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)), Header: r.header}
}

// pushBody sends a batch as push does and returns the answer read whole.
func (ts *testService) pushBody(body string) apiResponse {
	ts.t.Helper()
	tok, err := ts.eventsToken()
	if err != nil {
		ts.t.Fatal(err)
	}
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/events", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// minute pushes one minute of db's counts, ending at the clock, and runs
// a cycle a minute later.
func (ts *testService) minute(db string, total, failed int) {
	ts.t.Helper()
	at := ts.clock.Truncate(time.Minute)
	body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":%q},"total":%d,"errors":{"Neo.DatabaseError.General.UnknownError":%d}}`+"\n", at.Format(time.RFC3339), db, total, failed)
	if resp := ts.push(body); resp.StatusCode != http.StatusAccepted {
		ts.t.Fatalf("push: %s", resp.Status)
	}
	ts.clock = ts.clock.Add(time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testService) firing() []string {
	var out []string
	for _, a := range ts.Alerts() {
		out = append(out, a.Alert+" "+a.Labels["database"]+" "+a.Severity)
	}
	return out
}

func TestPushedBatchIsDurableBeforeItIsCounted(t *testing.T) {
	dir := t.TempDir()
	ts := newTestService(t, dir, eventsConfig)
	for range 10 {
		ts.minute("db-1", 1000, 0)
	}
	// Accepted (202), then the service stops before a cycle counts it.
	at := ts.clock.Truncate(time.Minute)
	body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{"Neo.DatabaseError.General.UnknownError":1000}}`+"\n", at.Format(time.RFC3339))
	if resp := ts.push(body); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %s", resp.Status)
	}
	ts.Close()
	ts.open()
	ts.clock = ts.clock.Add(time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ts.firing(); strings.Join(got, ",") != "burn-rate db-1 page,burn-rate db-1 ticket" {
		t.Errorf("after a restart the pushed outage minute fired %v", got)
	}
	d, _ := ts.SLO("cypher-availability")
	if got := d.All[0].Events; got.Total != 11000 || got.Platform != 1000 {
		t.Errorf("counted %+v, want 11000 events and 1000 failures: the batch once", got)
	}
	ts.Close()
}

func TestReloadRejectsABadConfigAndKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	ts := newTestService(t, dir, eventsConfig)
	for range 10 {
		ts.minute("db-1", 1000, 0)
	}
	ts.minute("db-1", 1000, 1000)
	if len(ts.firing()) != 2 {
		t.Fatalf("firing %v", ts.firing())
	}
	cfgPath := filepath.Join(dir, "burnwatch.yaml")
	os.WriteFile(cfgPath, []byte(strings.Replace(eventsConfig, "objective: 99.9", "objective: 100.5", 1)), 0o644)
	err := ts.Reload(context.Background())
	if err == nil || !strings.Contains(err.Error(), "slos[0].objective: 100.5 is not between 0 and 100") {
		t.Fatalf("a bad config reloaded: %v", err)
	}
	if ts.config().SLOs[0].Objective != 99.9 {
		t.Errorf("the running config changed")
	}
	// A good config with a second SLO: the first keeps its history and
	// its firing alerts, with no new transition.
	os.WriteFile(cfgPath, []byte(eventsConfig+`  - name: cypher-latency
    objective: 99
    sli: {total: neo4j_slow_total, errors: neo4j_slow_errors_total}
`), 0o644)
	fired := len(ts.trs)
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.minute("db-1", 1000, 1000)
	if got := ts.firing(); len(got) != 2 || len(ts.trs) != fired {
		t.Errorf("after the reload firing %v and %d new transitions", got, len(ts.trs)-fired)
	}
	if n := len(ts.SLOs()); n != 2 {
		t.Errorf("%d SLOs after the reload", n)
	}
	ts.Close()
}

func TestInstancesWithoutDataHoldTheirAlerts(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	for range 30 {
		ts.minute("db-1", 1000, 0)
		ts.push(fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-2"},"total":1000,"errors":{}}`+"\n", ts.clock.Add(-time.Minute).Format(time.RFC3339)))
	}
	ts.minute("db-1", 1000, 1000)
	if got := strings.Join(ts.firing(), ","); got != "burn-rate db-1 page,burn-rate db-1 ticket" {
		t.Fatalf("firing %q before db-1's data stops", got)
	}
	// db-1 stops reporting, db-2 goes on; db-1's page must not resolve.
	for range 60 {
		ts.minute("db-2", 1000, 0)
	}
	for _, tr := range ts.trs {
		if tr.State == burnrate.Resolved && tr.Alert == burnrate.BurnRateAlert {
			t.Errorf("%s resolved at %v though its data had stopped", tr.Labels, tr.Time)
		}
	}
	sum := ts.SLOs()[0]
	if sum.Instances != 2 || sum.Firing != 2 || len(sum.Worst) != 2 || sum.Worst[0].Labels["database"] != "db-1" {
		t.Errorf("summary: %d instances, %d firing, worst %v; want db-1 worst and its two alerts", sum.Instances, sum.Firing, sum.Worst)
	}
	d, _ := ts.SLO("cypher-availability")
	var stale int
	for _, in := range d.All {
		if in.NoDataSince != nil {
			stale++
		}
	}
	if stale != 1 {
		t.Errorf("%d instances without data, want db-1 alone", stale)
	}
	ts.Close()
}

// TestBatchesCountOnceWhenACommitFails: after a failed commit the batches
// the cycle counted are still pending in the store; the next cycle must not
// count them again.
func TestBatchesCountOnceWhenACommitFails(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	at := ts.clock.Truncate(time.Minute)
	ts.push(fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{}}`+"\n", at.Format(time.RFC3339)))
	ctx := context.Background()
	batches, err := ts.db.PendingBatches(ctx)
	if err != nil || len(batches) != 1 {
		t.Fatalf("pending batches %v, %v; want the one pushed", batches, err)
	}
	ts.engine(func(eng *engine.Engine) {
		// As two cycles whose commits failed would: applied, not committed.
		for range 2 {
			b := engine.Batch{Source: "events", From: ts.clock.UnixMilli(), Through: ts.clock.UnixMilli(), Pushed: []engine.Pushed{{
				ID:     batches[0].ID,
				Events: []engine.Event{{Time: at.Add(time.Minute).UnixMilli(), SLO: "cypher-availability", Labels: labels.FromStrings("database", "db-1"), Total: 1000}},
			}}}
			if _, err := eng.Apply(b); err != nil {
				t.Fatal(err)
			}
		}
	})
	ts.clock = ts.clock.Add(time.Minute)
	if err := ts.Cycle(ctx); err != nil {
		t.Fatalf("the cycle after failed ones: %v", err)
	}
	d, _ := ts.SLO("cypher-availability")
	if got := d.All[0].Events.Total; got != 1000 {
		t.Errorf("counted %v events, want the batch's 1000 once", got)
	}
}

// TestCyclesRunAReadDelayAfterTheInterval: cycles start a read delay after
// each multiple of the interval, so that a minute is read as soon as it can
// be.
func TestCyclesRunAReadDelayAfterTheInterval(t *testing.T) {
	base := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Duration // after base
		want time.Duration
	}{
		{0, 10 * time.Second},
		{5 * time.Second, 5 * time.Second},
		{10 * time.Second, 30 * time.Second},
		{12 * time.Second, 28 * time.Second},
		{39*time.Second + 500*time.Millisecond, 500 * time.Millisecond},
	} {
		if got := untilNextCycle(base.Add(tc.now), 30*time.Second); got != tc.want {
			t.Errorf("at +%s: wait %s, want %s", tc.now, got, tc.want)
		}
	}
}

// TestHandOverAfterTheEarlyLook: when a first start's backfill ends, an
// alert its early look paged and still firing is not paged again, one it
// paged and no longer firing is resolved, and what it did not page is.
func TestHandOverAfterTheEarlyLook(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	tr := func(id string, state burnrate.State) burnrate.Transition {
		return burnrate.Transition{ID: id, Alert: burnrate.BurnRateAlert, State: state, Time: ts.clock.Add(-time.Hour)}
	}
	var got []engine.Notice
	if err := ts.do(context.Background(), func() error {
		ts.early["still"] = tr("still", burnrate.Firing)
		ts.early["gone"] = tr("gone", burnrate.Firing)
		got = ts.handOver([]engine.Notice{
			{Transition: tr("still", burnrate.Firing), Index: store.NoTransition},
			{Transition: tr("new", burnrate.Firing), Index: store.NoTransition},
		})
		if len(ts.early) != 0 {
			t.Errorf("the early look's alerts are kept after the hand-over: %v", ts.early)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, n := range got {
		lines = append(lines, n.Transition.ID+" "+n.Transition.State.String())
	}
	if want := []string{"new firing", "gone resolved"}; !slices.Equal(lines, want) {
		t.Errorf("after the hand-over %v, want %v", lines, want)
	}
}
