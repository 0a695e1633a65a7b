package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/webhook"
)

// secret is the shared secret the tests sign with; distinctive, so that a
// leak is found by a substring search.
const secret = "wh-secret-7f3a9c2e51b84d06"

var (
	onset = time.Date(2026, 11, 5, 2, 1, 0, 0, time.UTC)
	now   = onset.Add(30*time.Second + 400*time.Millisecond)
	clock = func() time.Time { return now }
)

// page is a burn-rate page as the service builds it.
func page() notify.Notification {
	return notify.Notification{
		AlertID:         "8b711dc37281ebecf2df4a25abcc9687",
		Kind:            "burn-rate",
		SLO:             "cypher-availability",
		Labels:          map[string]string{"database": "db-2"},
		Severity:        "page",
		State:           "firing",
		Time:            onset,
		Onset:           onset,
		Summary:         `[PAGE] cypher-availability{database="db-2"}: 2% of the 30d budget burns within 1h (16.7×)`,
		BurnRates:       []notify.BurnRate{{Window: "1h", Rate: 16.667}, {Window: "5m", Rate: 200}},
		BudgetRemaining: 0.9234,
		Codes:           []notify.Code{{Code: "Neo.DatabaseError.General.UnknownError", Class: "platform", Count: 998}},
		PlaybookID:      "database-unavailable",
		PlaybookURL:     "http://burnwatch.example:9099/playbooks/database-unavailable",
		DashboardURL:    "https://grafana.example/d/neo4j?var-database=db-2",
	}
}

// secretFile writes content to a file of the test's and returns its path.
func secretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type captured struct {
	req  *http.Request
	body []byte
}

