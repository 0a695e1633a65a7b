package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
)

// TestAHangingWebhookDelaysNoPage: delivery was serial across receivers,
// and a webhook that hung (10s a try) delayed each PagerDuty page by 20s.
// Each receiver now has its own worker: while every POST to the webhook
// hangs, PagerDuty gets the trigger and the resolve as soon as each is
// committed.
func TestAHangingWebhookDelaysNoPage(t *testing.T) {
	hang := make(chan struct{})
	var hooked atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hooked.Add(1)
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hook.Close()
	defer close(hang) // before hook.Close, which waits for the hung requests
	var (
		mu    sync.Mutex
		paged []string
	)
	pd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		paged = append(paged, fmt.Sprint(ev["event_action"]))
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	}))
	defer pd.Close()
	pagedNow := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paged...)
	}

	dir := t.TempDir()
	key, secret := filepath.Join(dir, "pd.key"), filepath.Join(dir, "hook.secret")
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	writeConfig(t, dir, eventsConfig+fmt.Sprintf(`
receivers:
  - name: hook
    webhook: {url: %q, secret_file: %q, timeout: 10s}
  - name: oncall
    pagerduty: {routing_key_file: %q, endpoint: %q}
routes:
  - receiver: hook
    continue: true
  - match: {severity: page}
    receiver: oncall
`, hook.URL, secret, key, pd.URL))

	// A clock the senders read while the test moves it.
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC).UnixMilli())
	transitions := make(chan burnrate.Transition, 64)
	svc, err := New(context.Background(), Options{
		ConfigPath: filepath.Join(dir, "burnwatch.yaml"), StoragePath: filepath.Join(dir, "data"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Console: io.Discard,
		Now:          func() time.Time { return time.UnixMilli(now.Load()).UTC() },
		OnTransition: func(tr burnrate.Transition) { transitions <- tr },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx, stop := context.WithCancel(context.Background())
	sending := make(chan struct{})
	go func() { defer close(sending); svc.senders.run(ctx) }()
	defer func() { stop(); <-sending }()

	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	tok, err := svc.eventsToken()
	if err != nil {
		t.Fatal(err)
	}
	minute := func(failed int) {
		t.Helper()
		at := time.UnixMilli(now.Load()).UTC()
		body := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1000,"errors":{"Neo.DatabaseError.General.UnknownError":%d}}`+"\n", at.Format(time.RFC3339), failed)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		now.Add(time.Minute.Milliseconds())
		if err := svc.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// waitPaged waits, in wall time, for PagerDuty to have got want.
	waitPaged := func(want string) {
		t.Helper()
		committed := time.Now()
		for !strings.Contains(strings.Join(pagedNow(), ","), want) {
			if time.Since(committed) > 3*time.Second {
				t.Fatalf("PagerDuty had %q %s after the %s was committed, while the webhook hung (%d POSTs to it)", pagedNow(), time.Since(committed).Round(time.Millisecond), want, hooked.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	pageTransitions := func() (fired, resolved bool) {
		for {
			select {
			case tr := <-transitions:
				if tr.Severity == "page" {
					fired = fired || tr.State == burnrate.Firing
					resolved = resolved || tr.State == burnrate.Resolved
				}
			default:
				return fired, resolved
			}
		}
	}
	for range 20 {
		minute(0)
	}
	fired := false
	for i := 0; !fired; i++ {
		if i == 10 {
			t.Fatal("the outage did not page")
		}
		minute(1000)
		fired, _ = pageTransitions()
	}
	waitPaged("trigger")
	for i := 0; ; i++ {
		if i == 90 {
			t.Fatal("the page did not resolve")
		}
		minute(0)
		if _, resolved := pageTransitions(); resolved {
			break
		}
	}
	waitPaged("resolve")
	if hooked.Load() == 0 {
		t.Errorf("the webhook was never posted to: the test proves nothing")
	}
}
