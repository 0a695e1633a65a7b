package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeEvents is PagerDuty's Events API v2 as documented
// (developer.pagerduty.com/api-reference, "Send an Alert Event"):
// POST /v2/enqueue with a JSON event, 202 with {"status":"success",
// "message":"Event processed","dedup_key":…} when it is valid, 400 with
// {"status":"invalid event","message":"Event object is invalid",
// "errors":[…]} when it is not. It keeps incidents by dedup key, as
// PagerDuty does: a trigger opens one unless one is open, a resolve
// closes it.
//
// The receiver must never send an invalid event, so the fake fails the
// test when it gets one.
type fakeEvents struct {
	t   *testing.T
	srv *httptest.Server

	// answer, when set, answers a valid event instead of the fake (a 429,
	// a 500, …): it returns false to let the fake accept it after all.
	answer func(w http.ResponseWriter, ev *wireEvent) bool

	mu        sync.Mutex
	events    []wireEvent // valid events, in order of arrival
	bodies    [][]byte    // their bodies
	incidents map[string]*incident
}

type incident struct {
	state    string // triggered or resolved
	opened   int    // how many times a trigger opened it
	triggers int    // triggers received, including deduplicated ones
}

// wireEvent is the documented event; decoding it with
// DisallowUnknownFields rejects anything the API does not define.
type wireEvent struct {
	RoutingKey  string       `json:"routing_key"`
	EventAction string       `json:"event_action"`
	DedupKey    *string      `json:"dedup_key"`
	Client      string       `json:"client"`
	ClientURL   string       `json:"client_url"`
	Payload     *wirePayload `json:"payload"`
	Images      []struct {
		Src  string `json:"src"`
		Href string `json:"href"`
		Alt  string `json:"alt"`
	} `json:"images"`
	Links []wireLink `json:"links"`
}

type wirePayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

type wireLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

func newFakeEvents(t *testing.T) *fakeEvents {
	f := &fakeEvents{t: t, incidents: map[string]*incident{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve)) // on 127.0.0.1
	t.Cleanup(f.srv.Close)
	return f
}

const maxBody = 512 << 10

func (f *fakeEvents) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v2/enqueue" {
		f.t.Errorf("fake PagerDuty: %s %s: only /v2/enqueue exists", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		f.t.Errorf("fake PagerDuty: %s /v2/enqueue: only POST", r.Method)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		f.t.Errorf("fake PagerDuty: reading the body: %v", err)
		return
	}
	ev, problems := validate(r.Header.Get("Content-Type"), body)
	if len(problems) > 0 {
		f.t.Errorf("fake PagerDuty: invalid event %s: %s", truncateForLog(body), strings.Join(problems, "; "))
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": problems})
		return
	}
	f.mu.Lock()
	f.events = append(f.events, *ev)
	f.bodies = append(f.bodies, body)
	answer := f.answer
	f.mu.Unlock()
	if answer != nil && answer(w, ev) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := ""
	if ev.DedupKey != nil {
		key = *ev.DedupKey
	} else {
		key = fmt.Sprintf("generated-%d", len(f.events)) // PagerDuty makes one up
	}
	inc := f.incidents[key]
	switch ev.EventAction {
	case "trigger":
		if inc == nil {
			inc = &incident{}
			f.incidents[key] = inc
		}
		inc.triggers++
		if inc.state != "triggered" {
			inc.state = "triggered"
			inc.opened++
		}
	case "resolve":
		if inc != nil {
			inc.state = "resolved"
		}
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": key})
}

// validate checks an event against the documented schema and limits,
// returning what is wrong in PagerDuty's words.
func validate(contentType string, body []byte) (*wireEvent, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !strings.HasPrefix(contentType, "application/json") {
		bad("Content-Type %q is not application/json", contentType)
	}
	if len(body) > maxBody {
		return nil, append(problems, fmt.Sprintf("Event object is too large (over %d bytes)", maxBody))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var ev wireEvent
	if err := dec.Decode(&ev); err != nil {
		return nil, append(problems, "Event object is not valid JSON: "+err.Error())
	}
	if dec.More() {
		bad("trailing data after the event")
	}
	if len(ev.RoutingKey) != 32 {
		bad("Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	switch ev.EventAction {
	case "trigger":
		p := ev.Payload
		if p == nil {
			bad("'payload' is missing or blank")
			break
		}
		if p.Summary == "" {
			bad("'payload.summary' is missing or blank")
		}
		if n := utf8.RuneCountInString(p.Summary); n > 1024 {
			bad("Length of 'payload.summary' is too long (%d; must be <= 1024 characters)", n)
		}
		if strings.TrimSpace(p.Source) == "" {
			bad("'payload.source' is missing or blank")
		}
		if !slices.Contains([]string{"critical", "error", "warning", "info"}, p.Severity) {
			bad("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
		}
		if p.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339Nano, p.Timestamp); err != nil {
				bad("'payload.timestamp' is not an ISO 8601 timestamp: %v", err)
			}
		}
		if len(p.CustomDetails) > 0 && p.CustomDetails[0] != '{' {
			bad("'payload.custom_details' must be an object")
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == nil || *ev.DedupKey == "" {
			bad("'dedup_key' is missing or blank")
		}
	default:
		bad("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
	}
	if ev.DedupKey != nil && utf8.RuneCountInString(*ev.DedupKey) > 255 {
		bad("Length of 'dedup_key' is too long (must be <= 255 characters)")
	}
	for i, l := range ev.Links {
		u, err := url.Parse(l.Href)
		if err != nil || u.Scheme == "" || u.Host == "" {
			bad("'links[%d].href' is not a URL", i)
		}
	}
	return &ev, problems
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func truncateForLog(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// received returns the valid events so far and their bodies.
func (f *fakeEvents) received() ([]wireEvent, [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events), slices.Clone(f.bodies)
}

// incident returns the incident of a dedup key, nil if there is none.
func (f *fakeEvents) incident(key string) *incident {
	f.mu.Lock()
	defer f.mu.Unlock()
	if inc := f.incidents[key]; inc != nil {
		c := *inc
		return &c
	}
	return nil
}

func (f *fakeEvents) setAnswer(a func(w http.ResponseWriter, ev *wireEvent) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = a
}
