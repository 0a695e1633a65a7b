package service

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestExportOverHTTP: GET /api/v1/export streams each format with its
// content type, and refuses a bad query before writing anything.
func TestExportOverHTTP(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	runIncident(t, ts)
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	get := func(q string) (int, string, string) {
		t.Helper()
		resp, err := boundedClient.Get(srv.URL + "/api/v1/export?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	window := "from=2026-11-05T11:00:00Z&to=2026-11-05T11:20:00Z&margin=5m"
	for _, c := range []struct {
		name, query       string
		status            int
		ctype, wantInBody string
	}{
		{"json by default", window, 200, "application/json", `"labels":{"database":"db-1"}`},
		{"the minutes as csv", window + "&format=csv", 200, "text/csv; charset=utf-8", "slo,labels,time,valid,bad,burn_5m"},
		{"the timeline as csv", window + "&format=csv&table=timeline", 200, "text/csv; charset=utf-8", "time,event,alert,slo,severity,labels,receiver,detail\n2026-11-05T11:01:00Z,fired,burn-rate"},
		{"markdown for the postmortem", window + "&format=md", 200, "text/markdown; charset=utf-8", "## Impact"},
		{"one database", window + "&match=database=db-2&all=true", 200, "application/json", `"database":"db-2"`},
		{"no window", "format=json", 400, "application/json", "from is missing"},
		{"a window backwards", "from=2026-11-05T11:20:00Z&to=2026-11-05T11:00:00Z", 400, "application/json", "is not after"},
		{"a bad margin", "from=2026-11-05T11:00:00Z&to=2026-11-05T11:20:00Z&margin=soon", 400, "application/json", `margin \"soon\"`},
		{"a bad format", window + "&format=xml", 400, "application/json", "not an export format"},
		{"longer than the history kept", "from=2026-01-01T00:00:00Z&to=2026-11-05T00:00:00Z", 400, "application/json", "more than the"},
		{"an SLO that is not", window + "&slo=nope", 404, "application/json", `no SLO is named \"nope\"`},
		// The span overflowed time.Duration, passed the check and held the
		// only export slot for minutes.
		{"a span of millennia, longer than time.Duration holds", "from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z", 400, "application/json", "span more than the 38d of history kept"},
		{"a margin of centuries", "from=2026-11-05T11:00:00Z&to=2026-11-05T11:20:00Z&margin=200y", 400, "application/json", "span more than the 38d"},
		{"margins that overflow when doubled", "from=2026-11-05T11:00:00Z&to=2026-11-05T11:20:00Z&margin=150y", 400, "application/json", "span more than the 38d"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, ctype, body := get(c.query)
			if status != c.status || ctype != c.ctype || !strings.Contains(body, c.wantInBody) {
				t.Errorf("%d %s, want %d %s with %q in:\n%.400s", status, ctype, c.status, c.ctype, c.wantInBody, body)
			}
		})
	}
}
