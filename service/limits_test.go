package service

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const limitedEventsConfig = eventsConfig + `
limits:
  max_instances_per_slo: 2
  max_codes_per_instance: 2
  max_labels: 8
  max_label_value_length: 64
  max_silences: 3
  max_silence_bytes: 2048
`

func newLimitedService(t *testing.T) (*testService, *apiLogBuffer) {
	t.Helper()
	logs := &apiLogBuffer{}
	ts := &testService{t: t, dir: t.TempDir(), logs: logs}
	ts.clock = ts.clockStart()
	writeConfig(t, ts.dir, limitedEventsConfig)
	ts.open()
	t.Cleanup(func() { ts.Close() })
	return ts, logs
}

// TestSilencesAreBoundedInNumberAndSize: 60 silences of 1 MB each were
// accepted (and logged whole); now a silence larger than
// max_silence_bytes gets 413, one more than max_silences 400, each counted
// and logged with its reason, and what a client wrote reaches the log cut
// short.
func TestSilencesAreBoundedInNumberAndSize(t *testing.T) {
	ts, logs := newLimitedService(t)
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	post := func(comment string) int {
		t.Helper()
		body := fmt.Sprintf(`{"matchers":[{"name":"database","value":"db-1"}],"end":%q,"author":"ana","comment":%q}`, ts.clock.Add(time.Hour).Format(time.RFC3339), comment)
		resp, err := http.Post(srv.URL+"/api/v1/silences", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(strings.Repeat("x", 3000)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a silence of 3 KB: %d, want 413", got)
	}
	long := strings.Repeat("why ", 400) // 1.6 KB: within the size, too long for a log line
	for i := range 3 {
		if got := post(long); got != http.StatusCreated {
			t.Fatalf("silence %d: %d", i+1, got)
		}
	}
	if got := post("one more"); got != http.StatusBadRequest {
		t.Errorf("a fourth silence: %d, want 400", got)
	}
	if n := len(ts.silenceSet().List(ts.clock)); n != 3 {
		t.Errorf("%d silences held, want 3", n)
	}
	for reason, want := range map[string]float64{"silences": 1, "silence_bytes": 1} {
		if got := apiCounterValue(t, ts.reg, "burnwatch_dropped_total", "reason", reason); got != want {
			t.Errorf("burnwatch_dropped_total{reason=%q} = %v, want %v", reason, got, want)
		}
	}
	out := logs.String()
	for _, want := range []string{`"reason":"silences","limit":3`, `"reason":"silence_bytes","limit":2048`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 1000 {
			t.Errorf("a log line of %d bytes: %.200s…", len(line), line)
		}
	}
}

// TestPushedLinesOverALimitAreRefusedNamingTheLine: labels and codes
// beyond the limits are a 400 naming the line and the field.
func TestPushedLinesOverALimitAreRefusedNamingTheLine(t *testing.T) {
	ts, _ := newLimitedService(t)
	at := ts.clock.Format(time.RFC3339)
	good := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":10}`, at)
	for _, tc := range []struct{ line, want string }{
		{fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":%q},"total":10}`, at, strings.Repeat("d", 65)),
			`line 2: labels[\"database\"]: longer than the 64 bytes a label may have (limits.max_label_value_length)`},
		{fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1","a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1"},"total":10}`, at),
			`line 2: labels: 9 labels, more than the 8 a series may have (limits.max_labels)`},
		{fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":10,"errors":{"A":1,"B":1,"C":1}}`, at),
			`line 2: errors: 3 codes, more than the 2 an instance may count (limits.max_codes_per_instance)`},
		{fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":10,"errors":{%q:1}}`, at, strings.Repeat("C", 65)),
			`longer than the 64 a label value may have (limits.max_label_value_length)`},
	} {
		r := ts.pushBody(good + "\n" + tc.line + "\n")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("%d %s\nwant 400 with %s", r.status, r.body, tc.want)
		}
	}
}

// TestInstancesOverTheLimitAreDroppedLoggedAndCounted: a pushed fleet
// larger than max_instances_per_slo makes no more instances than that;
// the rest is dropped when counted, with its reason in the log and in
// burnwatch_dropped_total.
func TestInstancesOverTheLimitAreDroppedLoggedAndCounted(t *testing.T) {
	ts, logs := newLimitedService(t)
	var body strings.Builder
	for db := range 5 {
		fmt.Fprintf(&body, `{"time":%q,"slo":"cypher-availability","labels":{"database":"db-%d"},"total":10}`+"\n", ts.clock.Format(time.RFC3339), db)
	}
	if r := ts.pushBody(body.String()); r.status != http.StatusAccepted {
		t.Fatalf("push: %d %s", r.status, r.body)
	}
	ts.clock = ts.clock.Add(time.Minute)
	if err := ts.Cycle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d, _ := ts.SLO("cypher-availability"); len(d.All) != 2 {
		t.Errorf("%d instances, want 2", len(d.All))
	}
	if got := apiCounterValue(t, ts.reg, "burnwatch_dropped_total", "reason", "instances_per_slo"); got != 3 {
		t.Errorf("burnwatch_dropped_total{reason=instances_per_slo} = %v, want 3", got)
	}
	if out := logs.String(); !strings.Contains(out, `"msg":"series dropped: over a limit; raise it under limits: if the data is real","reason":"instances_per_slo","limit":2,"series":3,"slo":"cypher-availability"`) {
		t.Errorf("the log does not say what was dropped:\n%s", out)
	}
}

// TestASilenceIsReadByItsID: GET /api/v1/silences/{id}, documented, was
// a 404.
func TestASilenceIsReadByItsID(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	body := fmt.Sprintf(`{"id":"db-1-work","matchers":[{"name":"database","value":"db-1"}],"end":%q,"author":"ana","comment":"CHG-7"}`, ts.clock.Add(time.Hour).Format(time.RFC3339))
	resp, err := http.Post(srv.URL+"/api/v1/silences", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for path, want := range map[string]int{"/api/v1/silences/db-1-work": http.StatusOK, "/api/v1/silences/nope": http.StatusNotFound} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprint(&b, readAll(resp))
		if resp.StatusCode != want || want == http.StatusOK && !strings.Contains(b.String(), `"comment":"CHG-7"`) {
			t.Errorf("GET %s: %d %s, want %d", path, resp.StatusCode, b.String(), want)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
