package service

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

const linkedConfig = `
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [database]
    alerting:
      policy: workbook
      page: {playbook: database-unavailable}
      ticket: {playbook: error-budget-slow-burn}
playbooks: {base_url: "https://burnwatch.example"}
dashboard_url: "https://grafana.example/d/db?var-database={{.database}}"
receivers:
  - name: pager
    console: {}
routes:
  - receiver: pager
`

// TestAPageLinksItsInstancesPlaybookAndTheAPICarriesWhatItSays: db-b's
// page links the playbook with its labels, the playbook served there has
// db-b in its commands, and /api/v1/alerts says what the page said: the
// same summary (made by the same enrichment, at the same minute), burn
// rates, budget left and links.
func TestAPageLinksItsInstancesPlaybookAndTheAPICarriesWhatItSays(t *testing.T) {
	pager := &fakePager{}
	ts := &testService{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	writeConfig(t, ts.dir, linkedConfig)
	ts.receivers = map[string]notify.Receiver{"pager": pager}
	ts.open()
	defer ts.Close()
	for i := range 21 {
		failed := 0
		if i == 20 {
			failed = 1000
		}
		ts.minute("db-b", 1000, failed)
		if err := ts.Deliver(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	var page *notify.Notification
	for i := range pager.got {
		if pager.got[i].Severity == "page" {
			page = &pager.got[i]
		}
	}
	if page == nil {
		t.Fatalf("no page: %s", pager.states())
	}
	const link = "https://burnwatch.example/playbooks/database-unavailable?database=db-b"
	if page.PlaybookURL != link {
		t.Errorf("the page links %q, want %q", page.PlaybookURL, link)
	}

	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	get := func(path string) string {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b)
	}
	if body := get(strings.TrimPrefix(link, "https://burnwatch.example")); !strings.Contains(body, "DB=db-b ") || strings.Contains(body, "{{database}}") {
		t.Errorf("the linked playbook does not have db-b in its commands")
	}

	var list struct{ Alerts []AlertStatus }
	if err := json.Unmarshal([]byte(get("/api/v1/alerts")), &list); err != nil {
		t.Fatal(err)
	}
	var api *AlertStatus
	for i := range list.Alerts {
		if list.Alerts[i].Severity == "page" {
			api = &list.Alerts[i]
		}
	}
	if api == nil {
		t.Fatalf("no page in /api/v1/alerts: %+v", list.Alerts)
	}
	if api.Summary != page.Summary {
		t.Errorf("the API's summary\n%q\nthe page's\n%q", api.Summary, page.Summary)
	}
	for _, r := range page.BurnRates {
		if got, ok := api.BurnRates[r.Window]; !ok || got != r.Rate {
			t.Errorf("the API's %s burn %v, the page's %v", r.Window, got, r.Rate)
		}
	}
	if len(api.BurnRates) != len(page.BurnRates) {
		t.Errorf("the API's burn rates %v, the page's %v", api.BurnRates, page.BurnRates)
	}
	if api.BudgetRemaining == nil || *api.BudgetRemaining != page.BudgetRemaining {
		t.Errorf("the API's budget left %v, the page's %v", api.BudgetRemaining, page.BudgetRemaining)
	}
	if api.Playbook != "database-unavailable" || api.PlaybookURL != link || api.DashboardURL != "https://grafana.example/d/db?var-database=db-b" || api.DashboardURL != page.DashboardURL {
		t.Errorf("the API's links: playbook %q %q, dashboard %q (the page's %q)", api.Playbook, api.PlaybookURL, api.DashboardURL, page.DashboardURL)
	}
	if len(api.Codes) != 1 || api.Codes[0].Code != "Neo.DatabaseError.General.UnknownError" || api.Codes[0].Count != 1000 {
		t.Errorf("the API's codes %+v", api.Codes)
	}
}
