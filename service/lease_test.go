package service

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// Two elections on one Lease: one leads; when it stops (and releases the
// lease), the other takes over; a third start after that waits as a
// standby.
func TestLeaseElectionHandsOver(t *testing.T) {
	api, kubeconfig := startLeaseAPI(t)
	type event struct {
		who     string
		leading bool
	}
	var mu sync.Mutex
	var events []event
	got := make(chan struct{}, 10)
	run := func(ctx context.Context, who string) (done chan struct{}) {
		e, err := NewLeaseElection(LeaseConfig{
			Name: "burnwatch-leader", Namespace: "bw", Identity: who, Kubeconfig: kubeconfig,
			LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 200 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		done = make(chan struct{})
		note := func(leading bool) {
			mu.Lock()
			events = append(events, event{who, leading})
			mu.Unlock()
			got <- struct{}{}
		}
		go func() {
			defer close(done)
			e.Run(ctx, func() { note(true) }, func() { note(false) })
		}()
		return done
	}
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-got:
			case <-time.After(30 * time.Second):
				t.Fatalf("waited in vain for an election event; events %v, lease writes %v", events, api.history())
			}
		}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	doneA := run(ctxA, "a")
	wait(1)
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneB := run(ctxB, "b")
	stopA() // a stops and releases: b takes over without waiting for the expiry
	<-doneA
	wait(2)
	mu.Lock()
	want := []event{{"a", true}, {"a", false}, {"b", true}}
	if len(events) != 3 || events[0] != want[0] || events[1] != want[1] || events[2] != want[2] {
		t.Errorf("events %v, want %v", events, want)
	}
	mu.Unlock()
	if h := api.holder(); h != "b" {
		t.Errorf("the lease is held by %q, want b", h)
	}
	stopB()
	<-doneB
	if h := api.holder(); h != "" {
		t.Errorf("after b stopped the lease is held by %q, want it released", h)
	}
}
