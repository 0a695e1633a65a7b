package service

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// accessTest is a service on a loopback server, its handler unwrapped:
// no credentials are added to what a test sends.
type accessTest struct {
	*testService
	srv   *httptest.Server
	token string // the file's token at the start
	file  string
}

func newAccessTest(t *testing.T, extra string, o func(*Options)) *accessTest {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "api-token")
	if err := os.WriteFile(file, []byte("first-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := &testService{t: t, dir: dir, clock: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	// extra goes on inside the api mapping, or after it.
	writeConfig(t, dir, eventsConfig+fmt.Sprintf("api:\n  token_files: [%q]\n", file)+extra)
	ts.open()
	if o != nil {
		o(&ts.o)
	}
	at := &accessTest{testService: ts, token: "first-token", file: file}
	at.srv = httptest.NewServer(ts.Service.Handler())
	t.Cleanup(func() { at.srv.Close(); ts.Close() })
	return at
}

func (at *accessTest) send(method, path string, header http.Header, body string) apiResponse {
	at.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, at.srv.URL+path, rd)
	if err != nil {
		at.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		at.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (at *accessTest) silence() string {
	end := at.clock.Add(time.Hour).Format(time.RFC3339)
	return fmt.Sprintf(`{"matchers":[{"name":"database","value":"db-1"}],"end":%q,"author":"ana","comment":"CHG-1"}`, end)
}

func withJSON(h http.Header) http.Header {
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return h
}

// TestEveryChangeAndEveryTenantReadNeedsCredentials: without them, no
// silence is made or deleted, no config reloaded, and no tenant's names,
// codes, reports or exports are read; health, metrics and playbooks stay
// open, as Prometheus leaves its own when no basic auth is configured.
func TestEveryChangeAndEveryTenantReadNeedsCredentials(t *testing.T) {
	at := newAccessTest(t, "", func(o *Options) { o.EnableLifecycle = true })
	for _, tc := range []struct {
		method, path, body string
	}{
		{http.MethodPost, "/api/v1/silences", at.silence()},
		{http.MethodDelete, "/api/v1/silences/abc", ""},
		{http.MethodPost, "/-/reload", ""},
		{http.MethodGet, "/api/v1/slos", ""},
		{http.MethodGet, "/api/v1/slos/cypher-availability", ""},
		{http.MethodGet, "/api/v1/alerts", ""},
		{http.MethodGet, "/api/v1/silences", ""},
		{http.MethodGet, "/api/v1/silences/abc", ""},
		{http.MethodGet, "/api/v1/report", ""},
		{http.MethodGet, "/api/v1/export?from=2026-11-05T09:00:00Z&to=2026-11-05T10:00:00Z", ""},
		{http.MethodGet, "/debug/pprof/", ""},
		{http.MethodGet, "/api/v1/../api/v1/slos", ""},
	} {
		for name, h := range map[string]http.Header{
			"no credentials":      nil,
			"a wrong token":       {"Authorization": {"Bearer guess"}},
			"the token as Basic":  {"Authorization": {"Basic first-token"}},
			"a token's prefix":    {"Authorization": {"Bearer first"}},
			"basic auth unconfig": {"Authorization": {"Basic YW5hOnB3"}},
		} {
			r := at.send(tc.method, tc.path, withJSON(h), tc.body)
			if r.status != http.StatusUnauthorized && !(strings.Contains(tc.path, "..") && r.status == http.StatusMovedPermanently) {
				t.Errorf("%s %s with %s: %d %s, want 401", tc.method, tc.path, name, r.status, r.body)
			}
		}
	}
	if n := len(at.silenceSet().List(at.clock)); n != 0 {
		t.Errorf("%d silences were made without credentials", n)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/playbooks/", "/playbooks/database-unavailable"} {
		if r := at.send(http.MethodGet, path, nil, ""); r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
			t.Errorf("GET %s: %d; want it open", path, r.status)
		}
	}
	// Events keep their own token.
	r := at.send(http.MethodPost, "/api/v1/events", http.Header{"Authorization": {"Bearer first-token"}}, "{}")
	if r.status != http.StatusUnauthorized {
		t.Errorf("events with the API's token: %d, want 401: events take the events token", r.status)
	}
}

// TestATokenOfTheTokenFilesIsReadAtEachRequest: an API client with a token
// of api.token_files reads and changes; a token rotated in its file works
// at once, and the old one no longer does.
func TestATokenOfTheTokenFilesIsReadAtEachRequest(t *testing.T) {
	at := newAccessTest(t, "", func(o *Options) { o.EnableLifecycle = true })
	auth := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	if r := at.send(http.MethodGet, "/api/v1/slos", auth(at.token), ""); r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/slos with the token: %d %s", r.status, r.body)
	}
	if r := at.send(http.MethodPost, "/api/v1/silences", withJSON(auth(at.token)), at.silence()); r.status != http.StatusCreated {
		t.Fatalf("POST a silence with the token: %d %s", r.status, r.body)
	}
	if r := at.send(http.MethodPost, "/-/reload", auth(at.token), ""); r.status != http.StatusOK {
		t.Fatalf("POST /-/reload with the token and --web.enable-lifecycle: %d %s", r.status, r.body)
	}
	if err := os.WriteFile(at.file, []byte("second-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := at.send(http.MethodGet, "/api/v1/alerts", auth("second-token"), ""); r.status != http.StatusOK {
		t.Errorf("the rotated token: %d %s", r.status, r.body)
	}
	if r := at.send(http.MethodGet, "/api/v1/alerts", auth(at.token), ""); r.status != http.StatusUnauthorized {
		t.Errorf("the token rotated out: %d, want 401", r.status)
	}
}

// TestWithoutTokenFilesTheServiceMakesOne: a config without token_files
// gets a token in the storage directory, 0600, which then authenticates.
func TestWithoutTokenFilesTheServiceMakesOne(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	if err := ts.EnsureTokens(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(ts.APITokenFile())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the API token file: %v, %v; want one of mode 0600", fi, err)
	}
	tok, _ := readToken(ts.APITokenFile())
	srv := httptest.NewServer(ts.Service.Handler())
	defer srv.Close()
	for tok, want := range map[string]int{tok: http.StatusOK, "": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/slos", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", tok, resp.StatusCode, want)
		}
	}
}

