package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestOutboxKeepsOrderPerAlert(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := func(id string) TransitionRecord { return TransitionRecord{Time: 1, AlertID: id, JSON: []byte("{}")} }
	// Cycle 1: a trigger of alert a to two receivers, and one of alert b.
	err = db.Commit(ctx, Cycle{Time: 1000,
		Transitions: []TransitionRecord{tr("a"), tr("b")},
		Outbox: []OutboxEntry{
			{Receiver: "pd", AlertID: "a", Transition: 0, Firing: true, Payload: []byte(`{"n":1}`)},
			{Receiver: "hook", AlertID: "a", Transition: 0, Firing: true, Payload: []byte(`{"n":2}`)},
			{Receiver: "pd", AlertID: "b", Transition: 1, Firing: true, Payload: []byte(`{"n":3}`), State: OutboxSilenced},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// Cycle 2: a's resolve to pd.
	if err := db.Commit(ctx, Cycle{Time: 2000, Transitions: []TransitionRecord{tr("a")},
		Outbox: []OutboxEntry{{Receiver: "pd", AlertID: "a", Transition: 0, Payload: []byte(`{"n":4}`)}}}); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueOutbox(ctx, 5000, 10)
	if err != nil {
		t.Fatal(err)
	}
	// The resolve waits behind its trigger; the silenced one is not due.
	if len(due) != 2 || string(due[0].Payload) != `{"n":1}` || string(due[1].Payload) != `{"n":2}` {
		t.Fatalf("due: %+v", due)
	}
	if sent, _ := db.TriggerSent(ctx, "pd", "a", due[0].ID+100); sent {
		t.Errorf("a trigger not yet sent counts as sent")
	}
	e := due[0]
	e.State = OutboxSent
	if err := db.UpdateOutbox(ctx, e, 3000); err != nil {
		t.Fatal(err)
	}
	due, _ = db.DueOutbox(ctx, 5000, 10)
	if len(due) != 2 || string(due[1].Payload) != `{"n":4}` || due[1].Firing {
		t.Fatalf("after the trigger was sent, due: %+v", due)
	}
	if sent, _ := db.TriggerSent(ctx, "pd", "a", due[1].ID); !sent {
		t.Errorf("the resolve's trigger is not seen as sent")
	}
	// A retry later is not due before its time.
	h := due[0]
	h.Attempts, h.NextAttempt, h.LastError = 1, 9000, "503"
	db.UpdateOutbox(ctx, h, 5000)
	due, _ = db.DueOutbox(ctx, 5000, 10)
	if len(due) != 1 || due[0].Receiver != "pd" {
		t.Errorf("a backed-off entry is due early: %+v", due)
	}
	counts, _ := db.OutboxCounts(ctx)
	if counts[OutboxPending] != 2 || counts[OutboxSent] != 1 || counts[OutboxSilenced] != 1 {
		t.Errorf("counts %v", counts)
	}
	// An outbox entry naming no transition fails the whole cycle.
	if err := db.Commit(ctx, Cycle{Time: 6000, Outbox: []OutboxEntry{{Receiver: "pd", AlertID: "z", Transition: 0}}}); err == nil {
		t.Errorf("an entry without its transition was committed")
	}
}

func TestSilencesPersist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.PutSilence(ctx, SilenceRecord{ID: "a", Ends: 100, Body: []byte(`{"id":"a"}`)})
	db.PutSilence(ctx, SilenceRecord{ID: "b", Ends: 200, Body: []byte(`{"id":"b"}`)})
	db.PutSilence(ctx, SilenceRecord{ID: "a", Ends: 300, Body: []byte(`{"id":"a","v":2}`)})
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Silences(ctx, 250)
	if err != nil || len(got) != 1 || string(got[0].Body) != `{"id":"a","v":2}` {
		t.Fatalf("silences ending after 250: %+v, %v", got, err)
	}
	if ok, _ := db.DeleteSilence(ctx, "a"); !ok {
		t.Errorf("deleting a silence that exists reported none")
	}
	if ok, _ := db.DeleteSilence(ctx, "a"); ok {
		t.Errorf("deleting it twice reported one")
	}
}

func TestHeldTriggersAreTheLatestSilencedOnes(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := TransitionRecord{Time: 1, AlertID: "a", JSON: []byte("{}")}
	db.Commit(ctx, Cycle{Time: 1000, Transitions: []TransitionRecord{tr, tr},
		Outbox: []OutboxEntry{
			{Receiver: "pd", AlertID: "a", Transition: 0, Firing: true, State: OutboxSilenced, LastError: "sil-1"},
			{Receiver: "pd", AlertID: "b", Transition: 1, Firing: true, State: OutboxSilenced},
		}})
	// b's resolve follows (skipped later); a is released without a transition.
	db.Commit(ctx, Cycle{Time: 2000, Transitions: []TransitionRecord{{Time: 2, AlertID: "b", JSON: []byte("{}")}},
		Outbox: []OutboxEntry{
			{Receiver: "pd", AlertID: "b", Transition: 0},
		}})
	held, err := db.HeldTriggers(ctx)
	if err != nil || len(held) != 1 || held[0].AlertID != "a" || held[0].LastError != "sil-1" {
		t.Fatalf("held: %+v, %v", held, err)
	}
	if err := db.Commit(ctx, Cycle{Time: 3000, Outbox: []OutboxEntry{{Receiver: "pd", AlertID: "a", Transition: NoTransition, Firing: true}}}); err != nil {
		t.Fatal(err)
	}
	if held, _ := db.HeldTriggers(ctx); len(held) != 0 {
		t.Errorf("a released trigger is still held: %+v", held)
	}
	due, _ := db.DueOutbox(ctx, 5000, 10)
	if len(due) != 2 || due[1].AlertID != "a" || due[1].Seq != 0 {
		t.Errorf("due: %+v", due)
	}
}

func TestTidyKeepsWhatAResolveNeeds(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tr := func(id string) TransitionRecord { return TransitionRecord{Time: 1, AlertID: id, JSON: []byte("{}")} }
	// a: trigger, resolve, trigger again, all sent. b: a trigger sent long
	// ago and its resolve still pending.
	for i, e := range []OutboxEntry{
		{Receiver: "pd", AlertID: "a", Firing: true}, {Receiver: "pd", AlertID: "a"},
		{Receiver: "pd", AlertID: "a", Firing: true}, {Receiver: "pd", AlertID: "b", Firing: true},
	} {
		if err := db.Commit(ctx, Cycle{Time: int64(1000 * (i + 1)), Transitions: []TransitionRecord{tr(e.AlertID)}, Outbox: []OutboxEntry{e}}); err != nil {
			t.Fatal(err)
		}
		due, _ := db.DueOutbox(ctx, 1e9, 10)
		for _, d := range due {
			d.State = OutboxSent
			db.UpdateOutbox(ctx, d, int64(1000*(i+1)))
		}
	}
	db.Commit(ctx, Cycle{Time: 9000, Transitions: []TransitionRecord{tr("b")}, Outbox: []OutboxEntry{{Receiver: "pd", AlertID: "b"}}})
	if err := db.Tidy(ctx, 1e9); err != nil {
		t.Fatal(err)
	}
	counts, _ := db.OutboxCounts(ctx)
	// a's first trigger went; its resolve and latest trigger stay; b's
	// trigger stays for its pending resolve.
	if counts["sent"] != 3 || counts["pending"] != 1 {
		t.Errorf("after tidying: %v", counts)
	}
	due, _ := db.DueOutbox(ctx, 1e9, 10)
	if len(due) != 1 {
		t.Fatalf("due %+v", due)
	}
	if sent, _ := db.TriggerSent(ctx, "pd", "b", due[0].ID); !sent {
		t.Errorf("tidying lost the trigger a pending resolve needs")
	}
}
