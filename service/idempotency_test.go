package service

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/store"
)

// keyedAPITest is the events handler on the real SQLite store, with a
// clock the test moves.
func keyedAPITest(t *testing.T) (*apiTest, *store.DB, *time.Time) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "burnwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var mu sync.Mutex
	now := apiTestNow
	at := newAPITest(t, func(o *HandlerOptions) {
		o.Batches = db
		o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	return at, db, &now
}

func keyed(key string) http.Header {
	h := bearer(apiTestToken)
	h.Set(IdempotencyKeyHeader, key)
	return h
}

func pendingBatches(t *testing.T, db *store.DB) int {
	t.Helper()
	bs, err := db.PendingBatches(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(bs)
}

func TestABatchSentAgainUnderItsKeyIsStoredOnceAndAnsweredAlike(t *testing.T) {
	at, db, _ := keyedAPITest(t)
	body := apiTestEvent + "\n" + apiTestLine(t, map[string]string{"labels": `{"database":"db-2"}`})

	first := at.do(http.MethodPost, "/api/v1/events", keyed("agent-7f3a-42"), strings.NewReader(body))
	// The client lost that 202 and sends the batch again, as it must.
	again := at.do(http.MethodPost, "/api/v1/events", keyed("agent-7f3a-42"), strings.NewReader(body))

	if first.status != http.StatusAccepted || again.status != http.StatusAccepted {
		t.Fatalf("statuses %d and %d, want 202 both: %s / %s", first.status, again.status, first.body, again.body)
	}
	var a, b acceptedBatch
	json.Unmarshal([]byte(first.body), &a)
	json.Unmarshal([]byte(again.body), &b)
	if a != b || a.Accepted != 2 || a.Batch == 0 {
		t.Errorf("answers %+v and %+v, want the same, 2 events accepted", a, b)
	}
	if again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("the second answer does not say it is a replay")
	}
	if n := pendingBatches(t, db); n != 1 {
		t.Errorf("%d batches stored, want 1: the events of a resent batch would count twice", n)
	}

	// Another key is another batch, even with the same body.
	other := at.do(http.MethodPost, "/api/v1/events", keyed("agent-7f3a-43"), strings.NewReader(body))
	if other.status != http.StatusAccepted || pendingBatches(t, db) != 2 {
		t.Errorf("a new key: status %d and %d batches, want 202 and 2", other.status, pendingBatches(t, db))
	}
	// Without a key, nothing changes: every batch is stored.
	at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(body))
	at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(body))
	if n := pendingBatches(t, db); n != 4 {
		t.Errorf("%d batches after two without a key, want 4", n)
	}
}

func TestAKeyIsAnsweredAlikeEvenAfterItsBatchWasCountedAndAgedOut(t *testing.T) {
	at, db, now := keyedAPITest(t)
	first := at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(apiTestEvent))
	// The batch is counted by a cycle (and deleted), and its minute leaves
	// the 30d window: sent again, it would fail validation now.
	bs, _ := db.PendingBatches(context.Background())
	if err := db.Commit(context.Background(), store.Cycle{Time: apiTestNow.UnixMilli(), Consumed: []int64{bs[0].ID}}); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(store.IdempotencyRetention - time.Minute)
	again := at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(apiTestEvent))
	if again.status != http.StatusAccepted || again.body != first.body {
		t.Errorf("within the retention: %d %s, want the first answer %s", again.status, again.body, first.body)
	}
	if n := pendingBatches(t, db); n != 0 {
		t.Errorf("%d batches pending after a replay of a counted batch, want 0", n)
	}
}

func TestAKeyReusedForAnotherBodyIsRefused(t *testing.T) {
	at, db, _ := keyedAPITest(t)
	at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(apiTestEvent))
	r := at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(apiTestLine(t, map[string]string{"total": "121"})))
	if r.status != http.StatusUnprocessableEntity {
		t.Errorf("status %d, want 422: %s", r.status, r.body)
	}
	if n := pendingBatches(t, db); n != 1 {
		t.Errorf("%d batches stored, want 1", n)
	}
}

func TestAKeyIsForgottenAfterTheRetention(t *testing.T) {
	at, db, now := keyedAPITest(t)
	// A line whose minute stays in the window a day later.
	line := apiTestLine(t, map[string]string{"time": `"2026-11-06T12:00:00Z"`})
	*now = time.Date(2026, 11, 6, 12, 0, 30, 0, time.UTC)
	at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(line))
	*now = now.Add(store.IdempotencyRetention + time.Minute)
	r := at.do(http.MethodPost, "/api/v1/events", keyed("k-1"), strings.NewReader(line))
	if r.status != http.StatusAccepted || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("past the retention: %d, replayed %q; want a fresh 202", r.status, r.header.Get("Idempotent-Replayed"))
	}
	if n := pendingBatches(t, db); n != 2 {
		t.Errorf("%d batches, want 2", n)
	}
}

func TestBadIdempotencyKeysAreRefused(t *testing.T) {
	at, db, _ := keyedAPITest(t)
	for _, k := range []string{"", "has space", strings.Repeat("k", 256), "tab\tkey"} {
		r := at.do(http.MethodPost, "/api/v1/events", keyed(k), strings.NewReader(apiTestEvent))
		if r.status != http.StatusBadRequest {
			t.Errorf("key %q: status %d, want 400", k, r.status)
		}
	}
	if n := pendingBatches(t, db); n != 0 {
		t.Errorf("%d batches stored with bad keys, want 0", n)
	}
}
