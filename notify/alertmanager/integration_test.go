package alertmanager_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/amtest"
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
		"severity":           "page",
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
