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

	"github.com/burnwatch/burnwatch/notify/webhook"
)

// reportSecret signs the reports in these tests; distinctive, so that a
// leak is found by a substring search.
const reportSecret = "rpt-secret-0c4f8e2a9b7d1356"

// hookRequest is one POST the fake report receiver took.
type hookRequest struct {
	header http.Header
	body   []byte
}

// reportHook is a webhook receiver that answers with statuses in turn
// (the last one from then on) and keeps every request.
type reportHook struct {
	mu       sync.Mutex
	statuses []int
	reqs     []hookRequest
	url      string
}

func newReportHook(t *testing.T, statuses ...int) *reportHook {
	t.Helper()
	h := &reportHook{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		status := h.statuses[min(len(h.reqs), len(h.statuses)-1)]
		h.reqs = append(h.reqs, hookRequest{r.Header.Clone(), b})
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hooks/reports"
	return h
}

func (h *reportHook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

// reportService runs a service whose weekly report (Monday 09:00 Berlin,
// 08:00 UTC in November) goes to hook, and to dir unless it is empty. Its
// log, at debug level, goes to the returned buffer.
func reportService(t *testing.T, hook *reportHook, dir string) (*testService, *apiLogBuffer) {
	t.Helper()
	base := t.TempDir()
	secretFile := filepath.Join(base, "hook.secret")
	if err := os.WriteFile(secretFile, []byte(reportSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := newTestService(t, base, eventsConfig+`
receivers:
  - name: hook
    webhook: {url: "`+hook.url+`", secret_file: `+secretFile+`}
reports:
  dir: "`+dir+`"
  receiver: hook
  schedule: "0 9 * * MON"
  time_zone: Europe/Berlin
  formats: [md, json]
`)
	t.Cleanup(func() { ts.Close() })
	logs := &apiLogBuffer{}
	ts.log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return ts, logs
}

// stepTo runs a cycle at the given time and waits for a report being
// posted.
func (ts *testService) stepTo(at time.Time) {
	ts.t.Helper()
	ts.clock = at
	if err := ts.Cycle(context.Background()); err != nil {
		ts.t.Fatal(err)
	}
	ts.reportsSending.Wait()
}

var (
	learnsTheSchedule = time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	justBeforeDue     = time.Date(2026, 11, 23, 7, 59, 30, 0, time.UTC) // 08:59:30 in Berlin
	justAfterDue      = time.Date(2026, 11, 23, 8, 0, 30, 0, time.UTC)  // 09:00:30 in Berlin
)

func TestScheduledReportIsPostedToItsWebhookOnceWhenDue(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  bool
	}{
		{"without a dir it is posted and nothing is written", false},
		{"with a dir it is written and posted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newReportHook(t, http.StatusOK)
			var dir string
			if tc.dir {
				dir = filepath.Join(t.TempDir(), "reports")
			}
			ts, logs := reportService(t, hook, dir)

			ts.stepTo(learnsTheSchedule)
			ts.stepTo(justBeforeDue)
			if n := len(hook.requests()); n != 0 {
				t.Fatalf("%d POSTs at 08:59:30 Berlin time, before the report is due", n)
			}
			ts.stepTo(justAfterDue)
			ts.stepTo(justAfterDue.Add(30 * time.Second))
			reqs := hook.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d POSTs once due, want 1", len(reqs))
			}
			got := reqs[0]
			if !webhook.Verify([]byte(reportSecret), got.body, got.header.Get(webhook.SignatureHeader)) {
				t.Errorf("%s %q does not verify the body", webhook.SignatureHeader, got.header.Get(webhook.SignatureHeader))
			}
			if got.header.Get(webhook.TimestampHeader) == "" || got.header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", got.header)
			}
			var p webhook.ReportPayload
			if err := json.Unmarshal(got.body, &p); err != nil {
				t.Fatal(err)
			}
			from := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
			if p.Version != "1" || p.Kind != "weekly-report" || p.Week != "2026-W47" || !p.From.Equal(from) || !p.To.Equal(from.AddDate(0, 0, 7)) {
				t.Errorf("version %q, kind %q, week %q, from %s, to %s; want the last complete week, 2026-W47", p.Version, p.Kind, p.Week, p.From, p.To)
			}
			if len(p.Reports) != 2 || p.Reports[0].Format != "md" || p.Reports[1].Format != "json" {
				t.Fatalf("reports %+v, want md and json, as the config lists them", p.Reports)
			}
			md, _ := p.Reports[0].Content()
			if p.Reports[0].ContentType != "text/markdown; charset=utf-8" || !strings.HasPrefix(string(md), "# ") || !strings.Contains(string(md), "2026-W47") {
				t.Errorf("the md report (%s):\n%.300s", p.Reports[0].ContentType, md)
			}
			var doc struct {
				From time.Time `json:"from"`
				SLOs []struct {
					Name string `json:"name"`
				} `json:"slos"`
			}
			if err := json.Unmarshal(p.Reports[1].Body, &doc); err != nil || !doc.From.Equal(from) || len(doc.SLOs) != 1 || doc.SLOs[0].Name != "cypher-availability" {
				t.Errorf("the json report is not the report as a JSON value (%v): %.300s", err, p.Reports[1].Body)
			}

			written, _ := filepath.Glob(filepath.Join(dir, "burnwatch-*"))
			everywhere, _ := filepath.Glob(filepath.Join(ts.dir, "*", "burnwatch-2026-W47.*"))
			switch {
			case tc.dir && len(written) != 2:
				t.Errorf("wrote %v, want the md and the json", written)
			case !tc.dir && len(everywhere)+len(written) != 0:
				t.Errorf("wrote %v without a dir", append(everywhere, written...))
			}
			if got, want := apiGathered(t, ts.reg), `burnwatch_reports_total{destination="receiver",outcome="sent"} 1`; !strings.Contains(got, want) {
				t.Errorf("the metrics lack %s:\n%s", want, got)
			}
			if !strings.Contains(logs.String(), "weekly report sent") || strings.Contains(logs.String(), reportSecret) {
				t.Errorf("the log does not say the report was sent, or shows the secret:\n%s", logs)
			}
		})
	}
}

