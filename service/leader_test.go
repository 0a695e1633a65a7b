package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/store"
)

// manualElection is an Election the test drives: true on cmds makes the
// replica lead, false makes it stand by; done says each was handled.
type manualElection struct {
	cmds chan bool
	done chan struct{}
}

func newManualElection() *manualElection {
	return &manualElection{cmds: make(chan bool), done: make(chan struct{})}
}

func (m *manualElection) Run(ctx context.Context, started, stopped func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case lead := <-m.cmds:
			if lead {
				started()
			} else {
				stopped()
			}
			m.done <- struct{}{}
		}
	}
}

func (m *manualElection) set(lead bool) {
	m.cmds <- lead
	<-m.done
}

// newReplica is a paged service (pagerConfig, db-1 on an events source)
// that is one of two replicas, standing by until the election says.
func newReplica(t *testing.T, pager *fakePager) (*testService, *manualElection) {
	t.Helper()
	ts := &testService{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)}
	writeConfig(t, ts.dir, pagerConfig)
	el := newManualElection()
	svc, err := New(context.Background(), Options{
		ConfigPath:  filepath.Join(ts.dir, "burnwatch.yaml"),
		StoragePath: filepath.Join(ts.dir, "data"),
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         func() time.Time { return ts.clock },
		Console:     io.Discard,
		Receivers:   map[string]notify.Receiver{"pager": pager},
		Election:    el,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Service = svc
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.campaign(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
	})
	return ts, el
}

// outbox returns the outbox's entries by alert kind, severity and
// direction: "page firing skipped superseded: …".
func outboxStates(t *testing.T, ts *testService) []string {
	t.Helper()
	var out []string
	err := ts.Store().Notifications(context.Background(), 0, 1<<62, func(n store.NotificationRecord) error {
		dir := "resolved"
		if n.Firing {
			dir = "firing"
		}
		sev := "?"
		for _, s := range []string{"page", "ticket"} {
			if strings.Contains(string(n.Payload), `"Severity":"`+s+`"`) {
				sev = s
			}
		}
		out = append(out, sev+" "+dir+" "+n.State+" "+n.LastError)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStandbySendsNothingAndKeepsTheNewestOfEachAlert(t *testing.T) {
	pager := &fakePager{}
	ts, _ := newReplica(t, pager)
	if ts.Leading() {
		t.Fatal("a replica with an election leads before it won")
	}
	ctx := context.Background()
	// db-1 fails for 3 minutes: the page fires and resolves, the ticket
	// fires and stays.
	// (Deliver, after each minute, sends nothing on a standby.)
	outage(ts)
	if err := ts.trimStandby(ctx); err != nil {
		t.Fatal(err)
	}
	if len(pager.got) != 0 {
		t.Fatalf("the standby delivered %q", pager.states())
	}
	states := outboxStates(t, ts)
	slices.Sort(states)
	got := strings.Join(states, "\n")
	want := strings.Join([]string{
		"page firing skipped superseded: a newer notification of the alert replaces it",
		"page resolved pending ",
		"ticket firing pending ",
	}, "\n")
	if got != want {
		t.Errorf("the standby's outbox:\n%s\nwant:\n%s", got, want)
	}
}

func TestTakeoverSendsTheNewestOfEachAlertOnce(t *testing.T) {
	pager := &fakePager{}
	ts, el := newReplica(t, pager)
	ctx := context.Background()
	outage(ts)
	// A trigger of an alert that no longer fires (its resolve was held, or
	// it is gone with its SLO): a takeover must not page it.
	ts.engine(func(e *engine.Engine) {
		e.AddOutbox(store.OutboxEntry{Receiver: "pager", AlertID: "gone", Transition: store.NoTransition, Firing: true, Payload: []byte(`{"Severity":"page","State":"firing"}`)})
	})
	ts.minute("db-1", 1000, 0)
	el.set(true)
	if !ts.Leading() {
		t.Fatal("not leading after winning the election")
	}
	if err := ts.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	// Without a trim on the way (the standby's goroutine did not run):
	// the takeover supersedes the page's trigger, sends its resolve (the
	// old leader may have sent the trigger), and sends the ticket's
	// trigger, which still fires.
	if got, want := pager.states(), "ticket firing, page resolved"; got != want {
		t.Errorf("the new leader delivered %q, want %q", got, want)
	}
	states := strings.Join(outboxStates(t, ts), "\n")
	if !strings.Contains(states, "page firing skipped superseded: the alert no longer fires") {
		t.Errorf("the trigger of an alert no longer firing was not superseded:\n%s", states)
	}
	// Standing by again, it sends nothing more.
	el.set(false)
	for i := range 10 {
		ts.minute("db-1", 1000, map[bool]int{true: 1000}[i < 5])
		ts.Deliver(ctx)
	}
	if got, want := pager.states(), "ticket firing, page resolved"; got != want {
		t.Errorf("after standing down it delivered %q, want %q", got, want)
	}
}

func TestAloneItLeadsAndSends(t *testing.T) {
	pager := &fakePager{}
	ts := newPagedService(t, pager)
	defer ts.Close()
	if !ts.Leading() {
		t.Fatal("a service without an election does not lead")
	}
	outage(ts)
	if got, want := pager.states(), "page firing, ticket firing, page resolved"; got != want {
		t.Errorf("delivered %q, want %q", got, want)
	}
}

func TestScheduledReportIsTheLeadersAtItsDueTime(t *testing.T) {
	pager := &fakePager{}
	ts, el := newReplica(t, pager)
	reports := t.TempDir()
	writeConfig(t, ts.dir, pagerConfig+fmt.Sprintf("reports: {dir: %q, schedule: \"*/10 * * * *\", formats: [md]}\n", reports))
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	written := func() float64 { return testutil.ToFloat64(ts.metrics.Reports.WithLabelValues(reportToDir, "sent")) }
	// Standing by through the 10:19 cycle: the report due at 10:10 is the
	// leader's.
	for range 19 {
		ts.minute("db-1", 100, 0)
	}
	if n := written(); n != 0 {
		t.Fatalf("a standby wrote %v reports", n)
	}
	// It takes over at 10:20:05, after the report due at 10:20 came due
	// but before its own cycle saw it: that one was the old leader's.
	ts.clock = ts.clock.Add(65 * time.Second)
	el.set(true)
	for range 15 {
		ts.minute("db-1", 100, 0)
	}
	// Due at 10:30, while it leads: written, once.
	if n := written(); n != 1 {
		t.Errorf("the leader wrote %v reports by 10:35, want 1 (due at 10:30)", n)
	}
}
