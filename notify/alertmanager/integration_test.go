package alertmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/amtest"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/alertmanager"
)

// TestRealAlertmanagerRoutesTheAlertAndItsResolve posts a page and its
// resolve to a real Alertmanager (Debian's prometheus-alertmanager) whose
// only route is a webhook of the test's: the page must arrive there with
// its labels and runbook link, then the resolve.
func TestRealAlertmanagerRoutesTheAlertAndItsResolve(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Alertmanager")
	}
	start := time.Now()
	hook, messages := amtest.Webhook(t)
	url := amtest.Start(t, hook)
	t.Logf("alertmanager ready at %s after %s", url, time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := alertmanager.New("am", alertmanager.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	n := page()
	n.Onset = time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	n.Time = n.Onset
	if retry, err := r.Notify(ctx, n); err != nil {
		t.Fatalf("posting the page: retry %v, %v", retry, err)
	}
	fired := receive(ctx, t, messages, "firing")
	a := fired.Alerts[0]
	for k, want := range map[string]string{
		"alertname":          "burnwatch:burn-rate",
		"slo":                "cypher-availability",
		"severity":           "critical",
		"database":           "db-2",
		"orchestra":          "eu-1",
		"burnwatch_alert_id": n.AlertID,
	} {
		if a.Labels[k] != want {
			t.Errorf("label %s = %q, want %q (labels %v)", k, a.Labels[k], want, a.Labels)
		}
	}
	if a.Annotations["runbook_url"] != n.PlaybookURL || a.Annotations["summary"] != n.Summary || a.Annotations["dashboard"] != n.DashboardURL {
		t.Errorf("annotations %v, want runbook_url %q, summary and dashboard", a.Annotations, n.PlaybookURL)
	}
	if !a.StartsAt.Equal(n.Onset) {
		t.Errorf("startsAt %s, want the onset %s", a.StartsAt, n.Onset)
	}
	if a.GeneratorURL != n.DashboardURL {
		t.Errorf("generatorURL %q, want %q", a.GeneratorURL, n.DashboardURL)
	}

	// Re-posting while it fires, as the caller does every Resend, must not
	// notify again.
	if _, err := r.Notify(ctx, n); err != nil {
		t.Fatalf("re-posting the page: %v", err)
	}
	n.State, n.Time = "resolved", time.Now()
	if retry, err := r.Notify(ctx, n); err != nil {
		t.Fatalf("posting the resolve: retry %v, %v", retry, err)
	}
	resolved := receive(ctx, t, messages, "resolved")
	if got := resolved.Alerts[0]; got.Status != "resolved" || got.Labels["burnwatch_alert_id"] != n.AlertID || got.Annotations["runbook_url"] != n.PlaybookURL {
		t.Errorf("resolved alert %+v, want status resolved for %s with its runbook_url", got, n.AlertID)
	}
	t.Logf("page and resolve routed in %s", time.Since(start).Round(time.Millisecond))

	// An alert Alertmanager rejects is a 400 with its reason, not retried.
	bad := page()
	bad.AlertID, bad.State, bad.Onset, bad.Time = "rejected", "resolved", time.Now(), time.Now().Add(-time.Hour)
	retry, err := r.Notify(ctx, bad)
	var se *alertmanager.StatusError
	if retry || !errors.As(err, &se) || se.Code != 400 || se.Message == "" {
		t.Errorf("posting an alert that ends before it starts: retry %v, %v; want a 400 with a reason, not retried", retry, err)
	}
	t.Logf("a rejected alert: %v", err)
}

// receive waits for the webhook's next message and checks its status: a
// message of another status first is an error.
func receive(ctx context.Context, t *testing.T, messages <-chan amtest.Message, status string) amtest.Message {
	t.Helper()
	select {
	case m := <-messages:
		if m.Status != status || len(m.Alerts) != 1 {
			t.Fatalf("webhook message %+v; want one %s alert", m, status)
		}
		return m
	case <-ctx.Done():
		t.Fatalf("no %s message at the webhook: %v", status, ctx.Err())
	}
	return amtest.Message{}
}

// TestRealAlertmanagerInhibitsTheTicketWhileThePageFires runs the inhibit
// rule docs/notify.md tells users to add, taken from that file, in a real
// Alertmanager: while the page of db-2 fires, db-2's ticket is held
// (inhibited) and db-3's ticket goes out; once the page resolves, db-2's
// ticket goes out too.
func TestRealAlertmanagerInhibitsTheTicketWhileThePageFires(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Alertmanager")
	}
	rule := documentedInhibitRule(t)
	hook, messages := amtest.Webhook(t)
	url := amtest.Start(t, hook, rule)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := alertmanager.New("am", alertmanager.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	alert := func(id, severity, database string) notify.Notification {
		n := page()
		n.AlertID, n.Severity, n.Labels, n.Onset, n.Time = id, severity, map[string]string{"database": database}, at, at
		return n
	}
	post := func(n notify.Notification) {
		t.Helper()
		if retry, err := r.Notify(ctx, n); err != nil {
			t.Fatalf("posting %s: retry %v, %v", n.AlertID, retry, err)
		}
	}
	pageDB2 := alert("page-db-2", "page", "db-2")
	post(pageDB2)
	if m := next(ctx, t, messages); m.Status != "firing" || m.Alerts[0].Labels["burnwatch_alert_id"] != "page-db-2" {
		t.Fatalf("first message %+v; want the page of db-2", m)
	}
	post(alert("ticket-db-2", "ticket", "db-2"))
	post(alert("ticket-db-3", "ticket", "db-3"))
	if m := next(ctx, t, messages); m.Alerts[0].Labels["burnwatch_alert_id"] != "ticket-db-3" {
		t.Fatalf("message %+v; want the ticket of db-3, which no page holds", m.Alerts[0].Labels)
	}
	if by := inhibitedBy(ctx, t, url, "ticket-db-2"); len(by) != 1 {
		t.Errorf("the ticket of db-2 is inhibited by %v; want the page of db-2", by)
	}

	pageDB2.State, pageDB2.Time = "resolved", time.Now()
	post(pageDB2)
	got := map[string]string{}
	for len(got) < 2 {
		m := next(ctx, t, messages)
		for _, a := range m.Alerts {
			got[a.Labels["burnwatch_alert_id"]] = a.Status
		}
	}
	if got["page-db-2"] != "resolved" || got["ticket-db-2"] != "firing" {
		t.Errorf("after the page resolved the webhook got %v; want the page resolved and the ticket of db-2 firing", got)
	}
}

// documentedInhibitRule returns the YAML block of docs/notify.md that
// starts with inhibit_rules:.
func documentedInhibitRule(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/notify.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\ninhibit_rules:")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("docs/notify.md has no ```yaml block starting with inhibit_rules:")
	}
	return "inhibit_rules:" + block
}

// next returns the webhook's next message.
func next(ctx context.Context, t *testing.T, messages <-chan amtest.Message) amtest.Message {
	t.Helper()
	select {
	case m := <-messages:
		if len(m.Alerts) != 1 {
			t.Fatalf("webhook message with %d alerts; want one a group", len(m.Alerts))
		}
		return m
	case <-ctx.Done():
		t.Fatalf("no message at the webhook: %v", ctx.Err())
	}
	return amtest.Message{}
}

// inhibitedBy polls Alertmanager's API until the alert with the given
// burnwatch_alert_id is marked inhibited, and returns what inhibits it.
func inhibitedBy(ctx context.Context, t *testing.T, url, id string) []string {
	t.Helper()
	for {
		resp, err := http.Get(url + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		var alerts []struct {
			Labels map[string]string `json:"labels"`
			Status struct {
				State       string   `json:"state"`
				InhibitedBy []string `json:"inhibitedBy"`
			} `json:"status"`
		}
		err = json.NewDecoder(resp.Body).Decode(&alerts)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			if a.Labels["burnwatch_alert_id"] == id && len(a.Status.InhibitedBy) > 0 {
				return a.Status.InhibitedBy
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("alert %s never inhibited: %+v", id, alerts)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
