package playbooks

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func get(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func defaultServer(t *testing.T) *httptest.Server {
	t.Helper()
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(s))
	t.Cleanup(srv.Close)
	return srv
}

func TestHandlerServesAPlaybook(t *testing.T) {
	srv := defaultServer(t)
	resp, body := get(t, srv, http.MethodGet, "/playbooks/database-unavailable")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(body, "<h1 id=\"a-tenant-database-is-failing-its-queries\">A tenant database is failing its queries</h1>") {
		t.Error("the page lacks its title")
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestHandlerSaysWhatToDoAboutAnUnknownPlaybook(t *testing.T) {
	srv := defaultServer(t)
	resp, body := get(t, srv, http.MethodGet, "/playbooks/database-unavailble")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		"No playbook named <code>database-unavailble</code>",
		`Did you mean <a href="./database-unavailable">`,
		"<code>database-unavailble.md</code>", "playbooks.dir",
		`<a href="./leader-election-churn">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("404 page lacks %q", want)
		}
	}
}

func TestHandlerEscapesTheUnknownID(t *testing.T) {
	srv := defaultServer(t)
	_, body := get(t, srv, http.MethodGet, "/playbooks/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if strings.Contains(body, "<script>") {
		t.Error("the id was not escaped")
	}
}

func TestHandlerServesAnIndex(t *testing.T) {
	srv := defaultServer(t)
	resp, body := get(t, srv, http.MethodGet, "/playbooks/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	s, _ := Default()
	for _, id := range s.IDs() {
		if !strings.Contains(body, `<a href="./`+id+`">`) {
			t.Errorf("index lacks %s", id)
		}
	}
}

func TestHandlerServesTheMarkdown(t *testing.T) {
	srv := defaultServer(t)
	resp, body := get(t, srv, http.MethodGet, "/playbooks/burnwatch-no-data.md")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/markdown") {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "# burnwatch is getting no data") {
		t.Errorf("body starts %.40q", body)
	}
}

func TestHandlerMethods(t *testing.T) {
	srv := defaultServer(t)
	if resp, body := get(t, srv, http.MethodHead, "/playbooks/database-unavailable"); resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, srv, http.MethodPost, "/playbooks/database-unavailable"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
	if resp, _ := get(t, srv, http.MethodGet, "/playbooks/a/b"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a deeper path: %d, want 404", resp.StatusCode)
	}
}

func TestHandlerServesConcurrently(t *testing.T) {
	srv := defaultServer(t)
	var wg sync.WaitGroup
	for _, path := range []string{"/playbooks/", "/playbooks/database-unavailable", "/playbooks/nope", "/playbooks/user-fault-surge.md"} {
		for range 4 {
			wg.Go(func() {
				resp, err := srv.Client().Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
	}
	wg.Wait()
}
