package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestServePagesThroughPagerDuty wires the config's PagerDuty receiver to
// a fake of the Events API v2: an outage makes one trigger and one resolve
// per alert, with the same dedup key, also across a restart in between.
func TestServePagesThroughPagerDuty(t *testing.T) {
	var (
		mu     sync.Mutex
		events []map[string]any
	)
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if r.URL.Path != "/v2/enqueue" || json.NewDecoder(r.Body).Decode(&ev) != nil {
			http.Error(w, `{"status":"invalid event"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	}))
	defer pd.Close()
	dir := t.TempDir()
	key := filepath.Join(dir, "pd.key")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	ts := &testService{t: t, dir: dir}
	ts.clock = ts.clockStart()
	writeConfig(t, dir, eventsConfig+fmt.Sprintf(`
    alerting:
      page: {playbook: database-unavailable}
receivers:
  - name: oncall
    pagerduty: {routing_key_file: %q, endpoint: %q}
routes:
  - match: {severity: page}
    receiver: oncall
playbooks: {base_url: "https://burnwatch.example"}
`, key, pd.URL))
	ts.open()
	deliver := func() {
		if err := ts.Deliver(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 {
		failed := 0
		if i >= 20 {
			failed = 1000
		}
		ts.minute("db-1", 1000, failed)
		deliver()
	}
	ts.Close() // mid-incident
	ts.open()
	defer ts.Close()
	for range 40 {
		ts.minute("db-1", 1000, 0)
		deliver()
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, ev := range events {
		got = append(got, fmt.Sprint(ev["event_action"], " ", ev["dedup_key"]))
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "trigger ") || !strings.HasPrefix(got[1], "resolve ") ||
		strings.TrimPrefix(got[0], "trigger ") != strings.TrimPrefix(got[1], "resolve ") {
		t.Fatalf("PagerDuty got %q; want one trigger and one resolve with one dedup key", got)
	}
	p := events[0]["payload"].(map[string]any)
	links, _ := events[0]["links"].([]any)
	if p["severity"] != "critical" || p["group"] != "cypher-availability" || !strings.Contains(fmt.Sprint(links), "https://burnwatch.example/playbooks/database-unavailable") {
		t.Errorf("trigger payload %v, links %v", p, links)
	}
}
