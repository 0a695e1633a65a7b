package source

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"
)

const (
	promEmptyMatrix = `{"status":"success","data":{"resultType":"matrix","result":[]}}`
)

// promServer is a stand-in for the Prometheus API that answers each
// request with the next of its canned answers (the last one repeats), and
// keeps the requests.
type promServer struct {
	*httptest.Server
	mu       sync.Mutex
	answers  []promAnswer
	requests []*http.Request
}

type promAnswer struct {
	status      int
	body        string
	header      http.Header
	contentType string // default application/json
}

func newPromServer(t *testing.T, answers ...promAnswer) *promServer {
	s := &promServer{answers: answers}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm() // the clone keeps the form; the body is gone after
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		a := s.answers[min(len(s.requests), len(s.answers))-1]
		s.mu.Unlock()
		for k, v := range a.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", cmp.Or(a.contentType, "application/json"))
		w.WriteHeader(a.status)
		// A careless server may echo the request's credentials.
		fmt.Fprint(w, strings.NewReplacer("{auth}", r.Header.Get("Authorization"), "{tenant}", r.Header.Get("X-Scope-OrgID")).Replace(a.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *promServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *promServer) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

// newTestPrometheus connects to url with no wait between retries and a
// logger that writes to logs.
func newTestPrometheus(t *testing.T, cfg PrometheusConfig, logs *bytes.Buffer) *Prometheus {
	t.Helper()
	p, err := NewPrometheus(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.backoff = time.Millisecond
	if logs == nil {
		logs = new(bytes.Buffer)
	}
	p.Logger = slog.New(slog.NewTextHandler(logs, nil))
	t.Cleanup(p.Close)
	return p
}

func promWriteFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// promAPIs are the ways of reading, each with an answer that holds no
// series.
var promAPIs = []struct {
	api   string
	empty promAnswer
}{
	{PrometheusRemoteRead, promAnswer{status: 200, contentType: promStreamContentType}},
	{PrometheusQuery, promAnswer{status: 200, body: promEmptyMatrix}},
}

// promStreamContentType is the Content-Type of a streamed remote read.
const promStreamContentType = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"

// promReadOnce reads one selector over a minute.
func promReadOnce(ctx context.Context, p *Prometheus) error {
	return p.Read(ctx, []string{"up"}, time.UnixMilli(0), time.UnixMilli(60000), func(labels.Labels, []int64, []float64) error { return nil })
}

func TestPrometheusConfigDecodesFromYAML(t *testing.T) {
	src := `
url: https://mimir.example/prometheus
api: query
bearer_token_file: /run/secrets/token
headers: {X-Scope-OrgID: tenant-1}
tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: mimir, insecure_skip_verify: true}
timeout: 10s
retries: 0
chunk: 1d
`
	cfg := DefaultPrometheusConfig()
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := PrometheusConfig{
		URL:             "https://mimir.example/prometheus",
		API:             PrometheusQuery,
		BearerTokenFile: "/run/secrets/token",
		Headers:         map[string]string{"X-Scope-OrgID": "tenant-1"},
		TLS:             TLSConfig{CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "mimir", InsecureSkipVerify: true},
		Timeout:         model.Duration(10 * time.Second),
		Retries:         0,
		Chunk:           model.Duration(24 * time.Hour),
	}
	if fmt.Sprint(cfg) != fmt.Sprint(want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}

	cfg = DefaultPrometheusConfig()
	if err := yaml.Unmarshal([]byte("url: http://p:9090\nbasic_auth: {username: u, password_file: /p}\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Retries != DefaultPrometheusRetries || cfg.Timeout != model.Duration(DefaultPrometheusTimeout) ||
		cfg.Chunk != 0 || cfg.API != PrometheusAuto || cfg.BasicAuth != (BasicAuth{"u", "/p"}) {
		t.Errorf("defaults lost or basic_auth not read: %+v", cfg)
	}
}

func TestPrometheusConfigValidateNamesTheField(t *testing.T) {
	ok := DefaultPrometheusConfig()
	ok.URL = "http://prometheus:9090"
	for _, tc := range []struct {
		name  string
		edit  func(*PrometheusConfig)
		field string
	}{
		{"a URL is required", func(c *PrometheusConfig) { c.URL = "" }, "url: is required"},
		{"a URL needs a scheme and a host", func(c *PrometheusConfig) { c.URL = "prometheus:9090" }, "url: must be"},
		{"an API that does not exist", func(c *PrometheusConfig) { c.API = "remote-read" }, `api: is "remote-read"; valid: auto, remote_read, query`},
		{"a URL that does not parse hides its password", func(c *PrometheusConfig) { c.URL = "http://u:hunter2@host:port" }, "url: is not a URL"},
		{"a negative timeout", func(c *PrometheusConfig) { c.Timeout = -1 }, "timeout:"},
		{"a chunk under a second", func(c *PrometheusConfig) { c.Chunk = model.Duration(time.Millisecond) }, "chunk: must be at least 1s"},
		{"negative retries", func(c *PrometheusConfig) { c.Retries = -1 }, "retries:"},
		{"bearer and basic together", func(c *PrometheusConfig) {
			c.BearerTokenFile = "/t"
			c.BasicAuth = BasicAuth{"u", "/p"}
		}, "bearer_token_file: and basic_auth are mutually exclusive"},
		{"basic auth without a password", func(c *PrometheusConfig) { c.BasicAuth.Username = "u" }, "basic_auth.password_file: is required"},
		{"basic auth without a user", func(c *PrometheusConfig) { c.BasicAuth.PasswordFile = "/p" }, "basic_auth.username: is required"},
		{"a header name with a space", func(c *PrometheusConfig) { c.Headers = map[string]string{"X Org": "a"} }, "headers.X Org: is not a valid"},
		{"a header value with a line break", func(c *PrometheusConfig) { c.Headers = map[string]string{"X-Org": "a\r\nB: c"} }, "headers.X-Org: has a line break"},
		{"an Authorization header beside a token", func(c *PrometheusConfig) {
			c.BearerTokenFile = "/t"
			c.Headers = map[string]string{"authorization": "x"}
		}, "headers.authorization: conflicts"},
		{"a client certificate without its key", func(c *PrometheusConfig) { c.TLS.CertFile = "/c" }, "tls: cert_file and key_file go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got %v, want an error with %q", err, tc.field)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the URL's password: %v", err)
			}
			if _, err := NewPrometheus(cfg); err == nil {
				t.Errorf("NewPrometheus accepted it")
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

func TestPrometheusSendsCredentialsAndHeaders(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(t *testing.T) PrometheusConfig
		check func(t *testing.T, r *http.Request)
	}{
		{
			"a bearer token from a file, trimmed",
			func(t *testing.T) PrometheusConfig {
				return PrometheusConfig{BearerTokenFile: promWriteFile(t, "token", "  tok-123\n")}
			},
			func(t *testing.T, r *http.Request) {
				if got := r.Header.Get("Authorization"); got != "Bearer tok-123" {
					t.Errorf("Authorization %q", got)
				}
			},
		},
		{
			"basic auth with the password from a file, trimmed",
			func(t *testing.T) PrometheusConfig {
				return PrometheusConfig{BasicAuth: BasicAuth{"burnwatch", promWriteFile(t, "pw", "pa ss\n\n")}}
			},
			func(t *testing.T, r *http.Request) {
				if u, p, ok := r.BasicAuth(); !ok || u != "burnwatch" || p != "pa ss" {
					t.Errorf("basic auth %q %q %v", u, p, ok)
				}
			},
		},
		{
			"a tenant header and a Host override",
			func(t *testing.T) PrometheusConfig {
				return PrometheusConfig{Headers: map[string]string{"X-Scope-OrgID": "tenant-7", "Host": "mimir.internal"}}
			},
			func(t *testing.T, r *http.Request) {
				if got := r.Header.Get("X-Scope-OrgID"); got != "tenant-7" {
					t.Errorf("X-Scope-OrgID %q", got)
				}
				if r.Host != "mimir.internal" {
					t.Errorf("Host %q", r.Host)
				}
				if got := r.Header.Get("Authorization"); got != "" {
					t.Errorf("Authorization %q without credentials", got)
				}
			},
		},
	} {
		for _, api := range promAPIs {
			t.Run(tc.name+" through "+api.api, func(t *testing.T) {
				srv := newPromServer(t, api.empty)
				cfg := tc.cfg(t)
				cfg.URL = srv.URL
				cfg.API = api.api
				p := newTestPrometheus(t, cfg, nil)
				if err := promReadOnce(t.Context(), p); err != nil {
					t.Fatal(err)
				}
				tc.check(t, srv.last())
			})
		}
	}
}

func TestPrometheusReadsARotatedTokenFile(t *testing.T) {
	for _, api := range promAPIs {
		t.Run(api.api, func(t *testing.T) {
			srv := newPromServer(t, api.empty)
			token := promWriteFile(t, "token", "old")
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: api.api, BearerTokenFile: token}, nil)
			if err := promReadOnce(t.Context(), p); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(token, []byte("new\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := promReadOnce(t.Context(), p); err != nil {
				t.Fatal(err)
			}
			if got := srv.last().Header.Get("Authorization"); got != "Bearer new" {
				t.Errorf("Authorization %q, want the rotated token", got)
			}
		})
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
		missing       bool
		cfg           func(path string) PrometheusConfig
		want          string
	}{
		{"an empty token file is an error", "", false,
			func(p string) PrometheusConfig { return PrometheusConfig{BearerTokenFile: p} }, "bearer_token_file: "},
		{"a token file of white space is an error", " \n\t\n", false,
			func(p string) PrometheusConfig { return PrometheusConfig{BearerTokenFile: p} }, "is empty"},
		{"an empty password file is an error", "\n", false,
			func(p string) PrometheusConfig { return PrometheusConfig{BasicAuth: BasicAuth{"u", p}} }, "basic_auth.password_file: "},
		{"a missing token file is an error", "", true,
			func(p string) PrometheusConfig { return PrometheusConfig{BearerTokenFile: p} }, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if !tc.missing {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := tc.cfg(path)
			cfg.URL = "http://127.0.0.1:9"
			_, err := NewPrometheus(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want an error with %q naming the file", err, tc.want)
			}
		})
	}
}

// TestSecretsNeverInErrorsOrLogs fails requests in every way a server can
// and looks for the secrets in the errors and the logs.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const token, password, tenant = "tok-SECRET-1", "pw-SECRET-2", "tenant-SECRET-3"
	secrets := []string{token, password, tenant}
	for _, a := range []promAnswer{
		{status: 401, body: "unauthorized: {auth} for {tenant}"},
		{status: 403, body: `{"status":"error","errorType":"forbidden","error":"no"}`},
		{status: 400, body: `{"status":"error","errorType":"bad_data","error":"parse error"}`},
		{status: 500, body: "internal: {auth} for {tenant}"},
		{status: 429, body: "slow down"},
		{status: 200, body: "not json: {auth} for {tenant}"},
		{status: 200, body: "not a stream: {auth} for {tenant}", contentType: promStreamContentType},
		{status: 400, body: "bad request from {auth} for {tenant}\nsecond line", contentType: "text/plain"},
	} {
		t.Run(fmt.Sprintf("%d %s", a.status, a.body), func(t *testing.T) {
			srv := newPromServer(t, a)
			for _, cfg := range []PrometheusConfig{
				{BearerTokenFile: promWriteFile(t, "token", token), API: PrometheusQuery},
				{BasicAuth: BasicAuth{"user", promWriteFile(t, "pw", password)}, API: PrometheusQuery},
				{BearerTokenFile: promWriteFile(t, "token", token), API: PrometheusRemoteRead},
				{BasicAuth: BasicAuth{"user", promWriteFile(t, "pw", password)}, API: PrometheusRemoteRead},
				{BearerTokenFile: promWriteFile(t, "token", token)},
			} {
				cfg.URL = srv.URL
				cfg.Headers = map[string]string{"X-Scope-OrgID": tenant}
				cfg.Retries = 1
				var logs bytes.Buffer
				p := newTestPrometheus(t, cfg, &logs)
				p.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				s := p.Samples(t.Context(), []string{"up"}, time.UnixMilli(0), time.UnixMilli(60000))
				for s.Next() {
				}
				if s.Err() == nil {
					t.Fatal("no error")
				}
				for _, secret := range secrets {
					if strings.Contains(s.Err().Error(), secret) {
						t.Errorf("the error shows a secret: %v", s.Err())
					}
					if strings.Contains(logs.String(), secret) {
						t.Errorf("the log shows a secret: %s", logs.String())
					}
				}
			}
		})
	}
	for _, api := range promAPIs {
		t.Run("a password in the URL, through "+api.api, func(t *testing.T) {
			var logs bytes.Buffer
			p := newTestPrometheus(t, PrometheusConfig{URL: "http://user:" + password + "@" + promClosedAddr(t), API: api.api, Retries: 1}, &logs)
			err := promReadOnce(t.Context(), p)
			if err == nil || strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) || strings.Contains(p.String(), password) {
				t.Errorf("error %v\nlogs %s", err, logs.String())
			}
		})
		t.Run("a password in the URL echoed, through "+api.api, func(t *testing.T) {
			srv := newPromServer(t, promAnswer{status: 500, body: "internal: {auth}"})
			var logs bytes.Buffer
			u := strings.Replace(srv.URL, "http://", "http://user:"+password+"@", 1)
			p := newTestPrometheus(t, PrometheusConfig{URL: u, API: api.api, Retries: 1}, &logs)
			p.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			err := promReadOnce(t.Context(), p)
			if err == nil || strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) {
				t.Errorf("error %v\nlogs %s", err, logs.String())
			}
		})
	}
}

// promClosedAddr returns a loopback address nothing listens on.
func promClosedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestRetries(t *testing.T) {
	bad := func(status int, typ, msg string) promAnswer {
		return promAnswer{status: status, body: fmt.Sprintf(`{"status":"error","errorType":%q,"error":%q}`, typ, msg)}
	}
	for _, api := range promAPIs {
		ok := api.empty
		for _, tc := range []struct {
			name     string
			answers  []promAnswer
			requests int
			fails    bool
		}{
			{"a 500 is tried again", []promAnswer{{status: 500, body: "oops"}, ok}, 2, false},
			{"a 502 from a proxy is tried again", []promAnswer{{status: 502, body: "<html>bad gateway</html>"}, ok}, 2, false},
			{"a 503 query timeout is tried again", []promAnswer{bad(503, "timeout", "query timed out"), ok}, 2, false},
			{"a 429 is tried again", []promAnswer{{status: 429, body: "slow down", header: http.Header{"Retry-After": {"0"}}}, ok}, 2, false},
			{"a 400 bad query is not", []promAnswer{bad(400, "bad_data", "parse error"), ok}, 1, true},
			{"a 422 execution error is not", []promAnswer{bad(422, "execution", "too many samples"), ok}, 1, true},
			{"a 401 is not", []promAnswer{{status: 401, body: "who are you"}, ok}, 1, true},
			{"a 404 is not", []promAnswer{{status: 404, body: "no such path"}, ok}, 1, true},
			{"retries run out", []promAnswer{{status: 500, body: "oops"}}, 4, true},
		} {
			t.Run(tc.name+" through "+api.api, func(t *testing.T) {
				srv := newPromServer(t, tc.answers...)
				p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: api.api, Retries: 3}, nil)
				err := promReadOnce(t.Context(), p)
				if (err != nil) != tc.fails {
					t.Errorf("err = %v, want failure %v", err, tc.fails)
				}
				if got := srv.count(); got != tc.requests {
					t.Errorf("%d requests, want %d", got, tc.requests)
				}
				if err != nil && !strings.Contains(err.Error(), srv.URL) {
					t.Errorf("the error %q does not name the server", err)
				}
			})
		}
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	for _, api := range []string{PrometheusAuto, PrometheusRemoteRead, PrometheusQuery} {
		t.Run(api, func(t *testing.T) {
			var logs bytes.Buffer
			p := newTestPrometheus(t, PrometheusConfig{URL: "http://" + promClosedAddr(t), API: api, Retries: 2}, &logs)
			err := promReadOnce(t.Context(), p)
			if err == nil || !strings.Contains(err.Error(), "3 tries") {
				t.Errorf("got %v, want a failure after 3 tries", err)
			}
			if n := strings.Count(logs.String(), "retrying"); n != 2 {
				t.Errorf("%d retries logged, want 2:\n%s", n, logs.String())
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   bool
	}{
		{"no answer at all", errors.New("connection refused"), 0, true},
		{"a timeout before the answer", context.DeadlineExceeded, 0, true},
		{"a 500", &v1.Error{Type: v1.ErrServer}, 500, true},
		{"a 503", &v1.Error{Type: v1.ErrTimeout}, 503, true},
		{"a 429", &v1.Error{Type: v1.ErrClient}, 429, true},
		{"a 400", &v1.Error{Type: v1.ErrBadData}, 400, false},
		{"a 403", &v1.Error{Type: v1.ErrClient}, 403, false},
		{"a 200 that is not JSON", &v1.Error{Type: v1.ErrBadResponse}, 200, false},
		{"a server error with no status recorded", &v1.Error{Type: v1.ErrServer}, 0, true},
		{"a remote read cut short", fmt.Errorf("reading frame 3: %w", io.ErrUnexpectedEOF), 200, true},
		{"a remote read answered 400", &promHTTPError{status: "400 Bad Request"}, 400, false},
		{"a remote read answered 503", &promHTTPError{status: "503 Service Unavailable"}, 503, true},
		{"a remote read that cannot be decoded", &promBadAnswer{errors.New("bad snappy")}, 200, false},
		{"a server without remote read", &promNoRemoteRead{"501 Not Implemented"}, 501, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := promRetryable(tc.err, tc.status); got != tc.want {
				t.Errorf("promRetryable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCancelStopsTheBackoff(t *testing.T) {
	for _, api := range promAPIs {
		t.Run(api.api, func(t *testing.T) {
			srv := newPromServer(t, promAnswer{status: 500, body: "oops"})
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: api.api, Retries: 5}, nil)
			p.backoff = time.Minute
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			err := promReadOnce(ctx, p)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want the context's error", err)
			}
			if n := srv.count(); n != 1 {
				t.Errorf("%d requests, want 1: the wait is a minute", n)
			}
		})
	}
}

func TestABadSelectorIsNotSent(t *testing.T) {
	srv := newPromServer(t, promAnswer{status: 200, body: promEmptyMatrix})
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	s := p.Samples(t.Context(), []string{"up", "rate(up[5m])"}, time.UnixMilli(0), time.UnixMilli(60000))
	if s.Next() || s.Err() == nil || !strings.Contains(s.Err().Error(), `selector "rate(up[5m])"`) {
		t.Errorf("got %v, want an error naming the selector", s.Err())
	}
	if srv.count() != 0 {
		t.Errorf("%d requests sent", srv.count())
	}
}

// TestRangeReadQuery checks the query sent for a range: evaluated at the
// end rounded up to a second, over whole seconds that reach the start.
func TestRangeReadQuery(t *testing.T) {
	srv := newPromServer(t, promAnswer{status: 200, body: `{"status":"success","data":{"resultType":"matrix","result":[
		{"metric":{"__name__":"up","job":"a"},"values":[[1000,"1"],[1000.5,"2"],[1001,"3"],[1061.5,"4"],[1061.6,"5"]]}]}}`})
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	m, err := p.rangeRead(t.Context(), "up", 1000_000, 1061_500)
	if err != nil {
		t.Fatal(err)
	}
	r := srv.last()
	if q, at := r.Form.Get("query"), r.Form.Get("time"); q != "up[1m2s]" || at != "1062" {
		t.Errorf("query %q at %q, want up[1m2s] at 1062", q, at)
	}
	var got []string
	for _, s := range m[0].Values {
		got = append(got, s.String())
	}
	if want := "[2 @[1000.5] 3 @[1001] 4 @[1061.5]]"; fmt.Sprint(got) != want {
		t.Errorf("samples %v, want %s: (from, to] only", got, want)
	}
}

func TestPromSamplesErrorfNamesSeriesAndTime(t *testing.T) {
	p := &Prometheus{name: "http://prom:9090"}
	s := &PromSamples{p: p, run: promRun{lset: labels.FromStrings("__name__", "q_total", "db", "a"), ts: []int64{1793836800000}, vs: []float64{1}}}
	err := s.Errorf("counter went %s", "backwards")
	want := `http://prom:9090: {__name__="q_total", db="a"} at 2026-11-05T00:00:00Z: counter went backwards`
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
}