// fakeReceiver answers every POST with status, header and body, and hands
// over each request.
func fakeReceiver(t *testing.T, status int, header http.Header, body string) (url string, reqs <-chan captured) {
	t.Helper()
	ch := make(chan captured, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{r, b}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

func newReceiver(t *testing.T, c webhook.Config, opts ...webhook.Option) *webhook.Receiver {
	t.Helper()
	if c.SecretFile == "" {
		c.SecretFile = secretFile(t, "\n  "+secret+"  \n")
	}
	r, err := webhook.New("hook", c, append([]webhook.Option{webhook.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNotifyPostsTheDocumentedBodySigned(t *testing.T) {
	resolved := page()
	resolved.State, resolved.Time = "resolved", onset.Add(49*time.Minute)
	surge := notify.Notification{
		AlertID: "5c1e0a0d2b9f4e7a8c3d6b1f0e2a4c6d", Kind: "user-fault-surge", SLO: "cypher-availability",
		Severity: "ticket", State: "firing", Time: onset, Onset: onset,
		Summary:   "[TICKET] cypher-availability: user faults surge on 2 of 3 databases",
		Instances: []map[string]string{{"database": "db-1"}, {"database": "db-3"}}, Surging: 2, Fleet: 3,
		Codes:       []notify.Code{{Code: "Neo.ClientError.Statement.SyntaxError", Class: "user", Count: 4200}},
		PlaybookID:  "user-fault-surge",
		PlaybookURL: "http://burnwatch.example:9099/playbooks/user-fault-surge",
	}
	for _, tc := range []struct {
		name, golden string
		n            notify.Notification
	}{
		{"a firing page carries every field of the notification", "firing.json", page()},
		{"a resolve keeps the onset of the firing it ends", "resolved.json", resolved},
		{"a user-fault surge adds its instances, and empty lists are [] not null", "surge.json", surge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, reqs := fakeReceiver(t, http.StatusNoContent, nil, "")
			r := newReceiver(t, webhook.Config{URL: url + "/hooks/burnwatch", Headers: map[string]string{"x-team": "dbaas"}})
			if retry, err := r.Notify(context.Background(), tc.n); err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			got := <-reqs
			checkSignedPost(t, got, now)
			var p webhook.Payload
			if err := json.Unmarshal(got.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.SentAt.Unix() != now.Unix() || !p.SentAt.Equal(now.Truncate(time.Second)) {
				t.Errorf("sent_at %s, want %s to the second", p.SentAt, now)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got.body, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden.Check(t, filepath.Join("testdata", tc.golden), pretty.Bytes())
		})
	}
}

// checkSignedPost checks what every POST of the tests' receiver (to
// /hooks/burnwatch, with an X-Team header) carries: JSON, the header, a
// signature of the body with the trimmed secret, and sent as its time.
func checkSignedPost(t *testing.T, got captured, sent time.Time) {
	t.Helper()
	h := got.req.Header
	if got.req.Method != http.MethodPost || got.req.URL.Path != "/hooks/burnwatch" {
		t.Errorf("request %s %s, want POST /hooks/burnwatch", got.req.Method, got.req.URL.Path)
	}
	if h.Get("Content-Type") != "application/json" || h.Get("X-Team") != "dbaas" {
		t.Errorf("headers %v, want Content-Type application/json and X-Team dbaas", h)
	}
	if !webhook.Verify([]byte(secret), got.body, h.Get(webhook.SignatureHeader)) {
		t.Errorf("%s %q does not verify the body with the trimmed secret", webhook.SignatureHeader, h.Get(webhook.SignatureHeader))
	}
	if ts := h.Get(webhook.TimestampHeader); ts != strconv.FormatInt(sent.Unix(), 10) {
		t.Errorf("%s %q, want %d", webhook.TimestampHeader, ts, sent.Unix())
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"version":"1","alert_id":"a"}`)
	sig := webhook.Sign([]byte(secret), body)
	for _, tc := range []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"the signature of the exact body verifies", secret, body, sig, true},
		{"a changed body fails", secret, []byte(`{"version":"1","alert_id":"b"}`), sig, false},
		{"a body with a byte of white space added fails", secret, append(append([]byte{}, body...), '\n'), sig, false},
		{"another secret fails", "another-secret", body, sig, false},
		{"an empty secret verifies nothing", "", body, webhook.Sign(nil, body), false},
		{"a header without sha256= fails", secret, body, strings.TrimPrefix(sig, "sha256="), false},
		{"another algorithm fails", secret, body, "sha1=" + strings.TrimPrefix(sig, "sha256="), false},
		{"a header that is not hex fails", secret, body, "sha256=zz", false},
		{"a truncated signature fails", secret, body, sig[:len(sig)-2], false},
		{"an empty header fails", secret, body, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := webhook.Verify([]byte(tc.secret), tc.body, tc.header); got != tc.want {
				t.Errorf("Verify = %v, want %v", got, tc.want)
			}
		})
	}
	// The documented construction, computed independently: HMAC-SHA256
	// with key "key" over "The quick brown fox jumps over the lazy dog".
	const want = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got := webhook.Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")); got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestNotifyClassifiesResponses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantErr    bool
		wantRetry  bool
		wantAfter  time.Duration
		wantInText string
	}{
		{name: "a 200 is delivered", status: 200},
		{name: "a 204 is delivered", status: 204},
		{name: "a 400 is not retried and carries the body", status: 400, body: "unknown field severity\n", wantErr: true, wantInText: "400 Bad Request: unknown field severity"},
		{name: "a 401 (a wrong signature) is not retried", status: 401, wantErr: true, wantInText: "401 Unauthorized"},
		{name: "a 403 is not retried", status: 403, wantErr: true},
		{name: "a 404 is not retried", status: 404, wantErr: true},
		{name: "a 413 is not retried", status: 413, wantErr: true},
		{name: "a 422 is not retried", status: 422, wantErr: true},
		{name: "a 408 is a timeout: retried", status: 408, wantErr: true, wantRetry: true},
		{name: "a 429 is retried", status: 429, wantErr: true, wantRetry: true},
		{name: "a 429 names when to retry", status: 429, header: http.Header{"Retry-After": {"12"}}, wantErr: true, wantRetry: true, wantAfter: 12 * time.Second, wantInText: "retry after 12s"},
		{name: "a 429's Retry-After may be a date", status: 429, header: http.Header{"Retry-After": {now.Add(2 * time.Minute).Format(http.TimeFormat)}}, wantErr: true, wantRetry: true, wantAfter: 2*time.Minute - 400*time.Millisecond},
		{name: "a 500 is retried", status: 500, body: "boom", wantErr: true, wantRetry: true, wantInText: "500 Internal Server Error: boom"},
		{name: "a 502 is retried", status: 502, wantErr: true, wantRetry: true},
		{name: "a 503 is retried", status: 503, wantErr: true, wantRetry: true},
		{name: "a 504 is retried", status: 504, wantErr: true, wantRetry: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := fakeReceiver(t, tc.status, tc.header, tc.body)
			r := newReceiver(t, webhook.Config{URL: url})
			retry, err := r.Notify(context.Background(), page())
			if (err != nil) != tc.wantErr || retry != tc.wantRetry {
				t.Fatalf("Notify = %v, %v; want retry %v, error %v", retry, err, tc.wantRetry, tc.wantErr)
			}
			if err == nil {
				return
			}
			if !strings.Contains(err.Error(), tc.wantInText) {
				t.Errorf("error %q does not say %q", err, tc.wantInText)
			}
			var se *webhook.StatusError
			if !errors.As(err, &se) || se.Code != tc.status {
				t.Errorf("error %v is not a StatusError with code %d", err, tc.status)
			}
			var ra notify.RetryAfter
			switch {
			case tc.wantAfter > 0 && (!errors.As(err, &ra) || ra.RetryAfter() != tc.wantAfter):
				t.Errorf("error %v: want a notify.RetryAfter of %s", err, tc.wantAfter)
			case tc.wantAfter == 0 && errors.As(err, &ra):
				t.Errorf("error %v says retry after %s; want no Retry-After", err, ra.RetryAfter())
			}
		})
	}
	t.Run("a refused connection is retried", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		r := newReceiver(t, webhook.Config{URL: srv.URL})
		if retry, err := r.Notify(context.Background(), page()); err == nil || !retry {
			t.Errorf("Notify = %v, %v; want a retried error", retry, err)
		}
	})
	t.Run("a receiver slower than the timeout is retried", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		r := newReceiver(t, webhook.Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
		retry, err := r.Notify(context.Background(), page())
		if err == nil || !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Notify = %v, %v; want a retried deadline", retry, err)
		}
	})
}

// TestTheSecretIsNeverShown drives every path that writes an error or a
// log line, with slog at debug level, and formats the receiver every way
// fmt can: the secret, the URL's token and the headers' values appear in
// none of it.
func TestTheSecretIsNeverShown(t *testing.T) {
	const pathToken, headerValue = "T0KEN-in-the-path-8d1e", "Bearer hdr-cred-55aa01"
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log) // for anything that logs to the default logger
	t.Cleanup(func() { slog.SetDefault(prev) })

	var shown []string
	look := func(r *webhook.Receiver) {
		shown = append(shown, fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", r, r, r, r, r, r), r.String())
		log.Info("receiver", "receiver", r)
		slog.Info("receiver", "receiver", r)
	}
	c := webhook.Config{Headers: map[string]string{"Authorization": headerValue}}
	for _, status := range []int{200, 400, 401, 429, 500} {
		url, _ := fakeReceiver(t, status, nil, "refused")
		c.URL = url + "/hooks/" + pathToken
		r := newReceiver(t, c, webhook.WithLogger(log))
		if _, err := r.Notify(context.Background(), page()); err != nil {
			shown = append(shown, err.Error(), fmt.Sprintf("%+v", err))
		}
		look(r)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c.URL = srv.URL + "/hooks/" + pathToken
	r := newReceiver(t, c, webhook.WithLogger(log))
	if _, err := r.Notify(context.Background(), page()); err != nil {
		shown = append(shown, err.Error(), fmt.Sprintf("%+v", err))
	} else {
		t.Error("Notify to a closed server: no error")
	}
	look(r)
	// Config errors, which name the files.
	for _, bad := range []webhook.Config{
		{URL: "ftp://x/" + pathToken, SecretFile: secretFile(t, secret)},
		{URL: "http://u:" + secret + "@x/", SecretFile: secretFile(t, secret)},
		{URL: "http://x/", SecretFile: filepath.Join(t.TempDir(), "missing")},
		{URL: "http://x/", SecretFile: secretFile(t, secret), Headers: map[string]string{"X-Burnwatch-Signature": secret}},
		{URL: "http://x/", SecretFile: secretFile(t, secret), Headers: map[string]string{"X-Bad": secret + "\n"}},
	} {
		if _, err := webhook.New("hook", bad); err != nil {
			shown = append(shown, err.Error())
		} else {
			t.Errorf("New(%v): no error", bad.URL)
		}
	}
	shown = append(shown, logs.String())
	if !strings.Contains(logs.String(), "notification posted") || !strings.Contains(logs.String(), "notification refused") {
		t.Errorf("deliveries not logged at debug level:\n%s", logs.String())
	}
	for _, s := range shown {
		for _, leak := range []string{secret, pathToken, headerValue} {
			if strings.Contains(s, leak) {
				t.Errorf("%q is shown in %q", leak, s)
			}
		}
	}
}

func TestNewReadsTheSecretFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"a missing file is an error that names it", filepath.Join(dir, "nope"), "secret_file: reading the secret: open " + filepath.Join(dir, "nope")},
		{"a file of white space is empty, and empty is an error", secretFile(t, " \n\t"), "is empty; the webhook's secret must not be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := webhook.New("hook", webhook.Config{URL: "http://x/", SecretFile: tc.file})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    webhook.Config
		want []string
	}{
		{"a URL and a secret file are required", webhook.Config{}, []string{"url: missing", "secret_file: missing"}},
		{"the URL is absolute http or https", webhook.Config{URL: "tickets.example/hook", SecretFile: "/s"}, []string{"url: not an absolute http or https URL"}},
		{"credentials in the URL are refused", webhook.Config{URL: "https://u:p@x/", SecretFile: "/s"}, []string{"url: carries credentials"}},
		{"the timeout is not negative", webhook.Config{URL: "https://x/", SecretFile: "/s", Timeout: -time.Second}, []string{"timeout: -1s is negative"}},
		{"headers may not replace burnwatch's", webhook.Config{URL: "https://x/", SecretFile: "/s", Headers: map[string]string{"content-type": "text/plain", "x-burnwatch-timestamp": "0"}},
			[]string{"headers.content-type: burnwatch sets this header itself", "headers.x-burnwatch-timestamp: burnwatch sets"}},
		{"header names are tokens", webhook.Config{URL: "https://x/", SecretFile: "/s", Headers: map[string]string{"X Team": "a"}}, []string{`headers: "X Team" is not a header name`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if err == nil {
				t.Fatal("Validate: nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %v\nwant it to say %q", err, w)
				}
			}
		})
	}
}

// TestCheckRefusesWhatNewRefuses: `burnwatch check` runs Check and serve
// runs New; a secret file New refuses fails Check too, naming the field.
func TestCheckRefusesWhatNewRefuses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	good := filepath.Join(dir, "good")
	os.WriteFile(empty, []byte(" \n"), 0o600)
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	for _, tc := range []struct {
		name, file, want string
	}{
		{"a readable secret passes", good, ""},
		{"an empty secret fails", empty, "secret_file: " + empty + " is empty"},
		{"a missing secret fails", filepath.Join(dir, "missing"), "secret_file: reading the secret: open " + filepath.Join(dir, "missing")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := webhook.Config{URL: "https://hooks.example/x", SecretFile: tc.file}
			err := c.Check()
			_, newErr := webhook.New("hook", c)
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Check() = %v but New() = %v", err, newErr)
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestTheSummaryIsOneLineOfText: the summary is prose a chat or a ticket
// shows; a line break, an escape sequence or a bidi override in it is sent
// escaped, while labels and codes, which are data, stay exact.
func TestTheSummaryIsOneLineOfText(t *testing.T) {
	url, reqs := fakeReceiver(t, http.StatusOK, nil, "")
	r := newReceiver(t, webhook.Config{URL: url})
	n := page()
	n.Summary = "[PAGE] db\nRESOLVED\x1b[0m\u202e"
	n.Labels = map[string]string{"database": "db\n2"}
	if _, err := r.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var p webhook.Payload
	if err := json.Unmarshal((<-reqs).body, &p); err != nil {
		t.Fatal(err)
	}
	if want := `[PAGE] db\nRESOLVED\x1b[0m\u202e`; p.Summary != want {
		t.Errorf("summary %q, want %q", p.Summary, want)
	}
	if p.Labels["database"] != "db\n2" {
		t.Errorf("labels %q; want the label value as it is", p.Labels)
	}
}
