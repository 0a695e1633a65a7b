package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

func TestSilenceThroughTheAPIHoldsThePage(t *testing.T) {
	pager := &fakePager{}
	ts := newPagedService(t, pager)
	defer ts.Close()
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()

	post := func(body string) (*http.Response, map[string]any) {
		resp, err := http.Post(srv.URL+"/api/v1/silences", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	// Refused with every problem named.
	resp, m := post(`{"matchers":[],"end":"2026-11-05T09:00:00Z"}`)
	if resp.StatusCode != http.StatusBadRequest || m["errors"] == nil {
		t.Fatalf("a bad silence: %d %v", resp.StatusCode, m)
	}
	end := ts.clock.Add(2 * time.Hour).Format(time.RFC3339)
	resp, m = post(fmt.Sprintf(`{"matchers":[{"name":"database","value":"db-1"}],"end":%q,"author":"ana","comment":"migrating db-1"}`, end))
	if resp.StatusCode != http.StatusCreated || m["id"] == "" {
		t.Fatalf("adding a silence: %d %v", resp.StatusCode, m)
	}
	id := m["id"].(string)

	outage(ts)
	if len(pager.got) != 0 {
		t.Errorf("a silenced outage paged: %s", pager.states())
	}
	counts, _ := ts.Store().OutboxCounts(context.Background())
	if counts["silenced"] != 2 || counts["skipped"] != 1 || counts["sent"] != 0 {
		t.Errorf("outbox %v: want the two triggers silenced and the resolve skipped", counts)
	}
	// The silence survives a restart, then can be deleted.
	ts.Close()
	ts.open()
	srv.Config.Handler = ts.Handler()
	r, _ := http.Get(srv.URL + "/api/v1/silences")
	var list struct{ Silences []map[string]any }
	json.NewDecoder(r.Body).Decode(&list)
	r.Body.Close()
	if len(list.Silences) != 1 || list.Silences[0]["id"] != id {
		t.Fatalf("after a restart the silences are %v", list.Silences)
	}
	for _, want := range []int{http.StatusNoContent, http.StatusNotFound} {
		req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/v1/silences/"+id, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("DELETE: %d, want %d", resp.StatusCode, want)
		}
	}
}

func TestMaintenanceWindowPagesNoOneAndLeavesTheBudget(t *testing.T) {
	run := func(maintenance string) (*fakePager, EventCounts, float64) {
		pager := &fakePager{}
		ts := &testService{t: t, dir: t.TempDir()}
		ts.clock = ts.clockStart()
		writeConfig(t, ts.dir, pagerConfig+maintenance)
		ts.receivers = map[string]notify.Receiver{"pager": pager}
		ts.open()
		defer ts.Close()
		outage(ts)
		d, _ := ts.SLO("cypher-availability")
		return pager, d.All[0].Events, d.All[0].BudgetRemaining
	}
	// The outage's three failing minutes are 10:20 to 10:23.
	plain, plainEvents, plainBudget := run("")
	window, windowEvents, windowBudget := run(`
maintenance:
  - name: db-1-upgrade
    matchers: [{name: database, value: db-1}]
    start: 2026-11-05T10:15:00Z
    end: 2026-11-05T10:30:00Z
    exclude_from_budget: true
`)
	if len(plain.got) == 0 {
		t.Fatal("the outage paged no one even without a window")
	}
	// A window that keeps the budget: the alerts fire inside it and are
	// held; the page, still burning when the window closes at 10:30, goes
	// out then.
	held, heldEvents, _ := run(`
maintenance:
  - name: db-1-upgrade
    matchers: [{name: database, value: db-1}]
    start: 2026-11-05T10:15:00Z
    end: 2026-11-05T10:30:00Z
`)
	if got := held.states(); got != "page firing, ticket firing, page resolved" || heldEvents != plainEvents {
		t.Errorf("a window without exclusion delivered %q and counted %+v", got, heldEvents)
	}
	if len(window.got) != 0 {
		t.Errorf("inside a maintenance window it paged: %s", window.states())
	}
	// The window's 3,000 failures left the budget, and nothing else did.
	if windowEvents.Platform != plainEvents.Platform-3000 || windowEvents.Ignore != plainEvents.Ignore+3000 || windowEvents.Total != plainEvents.Total {
		t.Errorf("events with the window %+v, without %+v", windowEvents, plainEvents)
	}
	valid := plainEvents.Total - plainEvents.User - plainEvents.Ignore
	want := 1 - float64(plainEvents.Platform-3000)/(0.001*float64(valid-3000))
	if windowBudget != want || plainBudget >= windowBudget {
		t.Errorf("budget remaining %v with the window, %v without; want %v with", windowBudget, plainBudget, want)
	}
}

func TestAlertStillFiringWhenItsSilenceEndsIsPaged(t *testing.T) {
	pager := &fakePager{}
	ts := &testService{t: t, dir: t.TempDir()}
	ts.clock = ts.clockStart()
	// Silenced from 10:15 to 10:22; the outage fails 10:20 to 10:23 and
	// the page fires inside the silence, then goes on firing after it.
	writeConfig(t, ts.dir, pagerConfig+`
silences:
  - id: db-1-work
    matchers: [{name: database, value: db-1}]
    start: 2026-11-05T10:15:00Z
    end: 2026-11-05T10:22:00Z
    author: ana
    comment: planned work on db-1
`)
	ts.receivers = map[string]notify.Receiver{"pager": pager}
	ts.open()
	defer ts.Close()
	outage(ts)
	if got, want := pager.states(), "page firing, ticket firing, page resolved"; got != want {
		t.Errorf("delivered %q, want %q: paged once the silence ended, then resolved", got, want)
	}
	if len(pager.got) > 0 && pager.got[0].Time.After(ts.clockStart().Add(23*time.Minute)) {
		t.Errorf("the held page went out for a transition at %v", pager.got[0].Time)
	}
}
