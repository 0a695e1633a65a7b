package pagerduty

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// leaked returns the first 8-character piece of testKey in s, "" when
// there is none: a key cut short, or split by a truncation, still leaks.
func leaked(s string) string {
	for i := 0; i+8 <= len(testKey); i++ {
		if strings.Contains(s, testKey[i:i+8]) {
			return testKey[i : i+8]
		}
	}
	return ""
}

func TestTheRoutingKeyIsNeverShown(t *testing.T) {
	var logs bytes.Buffer
	// Receivers log to r.Log; a slip to the default logger is caught too.
	defaultLog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(defaultLog) })

	f := newFakeEvents(t)
	r := newReceiver(t, f, &logs)
	text := newReceiver(t, f, nil)
	text.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	quiet := newReceiver(t, f, nil) // logs to slog.Default()

	// PagerDuty's answers quote the key: a 400 that names it, a proxy's
	// error page that echoes the request.
	answers := []func(w http.ResponseWriter, ev *wireEvent) bool{
		nil, // accepted
		func(w http.ResponseWriter, ev *wireEvent) bool {
			writeJSON(w, 400, map[string]any{"status": "invalid event", "message": "routing key " + ev.RoutingKey + " is unknown",
				"errors": []string{"'routing_key' " + ev.RoutingKey + " not found", "no such integration"}})
			return true
		},
		func(w http.ResponseWriter, ev *wireEvent) bool {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprintf(w, "<html>%s bad gateway for %s</html>", strings.Repeat("x", 167), ev.RoutingKey) // the key straddles the 200-byte cut
			return true
		},
		func(w http.ResponseWriter, ev *wireEvent) bool {
			w.Header().Set("Retry-After", "3")
			writeJSON(w, 429, map[string]any{"status": "throttle event", "message": "too fast for " + ev.RoutingKey})
			return true
		},
		func(w http.ResponseWriter, ev *wireEvent) bool {
			writeJSON(w, 500, map[string]any{"status": "error", "message": ev.RoutingKey})
			return true
		},
	}
	var errs []error
	for _, rcv := range []*Receiver{r, text, quiet} {
		for _, a := range answers {
			f.setAnswer(a)
			n := firing()
			n.PlaybookURL = "playbooks/relative" // a warning that names the event
			if _, err := rcv.Notify(context.Background(), n); err != nil {
				errs = append(errs, err)
			}
			if _, err := rcv.Notify(context.Background(), resolved(n)); err != nil {
				errs = append(errs, err)
			}
		}
		bad := firing()
		bad.State = "unknown"
		if _, err := rcv.Notify(context.Background(), bad); err != nil {
			errs = append(errs, err)
		}
	}
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	offline := newReceiver(t, f, &logs, func(c *Config) { c.Endpoint = gone.URL })
	if _, err := offline.Notify(context.Background(), firing()); err != nil {
		errs = append(errs, err)
	}
	if len(errs) != 3*(4*2+1)+1 {
		t.Fatalf("got %d errors; want every refusal, the bad state and the network error", len(errs))
	}

	var shown []string
	for _, err := range errs {
		shown = append(shown, err.Error(), fmt.Sprintf("%v|%+v|%#v|%s|%q", err, err, err, err, err))
		slog.Error("delivery failed", "error", err)
		r.Log.Error("delivery failed", "error", err)
	}
	for _, rcv := range []*Receiver{r, offline} {
		shown = append(shown,
			fmt.Sprintf("%v|%+v|%#v|%s|%q", rcv, rcv, rcv, rcv, rcv),
			fmt.Sprintf("%v|%+v|%#v", *rcv, *rcv, *rcv), // fmt reads unexported fields of a value
			fmt.Sprintf("%v|%+v|%#v|%s|%q|%x", rcv.key, rcv.key, rcv.key, rcv.key, rcv.key, rcv.key),
		)
		r.Log.Info("receiver", "receiver", rcv, "value", *rcv, "key", rcv.key)
		text.Log.Info("receiver", "receiver", rcv, "value", *rcv, "key", rcv.key)
	}
	shown = append(shown, logs.String())
	for _, s := range shown {
		if leak := leaked(s); leak != "" {
			t.Errorf("the key shows (%q) in:\n%s", leak, s)
		}
	}
	// The logs do say what happened.
	for _, want := range []string{"pagerduty event accepted", "pagerduty event refused", "pagerduty link left out", "pagerduty event not delivered"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q", want)
		}
	}
	// And the key is really sent.
	if events, _ := f.received(); len(events) == 0 || events[0].RoutingKey != testKey {
		t.Error("the fake never received the key")
	}
}
