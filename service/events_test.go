package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// apiTestEvent is a good line at apiTestNow for the 30d SLO.
const apiTestEvent = `{"time":"2026-11-05T12:00:10Z","slo":"cypher-availability","labels":{"database":"db-1"},"total":120,"errors":{"Neo.TransientError.General.DatabaseUnavailable":3}}`

// apiTestLine is apiTestEvent with fields replaced: each key of set is a
// field, and its value the raw JSON that replaces it; "" drops the field.
func apiTestLine(t *testing.T, set map[string]string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(apiTestEvent), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = json.RawMessage(v)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseEventsAcceptsGoodBatches(t *testing.T) {
	cfg := apiTestSLOConfig(t)
	body := strings.Join([]string{
		apiTestEvent,
		"",
		"   ",
		`{"time":"2026-11-05T13:59:59.9+02:00","slo":"api-availability","labels":{"cluster":"eu-1","tenant":"t-7","pod":"p-1"},"total":5}`,
		`{"time":"2026-10-06T12:00:31Z","slo":"cypher-availability","labels":{"database":"db-2"},"total":0,"errors":{}}` + "\r",
		`{"time":"2026-11-05T12:05:30Z","slo":"cypher-availability","labels":{"database":"db-3"},"total":10,"errors":{"A":4,"B":6}}`,
		"",
	}, "\n")
	got, err := ParseEvents([]byte(body), cfg, apiTestNow)
	if err != nil {
		t.Fatalf("ParseEvents: %v", err)
	}
	want := []PushedEvent{
		{Time: time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC), SLO: "cypher-availability", Labels: map[string]string{"database": "db-1"},
			Total: 120, Errors: map[string]float64{"Neo.TransientError.General.DatabaseUnavailable": 3}},
		// Converted to UTC and truncated to the minute; extra labels kept.
		{Time: time.Date(2026, 11, 5, 11, 59, 0, 0, time.UTC), SLO: "api-availability",
			Labels: map[string]string{"cluster": "eu-1", "tenant": "t-7", "pod": "p-1"}, Total: 5},
		// Just inside the 30d window; CRLF line ends are fine.
		{Time: time.Date(2026, 10, 6, 12, 0, 0, 0, time.UTC), SLO: "cypher-availability", Labels: map[string]string{"database": "db-2"},
			Errors: map[string]float64{}},
		// Exactly MaxEventSkew ahead, errors adding up to total exactly.
		{Time: time.Date(2026, 11, 5, 12, 5, 0, 0, time.UTC), SLO: "cypher-availability", Labels: map[string]string{"database": "db-3"},
			Total: 10, Errors: map[string]float64{"A": 4, "B": 6}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %+v\nwant %+v", got, want)
	}
}

func TestParseEventsRejectsBadLines(t *testing.T) {
	cfg := apiTestSLOConfig(t)
	tests := []struct {
		name string
		body string
		want string
	}{
		{"a negative error count names the line and the code",
			apiTestEvent + "\n" + apiTestEvent + "\n" + apiTestLine(t, map[string]string{"errors": `{"X":-1}`}) + "\n" + apiTestEvent,
			`line 3: errors["X"]: -1 is negative`},
		{"line numbers count blank lines",
			"\n\n" + apiTestLine(t, map[string]string{"total": "-1"}),
			`line 3: total: -1 is negative`},
		{"an SLO the config does not have is refused",
			apiTestLine(t, map[string]string{"slo": `"nope"`}),
			`line 1: slo: "nope" is not an SLO of the running config`},
		{"a line must name its SLO",
			apiTestLine(t, map[string]string{"slo": ""}),
			`line 1: slo: missing; name the SLO the counts belong to`},
		{"every group_by label must be present",
			`{"time":"2026-11-05T12:00:00Z","slo":"api-availability","labels":{"cluster":"eu-1"},"total":1}`,
			`line 1: labels: "tenant" is missing; SLO "api-availability" groups by cluster, tenant`},
		{"no labels at all misses the group_by label",
			apiTestLine(t, map[string]string{"labels": ""}),
			`line 1: labels: "database" is missing; SLO "cypher-availability" groups by database`},
		{"a group_by label needs a value",
			apiTestLine(t, map[string]string{"labels": `{"database":""}`}),
			`line 1: labels["database"]: empty; SLO "cypher-availability" groups by it, so it needs a value`},
		{"label names must be valid",
			apiTestLine(t, map[string]string{"labels": `{"database":"db-1","1st-try":"x"}`}),
			`line 1: labels["1st-try"]: "1st-try" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)`},
		{"the code label is not an instance label",
			apiTestLine(t, map[string]string{"labels": `{"database":"db-1","code":"X"}`}),
			`line 1: labels["code"]: "code" is the code label of SLO "cypher-availability"; error codes go in errors`},
		{"total must be there",
			apiTestLine(t, map[string]string{"total": ""}),
			`line 1: total: missing; give the number of events in the minute, failed ones included`},
		{"total can't be negative",
			apiTestLine(t, map[string]string{"total": "-0.5", "errors": ""}),
			`line 1: total: -0.5 is negative`},
		{"a count over the largest a line may carry is refused, so that no sum can overflow",
			apiTestLine(t, map[string]string{"total": "1e308", "errors": ""}),
			`line 1: total: 1e+308 is more than the 1e+12 events a line may count`},
		{"so is an error count over it",
			apiTestLine(t, map[string]string{"total": "1e12", "errors": `{"X":1.5e12}`}),
			`line 1: errors["X"]: 1.5e+12 is more than the 1e+12 events a line may count`},
		{"a number JSON cannot hold in a float names its field",
			apiTestLine(t, map[string]string{"total": "1e309", "errors": ""}),
			`line 1: total: 1e309 is out of range; a count is at most 1e+12`},
		{"an error code can't be empty",
			apiTestLine(t, map[string]string{"errors": `{"":1}`}),
			`line 1: errors[""]: an error code can't be empty`},
		{"errors can't add up to more than total",
			apiTestLine(t, map[string]string{"errors": `{"A":100,"B":30}`}),
			`line 1: errors: they add up to 130, more than total 120`},
		{"time must be there",
			apiTestLine(t, map[string]string{"time": ""}),
			`line 1: time: missing; give the minute the counts belong to in RFC 3339, such as 2026-11-05T02:00:00Z`},
		{"time must be RFC 3339",
			apiTestLine(t, map[string]string{"time": `"2026-11-05 12:00"`}),
			`line 1: time: "2026-11-05 12:00" is not an RFC 3339 time such as 2026-11-05T02:00:00Z`},
		{"time can't be more than 5m ahead",
			apiTestLine(t, map[string]string{"time": `"2026-11-05T12:05:31Z"`}),
			`line 1: time: 2026-11-05T12:05:31Z is more than 5m in the future`},
		{"time can't be as old as the SLO's window",
			apiTestLine(t, map[string]string{"time": `"2026-10-06T12:00:30Z"`}),
			`line 1: time: 2026-10-06T12:00:30Z is older than the 30d window of SLO "cypher-availability"`},
		{"the window is the line's own SLO's",
			`{"time":"2026-10-29T12:00:00Z","slo":"api-availability","labels":{"cluster":"eu-1","tenant":"t-7"},"total":1}`,
			`line 1: time: 2026-10-29T12:00:00Z is older than the 1w window of SLO "api-availability"`},
		{"a misspelt field is an error, not a silent loss",
			strings.Replace(apiTestEvent, `"errors"`, `"erors"`, 1),
			`line 1: erors: unknown field; an event has time, slo, labels, total and errors`},
		{"a count given as a string names its field",
			apiTestLine(t, map[string]string{"total": `"120"`}),
			`line 1: total: a JSON string where a number belongs`},
		{"an error count given as a string names errors",
			apiTestLine(t, map[string]string{"errors": `{"X":"3"}`}),
			`line 1: errors: a JSON string where a number belongs`},
		{"time given as a number names time",
			apiTestLine(t, map[string]string{"time": `1762344000`}),
			`line 1: time: a JSON number where a string belongs`},
		{"a line that is not JSON",
			apiTestEvent + "\nhello",
			`line 2: not JSON: invalid character 'h' looking for beginning of value`},
		{"a line cut short",
			apiTestEvent[:40],
			`line 1: not JSON: the line ends inside a value`},
		{"a line that is not an object",
			`[1,2]`,
			`line 1: a JSON array where an event object belongs`},
		{"two events on one line",
			apiTestEvent + " " + apiTestEvent,
			`line 1: more than one JSON value; send one event a line`},
		{"a body of blank lines holds no events",
			"\n  \n",
			`the body holds no events; send one JSON object a line`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvents([]byte(tt.body), cfg, apiTestNow)
			if err == nil {
				t.Fatalf("ParseEvents accepted the batch: %+v", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %s\nwant %s", err, tt.want)
			}
			if got != nil {
				t.Errorf("ParseEvents returned events with its error: %+v", got)
			}
		})
	}
}

func TestParseEventsErrorIsALineError(t *testing.T) {
	_, err := ParseEvents([]byte(apiTestEvent+"\n"+apiTestLine(t, map[string]string{"total": "-2"})), apiTestSLOConfig(t), apiTestNow)
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is a %T, want *LineError", err, err)
	}
	if le.Line != 2 || le.Field != "total" {
		t.Errorf("LineError{Line: %d, Field: %q}, want line 2, field total", le.Line, le.Field)
	}
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func TestPushEventsAuthentication(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"no Authorization header", nil},
		{"a wrong token", bearer("guess")},
		{"the token as a prefix of a longer one", bearer(apiTestToken + "x")},
		{"the token under another scheme", http.Header{"Authorization": {"Basic " + apiTestToken}}},
		{"the bare token", http.Header{"Authorization": {apiTestToken}}},
	}
	for _, tt := range tests {
		t.Run("answers 401 to "+tt.name, func(t *testing.T) {
			at := newAPITest(t, nil)
			r := at.do(http.MethodPost, "/api/v1/events", tt.header, strings.NewReader(apiTestEvent))
			wantJSON(t, r, http.StatusUnauthorized, `{"error":"a valid bearer token is required"}`)
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="burnwatch"` {
				t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
			}
			if n := len(at.batches.stored()); n != 0 {
				t.Errorf("%d batches stored without authentication", n)
			}
			if got := apiCounterValue(t, at.reg, "burnwatch_events_rejected_total", "reason", "unauthorized"); got != 1 {
				t.Errorf("rejected{reason=unauthorized} = %v, want 1", got)
			}
		})
	}
	t.Run("accepts the scheme in any case", func(t *testing.T) {
		at := newAPITest(t, nil)
		r := at.do(http.MethodPost, "/api/v1/events", http.Header{"Authorization": {"bearer " + apiTestToken}}, strings.NewReader(apiTestEvent))
		wantStatus(t, r, http.StatusAccepted)
	})
}

func TestPushEventsStoresAGoodBatchBeforeAnswering(t *testing.T) {
	at := newAPITest(t, nil)
	body := apiTestEvent + "\n\n" + apiTestLine(t, map[string]string{"labels": `{"database":"db-2"}`}) + "\n"
	stored := false
	at.batches.appendBatch = func(ctx context.Context, received int64, ndjson []byte) (int64, error) {
		stored = true
		return 7, nil
	}
	r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(body))
	wantJSON(t, r, http.StatusAccepted, `{"accepted":2,"batch":7}`)
	if !stored {
		t.Fatal("answered 202 without storing")
	}
	calls := at.batches.stored()
	if len(calls) != 1 {
		t.Fatalf("AppendBatch called %d times, want once", len(calls))
	}
	if string(calls[0].ndjson) != body {
		t.Errorf("stored body\n got %q\nwant %q", calls[0].ndjson, body)
	}
	if calls[0].received != apiTestNow.UnixMilli() {
		t.Errorf("received %d, want %d (now in Unix milliseconds)", calls[0].received, apiTestNow.UnixMilli())
	}
	if got := apiCounterValue(t, at.reg, "burnwatch_events_accepted_total", "", ""); got != 2 {
		t.Errorf("events accepted = %v, want 2", got)
	}
}

func TestPushEventsRefusesABadLineAndStoresNothing(t *testing.T) {
	at := newAPITest(t, nil)
	body := strings.Join([]string{apiTestEvent, apiTestEvent, apiTestLine(t, map[string]string{"errors": `{"X":-1}`}), apiTestEvent}, "\n")
	r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(body))
	wantJSON(t, r, http.StatusBadRequest, `{"error":"line 3: errors[\"X\"]: -1 is negative"}`)
	if n := len(at.batches.stored()); n != 0 {
		t.Errorf("AppendBatch called %d times for a bad batch, want never", n)
	}
	if got := apiCounterValue(t, at.reg, "burnwatch_events_rejected_total", "reason", "invalid"); got != 1 {
		t.Errorf("rejected{reason=invalid} = %v, want 1", got)
	}
}

func TestPushEventsRefusesLargeBodies(t *testing.T) {
	const limit = 1024
	big := strings.Repeat(apiTestEvent+"\n", limit/len(apiTestEvent)+2)
	t.Run("answers 413 to a declared length over the limit", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) { o.MaxBody = limit })
		r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(big))
		wantJSON(t, r, http.StatusRequestEntityTooLarge, `{"error":"the body is larger than 1024 bytes; send smaller batches"}`)
		if n := len(at.batches.stored()); n != 0 {
			t.Errorf("AppendBatch called %d times, want never", n)
		}
		if got := apiCounterValue(t, at.reg, "burnwatch_events_rejected_total", "reason", "too_large"); got != 1 {
			t.Errorf("rejected{reason=too_large} = %v, want 1", got)
		}
	})
	t.Run("answers 413 to a chunked body that grows over the limit", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) { o.MaxBody = limit })
		// Hiding the length behind a plain io.Reader makes the client send
		// the body chunked, so only reading it finds the size.
		r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), io.MultiReader(strings.NewReader(big)))
		wantStatus(t, r, http.StatusRequestEntityTooLarge)
		if n := len(at.batches.stored()); n != 0 {
			t.Errorf("AppendBatch called %d times, want never", n)
		}
	})
	t.Run("defaults to 10 MiB", func(t *testing.T) {
		at := newAPITest(t, nil)
		over := strings.Repeat("\n", DefaultMaxBody+1)
		r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(over))
		wantJSON(t, r, http.StatusRequestEntityTooLarge, `{"error":"the body is larger than 10485760 bytes; send smaller batches"}`)
	})
}

func TestPushEventsAnswers503WhenTheStoreFails(t *testing.T) {
	at := newAPITest(t, nil)
	at.batches.appendBatch = func(context.Context, int64, []byte) (int64, error) {
		return 0, errors.New("storing batch: database is locked")
	}
	r := at.do(http.MethodPost, "/api/v1/events", bearer(apiTestToken), strings.NewReader(apiTestEvent))
	wantJSON(t, r, http.StatusServiceUnavailable, `{"error":"the batch could not be stored, and nothing of it was kept; send it again later"}`)
	if got := apiCounterValue(t, at.reg, "burnwatch_events_rejected_total", "reason", "store_error"); got != 1 {
		t.Errorf("rejected{reason=store_error} = %v, want 1", got)
	}
	if got := apiCounterValue(t, at.reg, "burnwatch_events_accepted_total", "", ""); got != 0 {
		t.Errorf("events accepted = %v after a store failure, want 0", got)
	}
	at.close()
	if logs := at.logs.String(); !strings.Contains(logs, "database is locked") {
		t.Errorf("the store's error is not logged:\n%s", logs)
	}
}

func TestPushEventsIsOffWithoutAToken(t *testing.T) {
	tests := []struct {
		name  string
		token func() (string, error)
	}{
		{"no token source", nil},
		{"an unreadable token file", func() (string, error) {
			return "", errors.New("reading events token: open /etc/burnwatch/token: permission denied")
		}},
		{"an empty token", func() (string, error) { return "", nil }},
	}
	for _, tt := range tests {
		t.Run("answers 503 with "+tt.name, func(t *testing.T) {
			at := newAPITest(t, func(o *HandlerOptions) { o.EventsToken = tt.token })
			for _, h := range []http.Header{nil, bearer(""), bearer(apiTestToken)} {
				r := at.do(http.MethodPost, "/api/v1/events", h, strings.NewReader(apiTestEvent))
				wantJSON(t, r, http.StatusServiceUnavailable, `{"error":"the events endpoint has no usable token configured; see the server's log"}`)
			}
			if n := len(at.batches.stored()); n != 0 {
				t.Errorf("AppendBatch called %d times, want never", n)
			}
		})
	}
}

func TestTokenNeverInLogsOrResponses(t *testing.T) {
	at := newAPITest(t, nil)
	var bodies []string
	send := func(h http.Header, body string) {
		r := at.do(http.MethodPost, "/api/v1/events", h, strings.NewReader(body))
		bodies = append(bodies, r.body)
		for k, vs := range r.header {
			bodies = append(bodies, k+": "+strings.Join(vs, ","))
		}
	}
	send(bearer(apiTestToken), apiTestEvent)                                     // accepted
	send(bearer(apiTestToken), apiTestLine(t, map[string]string{"total": "-1"})) // invalid
	send(bearer(apiTestToken+"-wrong"), apiTestEvent)                            // unauthorized
	send(http.Header{"Authorization": {"Basic " + apiTestToken}}, apiTestEvent)  // wrong scheme
	send(bearer(apiTestToken), strings.Repeat("x", DefaultMaxBody+1))            // too large
	at.batches.appendBatch = func(context.Context, int64, []byte) (int64, error) { return 0, errors.New("disk full") }
	send(bearer(apiTestToken), apiTestEvent) // store error
	for _, path := range []string{"/api/v1/slos", "/api/v1/alerts", "/metrics", "/readyz", "/healthz"} {
		r := at.do(http.MethodGet, path, bearer(apiTestToken), nil)
		bodies = append(bodies, r.body)
	}
	at.close()

	logs := at.logs.String()
	if !strings.Contains(logs, `"path":"/api/v1/events"`) {
		t.Fatalf("the requests were not logged, so the test proves nothing:\n%s", logs)
	}
	secret := "T0KEN-do-not-leak" // any part of the token, not only all of it
	if strings.Contains(logs, secret) {
		t.Errorf("the token is in the log:\n%s", logs)
	}
	for _, b := range bodies {
		if strings.Contains(b, secret) {
			t.Errorf("the token is in a response: %.300s", b)
		}
	}
}

// TestCountsThatWouldOverflowAreRefused: 1e308 twice for the same
// instance and minute was accepted and overflowed every sum to +Inf: the
// budget became NaN, the instance never alerted and /api/v1/slos answered
// an empty 200. Such a batch is refused, naming the line and the field,
// and the service's numbers stay finite.
func TestCountsThatWouldOverflowAreRefused(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	line := func(total string) string {
		return fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":%s}`+"\n", ts.clock.Format(time.RFC3339), total)
	}
	for range 2 {
		r := ts.pushBody(line("5") + line("1e308"))
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "line 2: total: 1e+308 is more than") {
			t.Fatalf("push of 1e308: %d %s; want 400 naming line 2 and total", r.status, r.body)
		}
	}
	if r := ts.pushBody(line("1e12")); r.status != http.StatusAccepted {
		t.Fatalf("push of the largest count: %d %s", r.status, r.body)
	}
	ts.clock = ts.clock.Add(time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, _ := ts.SLO("cypher-availability")
	if len(d.All) != 1 || d.All[0].Events.Total != 1e12 || math.IsNaN(d.All[0].BudgetRemaining) {
		t.Errorf("instances %+v: want db-1 with 1e12 events and a finite budget", d.All)
	}
}
