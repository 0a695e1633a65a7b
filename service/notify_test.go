package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

const pagerConfig = eventsConfig + `
receivers:
  - name: pager
    console: {}
routes:
  - receiver: pager
`

// fakePager is a receiver whose answers the test scripts: each call takes
// the next error (nil delivers), and the deliveries are kept.
type fakePager struct {
	answers []error
	got     []notify.Notification
	calls   int
}

type retryAfter struct{ d time.Duration }

func (e retryAfter) Error() string             { return "429 Too Many Requests" }
func (e retryAfter) RetryAfter() time.Duration { return e.d }

var errServer = errors.New("500 Internal Server Error")
var errBadRequest = errors.New("400 Bad Request: invalid routing key")

func (f *fakePager) Name() string { return "pager" }
func (f *fakePager) Notify(_ context.Context, n notify.Notification) (bool, error) {
	f.calls++
	if len(f.answers) > 0 {
		err := f.answers[0]
		f.answers = f.answers[1:]
		if err != nil {
			return !errors.Is(err, errBadRequest), err
		}
	}
	f.got = append(f.got, n)
	return false, nil
}

func (f *fakePager) states() string {
	var out []string
	for _, n := range f.got {
		out = append(out, n.Severity+" "+n.State)
	}
	return strings.Join(out, ", ")
}

// outage runs db-1 healthy for 20 minutes, failing for 3, healthy for 40,
// delivering after each cycle.
func outage(ts *testService) {
	ts.t.Helper()
	for i := range 63 {
		failed := 0
		if i >= 20 && i < 23 {
			failed = 1000
		}
		ts.minute("db-1", 1000, failed)
		if err := ts.Deliver(context.Background()); err != nil {
			ts.t.Fatal(err)
		}
	}
}

func newPagedService(t *testing.T, pager *fakePager) *testService {
	ts := &testService{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	writeConfig(t, ts.dir, pagerConfig)
	ts.receivers = map[string]notify.Receiver{"pager": pager}
	ts.open()
	return ts
}

func TestPagerOutageDeliversEverythingOnceInOrder(t *testing.T) {
	// The pager fails twice with 500s, then asks to wait with a 429, then
	// takes everything.
	pager := &fakePager{answers: []error{errServer, errServer, retryAfter{2 * time.Minute}}}
	ts := newPagedService(t, pager)
	defer ts.Close()
	outage(ts)
	// The page's trigger waited out the failures; the ticket, another
	// alert, went meanwhile. One alert's trigger and resolve stay in order.
	if got, want := pager.states(), "ticket firing, page firing, page resolved"; got != want {
		t.Errorf("delivered %q, want %q: each once, an alert's in order", got, want)
	}
	if pager.calls != 6 {
		t.Errorf("%d calls, want 3 failures and 3 deliveries", pager.calls)
	}
	n := pager.got[1]
	if n.PlaybookURL != "" || n.AlertID == "" || !strings.Contains(n.Summary, "[PAGE] cypher-availability {database=\"db-1\"}: error budget burning") {
		t.Errorf("trigger %+v", n)
	}
	if pager.got[2].Onset != n.Onset || pager.got[2].AlertID != n.AlertID {
		t.Errorf("the resolve's onset %v or dedup key differs from its trigger's", pager.got[2].Onset)
	}
}

func TestNotificationRecordedBeforeACrashIsSentOnceAfter(t *testing.T) {
	pager := &fakePager{}
	ts := newPagedService(t, pager)
	for range 20 {
		ts.minute("db-1", 1000, 0)
	}
	ts.minute("db-1", 1000, 1000) // fires; recorded, not yet sent
	ts.Close()                    // as a crash would leave it: the commit is durable
	if pager.calls != 0 {
		t.Fatalf("sent before the restart")
	}
	ts.open()
	defer ts.Close()
	for range 3 {
		if err := ts.Deliver(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := pager.states(); got != "page firing, ticket firing" {
		t.Errorf("after the restart delivered %q, want each trigger once", got)
	}
}

func TestRefusedTriggerIsDeadLetteredAndItsResolveNotSent(t *testing.T) {
	pager := &fakePager{answers: []error{errBadRequest}}
	ts := newPagedService(t, pager)
	defer ts.Close()
	outage(ts)
	// The page's trigger was refused for good; its resolve is not sent
	// alone. The ticket, not refused, is delivered.
	if got := pager.states(); got != "ticket firing" {
		t.Errorf("delivered %q, want only the ticket's trigger", got)
	}
	counts, _ := ts.Store().OutboxCounts(context.Background())
	if counts["dead"] != 1 || counts["skipped"] != 1 || counts["pending"] != 0 {
		t.Errorf("outbox %v", counts)
	}
}

// fakeAlertmanager is a fake pager that must be told again of a firing
// alert every minute, as Alertmanager must.
type fakeAlertmanager struct{ fakePager }

func (f *fakeAlertmanager) Resend() time.Duration { return time.Minute }

func TestFiringAlertsAreRepostedUntilResolved(t *testing.T) {
	am := &fakeAlertmanager{}
	ts := &testService{t: t, dir: t.TempDir()}
	ts.clock = ts.clockStart()
	writeConfig(t, ts.dir, pagerConfig)
	ts.receivers = map[string]notify.Receiver{"pager": am}
	ts.open()
	defer ts.Close()
	outage(ts) // 63 minutes, the page firing for about 33 of them
	var pageFirings, resolves int
	for _, n := range am.got {
		switch {
		case n.Severity == "page" && n.Firing():
			pageFirings++
		case n.Severity == "page":
			resolves++
		}
	}
	// Posted once a minute while it fired, then resolved once; nothing
	// after the resolve.
	if pageFirings < 25 || resolves != 1 {
		t.Errorf("the page was posted %d times firing and %d resolved; want it re-posted every minute while firing, then resolved once", pageFirings, resolves)
	}
	last := am.got[len(am.got)-1]
	if last.Severity == "page" && last.Firing() {
		t.Errorf("a resolved page was posted again as firing")
	}
}

// TestWrappedRetryAfterIsHonoured: a receiver's 429 comes wrapped in what
// it was doing; its Retry-After still sets the next attempt.
func TestWrappedRetryAfterIsHonoured(t *testing.T) {
	pager := &fakePager{answers: []error{fmt.Errorf("posting the event: %w", retryAfter{time.Hour})}}
	ts := newPagedService(t, pager)
	defer ts.Close()
	outage(ts)
	// The first trigger, the page's, waits an hour (and its resolve after
	// it); the ticket's goes.
	if got, want := pager.states(), "ticket firing"; got != want {
		t.Errorf("delivered %q within the hour, want %q: the page's trigger waits out its Retry-After", got, want)
	}
}
