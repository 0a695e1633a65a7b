package alertmanager_test

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
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/alertmanager"
)

var (
	onset = time.Date(2026, 11, 5, 2, 1, 0, 0, time.UTC)
	clock = func() time.Time { return onset.Add(30 * time.Second) }
)

// page is a burn-rate page as the service builds it.
func page() notify.Notification {
	return notify.Notification{
		AlertID:         "8b711dc37281ebecf2df4a25abcc9687",
		Kind:            "burn-rate",
		SLO:             "cypher-availability",
		Labels:          map[string]string{"database": "db-2", "orchestra": "eu-1", "empty": ""},
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

// capture serves an Alertmanager that answers 200 and hands over each
// request with its body.
type captured struct {
	req  *http.Request
	body []byte
}

func fakeAlertmanager(t *testing.T, status int, header http.Header, body string) (url string, reqs <-chan captured) {
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

func newReceiver(t *testing.T, c alertmanager.Config, opts ...alertmanager.Option) *alertmanager.Receiver {
	t.Helper()
	r, err := alertmanager.New("am", c, append([]alertmanager.Option{alertmanager.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNotifyPostsTheDocumentedAlert(t *testing.T) {
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
		{"a firing page ends four resends after now, so that Alertmanager keeps it while it is re-posted", "firing.json", page()},
		{"a resolve ends at the time of the transition", "resolved.json", resolved},
		{"a user-fault surge names the surging instances and has no dashboard", "surge.json", surge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, reqs := fakeAlertmanager(t, http.StatusOK, nil, "")
			r := newReceiver(t, alertmanager.Config{URL: url + "/am/"})
			if retry, err := r.Notify(context.Background(), tc.n); err != nil {
				t.Fatalf("Notify: retry %v, %v", retry, err)
			}
			got := <-reqs
			if got.req.Method != http.MethodPost || got.req.URL.Path != "/am/api/v2/alerts" {
				t.Errorf("request %s %s, want POST /am/api/v2/alerts", got.req.Method, got.req.URL.Path)
			}
			if ct := got.req.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got.body, "", "  "); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, got.body)
			}
			pretty.WriteByte('\n')
			golden.Check(t, filepath.Join("testdata", tc.golden), pretty.Bytes())
		})
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
		wantAfter  time.Duration // > 0: the error is a notify.RetryAfter of this
		wantInText string
	}{
		{name: "a 200 is delivered", status: 200},
		{name: "any 2xx is delivered", status: 202},
		{name: "a 400 is not retried and carries Alertmanager's reason", status: 400, body: `"start time must be before end time"` + "\n",
			wantErr: true, wantInText: "400 Bad Request: start time must be before end time"},
		{name: "a 401 would fail again: not retried", status: 401, wantErr: true, wantInText: "401 Unauthorized"},
		{name: "a 404 (a wrong URL) is not retried", status: 404, body: "404 page not found", wantErr: true, wantInText: "404 page not found"},
		{name: "a 408 is a timeout: retried", status: 408, wantErr: true, wantRetry: true},
		{name: "a 429 is retried", status: 429, wantErr: true, wantRetry: true, wantInText: "429 Too Many Requests"},
		{name: "a 429 names when to retry in seconds", status: 429, header: http.Header{"Retry-After": {"7"}},
			wantErr: true, wantRetry: true, wantAfter: 7 * time.Second, wantInText: "retry after 7s"},
		{name: "a 429 names when to retry as a date", status: 429, header: http.Header{"Retry-After": {clock().Add(90 * time.Second).Format(http.TimeFormat)}},
			wantErr: true, wantRetry: true, wantAfter: 90 * time.Second},
		{name: "a 500 is retried with Alertmanager's message", status: 500, body: `"storage full"`, wantErr: true, wantRetry: true, wantInText: "500 Internal Server Error: storage full"},
		{name: "a 502 from a proxy is retried", status: 502, wantErr: true, wantRetry: true},
		{name: "a 503 with Retry-After is retried then", status: 503, header: http.Header{"Retry-After": {"30"}},
			wantErr: true, wantRetry: true, wantAfter: 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _ := fakeAlertmanager(t, tc.status, tc.header, tc.body)
			r := newReceiver(t, alertmanager.Config{URL: url})
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
			var se *alertmanager.StatusError
			if !errors.As(err, &se) || se.Code != tc.status {
				t.Errorf("error %v is not a StatusError with code %d", err, tc.status)
			}
			var ra notify.RetryAfter
			switch {
			case tc.wantAfter > 0 && !errors.As(err, &ra):
				t.Errorf("error %v is not a notify.RetryAfter", err)
			case tc.wantAfter > 0 && ra.RetryAfter() != tc.wantAfter:
				t.Errorf("RetryAfter() = %s, want %s", ra.RetryAfter(), tc.wantAfter)
			case tc.wantAfter == 0 && errors.As(err, &ra):
				t.Errorf("error %v says retry after %s; want no Retry-After", err, ra.RetryAfter())
			}
		})
	}
}

func TestNotifyRetriesNetworkFailures(t *testing.T) {
	t.Run("a refused connection is retried", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		r := newReceiver(t, alertmanager.Config{URL: url})
		if retry, err := r.Notify(context.Background(), page()); err == nil || !retry {
			t.Errorf("Notify = %v, %v; want a retried error", retry, err)
		}
	})
	t.Run("an Alertmanager slower than the timeout is retried", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		r := newReceiver(t, alertmanager.Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
		retry, err := r.Notify(context.Background(), page())
		if err == nil || !retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Notify = %v, %v; want a retried deadline", retry, err)
		}
	})
}