// TestAnonymousReadsOpenReadsOnly: with api.anonymous_reads, anyone reads
// the API; changing anything still needs credentials.
func TestAnonymousReadsOpenReadsOnly(t *testing.T) {
	at := newAccessTest(t, "  anonymous_reads: true\n", nil)
	for _, path := range []string{"/api/v1/slos", "/api/v1/alerts", "/api/v1/silences"} {
		if r := at.send(http.MethodGet, path, nil, ""); r.status != http.StatusOK {
			t.Errorf("GET %s without credentials: %d %s", path, r.status, r.body)
		}
	}
	if r := at.send(http.MethodPost, "/api/v1/silences", withJSON(nil), at.silence()); r.status != http.StatusUnauthorized {
		t.Errorf("POST a silence without credentials: %d, want 401", r.status)
	}
}

// TestAnotherSiteCannotChangeState: a page on another site can make a
// logged-in browser send a form (text/plain, so without asking first);
// such a request is refused whatever credentials it carries: 403 for a
// foreign Origin or Sec-Fetch-Site, 415 for a body that does not say
// application/json.
func TestAnotherSiteCannotChangeState(t *testing.T) {
	at := newAccessTest(t, "", func(o *Options) { o.EnableLifecycle = true })
	auth := http.Header{"Authorization": {"Bearer " + at.token}}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header http.Header
		body   string
		want   int
	}{
		{"a silence posted from another origin", http.MethodPost, "/api/v1/silences", withJSON(auth), at.silence(), http.StatusForbidden},
		{"a silence a browser says is cross-site", http.MethodPost, "/api/v1/silences", withJSON(auth), at.silence(), http.StatusForbidden},
		{"a silence deleted from another origin", http.MethodDelete, "/api/v1/silences/x", auth, "", http.StatusForbidden},
		{"a reload from another origin", http.MethodPost, "/-/reload", auth, "", http.StatusForbidden},
		{"events from another origin", http.MethodPost, "/api/v1/events", nil, "{}", http.StatusForbidden},
		{"a silence as a text/plain form", http.MethodPost, "/api/v1/silences", auth, at.silence(), http.StatusUnsupportedMediaType},
		{"a silence without a Content-Type", http.MethodPost, "/api/v1/silences", auth, at.silence(), http.StatusUnsupportedMediaType},
		{"events as a text/plain form", http.MethodPost, "/api/v1/events", nil, "{}", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			switch {
			case strings.Contains(tc.name, "another origin"):
				h.Set("Origin", "https://evil.example")
			case strings.Contains(tc.name, "cross-site"):
				h.Set("Sec-Fetch-Site", "cross-site")
			case strings.Contains(tc.name, "text/plain"):
				h.Set("Content-Type", "text/plain")
			}
			if strings.HasPrefix(tc.path, "/api/v1/events") {
				tok, _ := at.eventsToken()
				h.Set("Authorization", "Bearer "+tok)
			}
			r := at.send(tc.method, tc.path, h, tc.body)
			if r.status != tc.want {
				t.Errorf("%d %s, want %d", r.status, r.body, tc.want)
			}
		})
	}
	if n := len(at.silenceSet().List(at.clock)); n != 0 {
		t.Errorf("%d silences were made", n)
	}
	// From its own origin, as its own page would send it, it goes through.
	h := withJSON(auth)
	h.Set("Origin", at.srv.URL)
	h.Set("Sec-Fetch-Site", "same-origin")
	if r := at.send(http.MethodPost, "/api/v1/silences", h, at.silence()); r.status != http.StatusCreated {
		t.Errorf("a silence from the service's own origin: %d %s", r.status, r.body)
	}
}

// TestReloadOverHTTPIsOffWithoutTheLifecycleFlag: as in Prometheus,
// POST /-/reload answers 403 unless serve runs with
// --web.enable-lifecycle, credentials or not.
func TestReloadOverHTTPIsOffWithoutTheLifecycleFlag(t *testing.T) {
	at := newAccessTest(t, "", nil)
	r := at.send(http.MethodPost, "/-/reload", http.Header{"Authorization": {"Bearer " + at.token}}, "")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "--web.enable-lifecycle") {
		t.Errorf("reload: %d %s; want 403 naming --web.enable-lifecycle", r.status, r.body)
	}
}
