package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/notify/webhook"
)

// weekly is week 47 in three formats, each with what a careless encoding
// would change: markup, quotes, a line break and non-ASCII.
func weekly() webhook.WeeklyReport {
	from := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	return webhook.WeeklyReport{
		Week: "2026-W47",
		From: from,
		To:   from.AddDate(0, 0, 7),
		Formats: []webhook.Rendering{
			{Format: "md", ContentType: "text/markdown; charset=utf-8", Content: []byte("# Weekly error budget — 2026-W47\n\n| slo | sli |\n|---|---|\n| cypher-availability | 99.7% |\n")},
			{Format: "json", ContentType: "application/json", Content: []byte("{\n  \"title\": \"Weekly error budget — 2026-W47\",\n  \"slos\": [{\"name\": \"cypher-availability\", \"sli_week\": 0.997}]\n}\n")},
			{Format: "html", ContentType: "text/html; charset=utf-8", Content: []byte(`<!doctype html><h1 class="t">Weekly error budget &amp; more</h1>` + "\n")},
		},
	}
}

func TestPostReportPostsTheDocumentedBodySigned(t *testing.T) {
	url, reqs := fakeReceiver(t, http.StatusOK, nil, "")
	sent := time.Date(2026, 11, 23, 8, 0, 31, 400e6, time.UTC) // Monday 09:00:31 in Berlin
	r := newReceiver(t, webhook.Config{URL: url + "/hooks/burnwatch", Headers: map[string]string{"x-team": "dbaas"}},
		webhook.WithClock(func() time.Time { return sent }))
	rep := weekly()
	if retry, err := r.PostReport(context.Background(), rep); err != nil {
		t.Fatalf("PostReport: retry %v, %v", retry, err)
	}
	got := <-reqs
	checkSignedPost(t, got, sent)

	var p webhook.ReportPayload
	if err := json.Unmarshal(got.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "1" || p.Kind != "weekly-report" || p.Week != "2026-W47" || !p.From.Equal(rep.From) || !p.To.Equal(rep.To) || !p.SentAt.Equal(sent.Truncate(time.Second)) {
		t.Errorf("version %q, kind %q, week %q, from %s, to %s, sent_at %s", p.Version, p.Kind, p.Week, p.From, p.To, p.SentAt)
	}
	if len(p.Reports) != len(rep.Formats) {
		t.Fatalf("%d reports, want one per format (%d)", len(p.Reports), len(rep.Formats))
	}
	for i, b := range p.Reports {
		want := rep.Formats[i]
		if b.Format != want.Format || b.ContentType != want.ContentType {
			t.Errorf("reports[%d] is %s (%s), want %s (%s), in the given order", i, b.Format, b.ContentType, want.Format, want.ContentType)
		}
		content, err := b.Content()
		if err != nil {
			t.Fatalf("reports[%d].Content: %v", i, err)
		}
		if b.Format == "json" {
			// Embedded as a value, compacted: the same JSON, not a string of it.
			var compact bytes.Buffer
			json.Compact(&compact, want.Content)
			if b.Body[0] != '{' || !bytes.Equal(content, compact.Bytes()) {
				t.Errorf("the json report is %s, want the value %s", b.Body, compact.Bytes())
			}
		} else if !bytes.Equal(content, want.Content) {
			t.Errorf("the %s report reads back as %q, want %q", b.Format, content, want.Content)
		}
	}
	if !bytes.Contains(got.body, []byte(`<h1 class=\"t\">Weekly error budget &amp; more</h1>`)) {
		t.Errorf("the HTML is escaped beyond what JSON needs:\n%s", got.body)
	}

	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got.body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden.Check(t, filepath.Join("testdata", "report.json"), pretty.Bytes())
}

func TestPostReportClassifiesResponsesAsNotify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		wantErr   bool
		wantRetry bool
	}{
		{"a 204 is delivered", http.StatusNoContent, false, false},
		{"a 500 is retried", http.StatusInternalServerError, true, true},
		{"a 429 is retried", http.StatusTooManyRequests, true, true},
		{"a 401 (a wrong secret) is not retried", http.StatusUnauthorized, true, false},
		{"a 413 (a report too large) is not retried", http.StatusRequestEntityTooLarge, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := fakeReceiver(t, tc.status, nil, "said no")
			r := newReceiver(t, webhook.Config{URL: url})
			retry, err := r.PostReport(context.Background(), weekly())
			if (err != nil) != tc.wantErr || retry != tc.wantRetry {
				t.Fatalf("PostReport = %v, %v; want retry %v, error %v", retry, err, tc.wantRetry, tc.wantErr)
			}
			var se *webhook.StatusError
			if err != nil && (!errors.As(err, &se) || se.Code != tc.status || !strings.Contains(err.Error(), "report 2026-W47")) {
				t.Errorf("error %v: want a StatusError %d that names the report", err, tc.status)
			}
		})
	}
	t.Run("a refused connection is retried", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		r := newReceiver(t, webhook.Config{URL: srv.URL})
		if retry, err := r.PostReport(context.Background(), weekly()); err == nil || !retry {
			t.Errorf("PostReport = %v, %v; want a retried error", retry, err)
		}
	})
	t.Run("a json report that is not JSON is not posted, nor retried", func(t *testing.T) {
		url, reqs := fakeReceiver(t, http.StatusOK, nil, "")
		r := newReceiver(t, webhook.Config{URL: url})
		rep := weekly()
		rep.Formats[1].Content = []byte("{truncated")
		if retry, err := r.PostReport(context.Background(), rep); err == nil || retry {
			t.Errorf("PostReport = %v, %v; want an error not retried", retry, err)
		}
		if len(reqs) != 0 {
			t.Error("a body that could not be encoded was posted")
		}
	})
}

// TestPostReportNeverShowsTheSecret: the report's path through post logs
// and errors as a notification's does, and shows none of the secret, the
// URL's token or the headers' values.
func TestPostReportNeverShowsTheSecret(t *testing.T) {
	const pathToken, headerValue = "T0KEN-in-the-path-3c9b", "Bearer hdr-cred-77ee02"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var shown []string
	c := webhook.Config{Headers: map[string]string{"Authorization": headerValue}}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, status := range []int{200, 401, 500, 0} {
		url := closed.URL
		if status != 0 {
			url, _ = fakeReceiver(t, status, nil, "refused")
		}
		c.URL = url + "/hooks/" + pathToken
		r := newReceiver(t, c, webhook.WithLogger(log))
		if _, err := r.PostReport(context.Background(), weekly()); err != nil {
			shown = append(shown, err.Error())
		}
	}
	shown = append(shown, logs.String())
	for _, want := range []string{"report posted", "report refused", "posting report failed", "week=2026-W47"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the debug log lacks %q:\n%s", want, logs.String())
		}
	}
	for _, s := range shown {
		for _, leak := range []string{secret, pathToken, headerValue} {
			if strings.Contains(s, leak) {
				t.Errorf("%q is shown in %q", leak, s)
			}
		}
	}
}