func TestCredentialsAreSentAndNeverShown(t *testing.T) {
	const token, password = "s3cr3t-bearer-token-value", "hunter2-password-value"
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile, passwordFile := write("token", "  "+token+"\n"), write("password", password+"\n")
	for _, tc := range []struct {
		name, secret, wantAuth string
		c                      alertmanager.Config
	}{
		{"a bearer token read from a file, trimmed", token, "Bearer " + token,
			alertmanager.Config{BearerTokenFile: tokenFile}},
		{"a basic-auth password read from a file, trimmed", password, "Basic aGVsZW46aHVudGVyMi1wYXNzd29yZC12YWx1ZQ==",
			alertmanager.Config{BasicAuth: &alertmanager.BasicAuth{Username: "helen", PasswordFile: passwordFile}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			prev := slog.Default()
			slog.SetDefault(log)
			t.Cleanup(func() { slog.SetDefault(prev) })

			var shown []string // everything a person may see
			for _, status := range []int{200, 401, 500} {
				url, reqs := fakeAlertmanager(t, status, nil, `"unauthorized"`)
				c := tc.c
				c.URL = url
				r := newReceiver(t, c, alertmanager.WithLogger(log))
				_, err := r.Notify(context.Background(), page())
				if got := (<-reqs).req.Header.Get("Authorization"); got != tc.wantAuth {
					t.Errorf("Authorization %q, want %q", got, tc.wantAuth)
				}
				if err != nil {
					shown = append(shown, err.Error())
				}
				shown = append(shown, fmt.Sprintf("%v %+v %#v %s", r, r, r, r), r.String())
				log.Info("receiver", "r", r)
			}
			// A network failure, too.
			c := tc.c
			c.URL = "http://127.0.0.1:1"
			r := newReceiver(t, c, alertmanager.WithLogger(log))
			if _, err := r.Notify(context.Background(), page()); err != nil {
				shown = append(shown, err.Error())
			}
			shown = append(shown, logs.String())
			if !strings.Contains(logs.String(), "alert posted") {
				t.Errorf("no delivery logged at debug level:\n%s", logs.String())
			}
			for _, s := range shown {
				if strings.Contains(s, tc.secret) {
					t.Errorf("the secret is shown in %q", s)
				}
			}
		})
	}
}

func TestNewReadsCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n\t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    alertmanager.Config
		want string
	}{
		{"a token file with only white space is an error", alertmanager.Config{BearerTokenFile: empty}, "bearer_token_file: " + empty + " is empty"},
		{"a missing token file is an error that names it", alertmanager.Config{BearerTokenFile: filepath.Join(dir, "nope")}, "bearer_token_file: reading credentials: open " + filepath.Join(dir, "nope")},
		{"an empty password file is an error", alertmanager.Config{BasicAuth: &alertmanager.BasicAuth{Username: "u", PasswordFile: empty}}, "basic_auth.password_file: " + empty + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.URL = "http://127.0.0.1:9093"
			_, err := alertmanager.New("am", tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    alertmanager.Config
		want []string
	}{
		{"a URL is required", alertmanager.Config{}, []string{"url: missing"}},
		{"the URL is absolute", alertmanager.Config{URL: "alertmanager:9093"}, []string{"url: \"alertmanager:9093\" is not an absolute http or https URL"}},
		{"credentials in the URL are refused, and not repeated", alertmanager.Config{URL: "http://u:hunter2@am:9093"}, []string{"carries credentials; use basic_auth", "xxxxx"}},
		{"a query is refused", alertmanager.Config{URL: "http://am:9093/?x=1"}, []string{"has a query or fragment"}},
		{"durations are not negative", alertmanager.Config{URL: "http://am:9093", Timeout: -1, Resend: -time.Second}, []string{"timeout: -1ns is negative", "resend: -1s is negative"}},
		{"one way to authenticate", alertmanager.Config{URL: "http://am:9093", BearerTokenFile: "/t", BasicAuth: &alertmanager.BasicAuth{}},
			[]string{"bearer_token_file: set together with basic_auth", "basic_auth.username: missing", "basic_auth.password_file: missing"}},
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
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate repeats a password: %v", err)
			}
		})
	}
	if err := (alertmanager.Config{URL: "https://am.example/prefix"}).Validate(); err != nil {
		t.Errorf("a base URL with a prefix: %v", err)
	}
}

func TestResendDefaultsToAMinute(t *testing.T) {
	r := newReceiver(t, alertmanager.Config{URL: "http://am:9093"})
	if r.Resend() != time.Minute {
		t.Errorf("Resend() = %s, want 1m", r.Resend())
	}
	r = newReceiver(t, alertmanager.Config{URL: "http://am:9093", Resend: 20 * time.Second})
	if r.Resend() != 20*time.Second || r.Name() != "am" {
		t.Errorf("Resend() = %s, Name() = %q; want 20s, am", r.Resend(), r.Name())
	}
}

func TestBurnwatchLabelsWinAClashWithInstanceLabels(t *testing.T) {
	url, reqs := fakeAlertmanager(t, http.StatusOK, nil, "")
	r := newReceiver(t, alertmanager.Config{URL: url})
	n := page()
	n.Labels = map[string]string{"severity": "sev1", "alertname": "db", "slo": "x", "burnwatch_alert_id": "y", "database": "db-2"}
	if _, err := r.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var alerts []struct{ Labels map[string]string }
	if err := json.Unmarshal((<-reqs).body, &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("body: %v, %d alerts", err, len(alerts))
	}
	want := map[string]string{"severity": "critical", "alertname": "burnwatch:burn-rate", "slo": "cypher-availability", "burnwatch_alert_id": n.AlertID, "burnwatch_instance": `cypher-availability{alertname="db", burnwatch_alert_id="y", database="db-2", severity="sev1", slo="x"}`, "database": "db-2"}
	if fmt.Sprint(alerts[0].Labels) != fmt.Sprint(want) {
		t.Errorf("labels %v, want %v", alerts[0].Labels, want)
	}
}