func TestScheduledReportIsRetriedAfterAFailure(t *testing.T) {
	for _, tc := range []struct {
		name      string
		statuses  []int
		wantPOSTs int
		outcome   string
		wantLog   string
	}{
		{"a 500 then a 200 is retried and delivered once", []int{500, 200}, 2, "sent", "attempt=2"},
		{"a 400 is refused for good and not retried", []int{400}, 1, "refused", "weekly report refused; not retried"},
		{"a receiver failing every time is tried three times, then given up", []int{503}, reportAttempts, "failed", "weekly report not sent; giving up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hook := newReportHook(t, tc.statuses...)
			ts, logs := reportService(t, hook, "")
			ts.stepTo(learnsTheSchedule)
			ts.stepTo(justAfterDue)
			ts.stepTo(justAfterDue.Add(time.Minute)) // not due again
			reqs := hook.requests()
			if len(reqs) != tc.wantPOSTs {
				t.Fatalf("%d POSTs, want %d", len(reqs), tc.wantPOSTs)
			}
			for i, r := range reqs {
				if !webhook.Verify([]byte(reportSecret), r.body, r.header.Get(webhook.SignatureHeader)) {
					t.Errorf("POST %d is not signed", i+1)
				}
			}
			metrics := apiGathered(t, ts.reg)
			for _, o := range reportOutcomes {
				n := 0
				if o == tc.outcome {
					n = 1
				}
				if want := fmt.Sprintf(`burnwatch_reports_total{destination="receiver",outcome=%q} %d`, o, n); !strings.Contains(metrics, want+"\n") {
					t.Errorf("the metrics lack %s:\n%s", want, metrics)
				}
			}
			if !strings.Contains(logs.String(), tc.wantLog) || !strings.Contains(logs.String(), "outcome="+tc.outcome) {
				t.Errorf("the log lacks %q and outcome=%s:\n%s", tc.wantLog, tc.outcome, logs)
			}
			if strings.Contains(logs.String(), reportSecret) {
				t.Errorf("the log shows the secret:\n%s", logs)
			}
		})
	}
}