// TestCheckRefusesWhatNewRefuses: `burnwatch check` runs Check and serve
// runs New; a credential file New refuses fails Check too, naming the field.
func TestCheckRefusesWhatNewRefuses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	good := filepath.Join(dir, "good")
	os.WriteFile(empty, nil, 0o600)
	os.WriteFile(good, []byte("token\n"), 0o600)
	for _, tc := range []struct {
		name string
		c    alertmanager.Config
		want string
	}{
		{"a readable token passes", alertmanager.Config{URL: "http://am:9093", BearerTokenFile: good}, ""},
		{"an empty token fails", alertmanager.Config{URL: "http://am:9093", BearerTokenFile: empty}, "bearer_token_file: " + empty + " is empty"},
		{"a missing password fails", alertmanager.Config{URL: "http://am:9093", BasicAuth: &alertmanager.BasicAuth{Username: "u", PasswordFile: filepath.Join(dir, "nope")}}, "basic_auth.password_file: reading credentials: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Check()
			_, newErr := alertmanager.New("am", tc.c)
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Check() = %v but New() = %v", err, newErr)
			}
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
				t.Errorf("Check() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAlertNameAndSeverityFollowTheConfig: alertname and severity are
// Alertmanager's conventional burnwatch:<kind> and critical/warning unless
// the receiver's config maps them, entry by entry.
func TestAlertNameAndSeverityFollowTheConfig(t *testing.T) {
	ticket := page()
	ticket.Severity = "ticket"
	surge := page()
	surge.Kind, surge.Severity = "user-fault-surge", "ticket"
	for _, tc := range []struct {
		name                   string
		c                      alertmanager.Config
		n                      notify.Notification
		wantName, wantSeverity string
	}{
		{"a page is critical by default", alertmanager.Config{}, page(), "burnwatch:burn-rate", "critical"},
		{"a ticket is a warning by default", alertmanager.Config{}, ticket, "burnwatch:burn-rate", "warning"},
		{"a mapped kind takes its name", alertmanager.Config{AlertName: map[string]string{"burn-rate": "ErrorBudgetBurn"}}, page(), "ErrorBudgetBurn", "critical"},
		{"a kind the map leaves out keeps the default", alertmanager.Config{AlertName: map[string]string{"burn-rate": "ErrorBudgetBurn"}}, surge, "burnwatch:user-fault-surge", "warning"},
		{"a mapped severity takes its value", alertmanager.Config{Severity: map[string]string{"ticket": "info"}}, ticket, "burnwatch:burn-rate", "info"},
		{"mapping the ticket leaves the page critical", alertmanager.Config{Severity: map[string]string{"ticket": "info"}}, page(), "burnwatch:burn-rate", "critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, reqs := fakeAlertmanager(t, http.StatusOK, nil, "")
			tc.c.URL = url
			r := newReceiver(t, tc.c)
			if _, err := r.Notify(context.Background(), tc.n); err != nil {
				t.Fatal(err)
			}
			var alerts []struct{ Labels map[string]string }
			if err := json.Unmarshal((<-reqs).body, &alerts); err != nil || len(alerts) != 1 {
				t.Fatalf("body: %v, %d alerts", err, len(alerts))
			}
			if l := alerts[0].Labels; l["alertname"] != tc.wantName || l["severity"] != tc.wantSeverity || l["burnwatch_instance"] != `cypher-availability{database="db-2", orchestra="eu-1"}` {
				t.Errorf("labels %v; want alertname %s, severity %s and the instance", l, tc.wantName, tc.wantSeverity)
			}
		})
	}
	err := alertmanager.Config{URL: "http://am:9093", AlertName: map[string]string{"burnrate": "X", "no-data": ""}, Severity: map[string]string{"page": " "}}.Validate()
	for _, want := range []string{`alert_name: "burnrate" is not one of burn-rate, user-fault-surge, no-data`, `alert_name.no-data: "" is not a label value`, `severity.page: " " is not a label value`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v\nwant it to say %s", err, want)
		}
	}
}

// TestTheAnnotationsAreText: the summary and each line of the description
// are prose that Alertmanager's templates, chats and pagers show; a line
// break, an escape sequence or a bidi override a tenant put in a label
// value or a code is sent escaped, so that it can forge no line ("RESOLVED")
// and reach no terminal. Labels, which are data, stay exact.
func TestTheAnnotationsAreText(t *testing.T) {
	url, reqs := fakeAlertmanager(t, http.StatusOK, nil, "")
	r := newReceiver(t, alertmanager.Config{URL: url})
	n := page()
	n.Summary = "[PAGE] db\nRESOLVED\x1b[0m\u202e"
	n.Labels = map[string]string{"database": "db\n2"}
	n.Codes = []notify.Code{{Code: "E\nRESOLVED\x1b[2J", Class: "platform", Count: 3}}
	if _, err := r.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	var alerts []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal((<-reqs).body, &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("%v: %d alerts", err, len(alerts))
	}
	a := alerts[0]
	if want := `[PAGE] db\nRESOLVED\x1b[0m\u202e`; a.Annotations["summary"] != want {
		t.Errorf("summary %q, want %q", a.Annotations["summary"], want)
	}
	desc := a.Annotations["description"]
	if strings.ContainsAny(desc, "\x1b\u202e") || strings.Contains(desc, "\nRESOLVED") || !strings.Contains(desc, `E\nRESOLVED\x1b[2J`) {
		t.Errorf("description %q: want the code escaped on its line", desc)
	}
	if a.Labels["database"] != "db\n2" {
		t.Errorf("labels %q; want the label value as it is", a.Labels)
	}
}
