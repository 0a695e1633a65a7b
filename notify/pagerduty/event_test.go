package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/notify"
)

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		config   map[string]string
		severity string
		want     string
	}{
		{"a page is critical by default", nil, "page", "critical"},
		{"a ticket is a warning by default", nil, "ticket", "warning"},
		{"the config overrides a ticket", map[string]string{"ticket": "info"}, "ticket", "info"},
		{"overriding the ticket leaves the page critical", map[string]string{"ticket": "info"}, "page", "critical"},
		{"a severity the map does not name is an error", nil, "someday", "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEvents(t)
			r := newReceiver(t, f, nil, func(c *Config) { c.Severity = tc.config })
			n := firing()
			n.Severity = tc.severity
			notifyOK(t, r, n)
			if events, _ := f.received(); events[0].Payload.Severity != tc.want {
				t.Errorf("payload.severity = %q; want %q", events[0].Payload.Severity, tc.want)
			}
		})
	}
}

func TestASurgeNamesTheSLOAsSourceAndListsItsInstances(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil, func(c *Config) { c.Component = "neo4j-eu-1" })
	n := notify.Notification{
		AlertID:  "surge-1",
		Kind:     "user-fault-surge",
		SLO:      "cypher-availability",
		Severity: "ticket",
		State:    "firing",
		Time:     t0,
		Onset:    t0,
		Summary:  "cypher-availability: user faults surge on 2 of 40 databases",
		Instances: []map[string]string{
			{"database": "db-7", "orchestra": "eu-1"},
			{"database": "db-9", "orchestra": "eu-1"},
		},
		Surging: 2,
		Fleet:   40,
		Codes:   []notify.Code{{Code: "42N62", Class: "user", Count: 9000}},
	}
	notifyOK(t, r, n)
	events, _ := f.received()
	p := events[0].Payload
	if p.Source != "cypher-availability" || p.Group != "cypher-availability" || p.Class != "42N62" || p.Component != "neo4j-eu-1" || p.Severity != "warning" {
		t.Errorf("payload = %+v; want source and group the SLO, class 42N62, component neo4j-eu-1, severity warning", p)
	}
	if len(events[0].Links) != 0 {
		t.Errorf("links = %v; want none without a playbook or dashboard URL", events[0].Links)
	}
	assertJSONEqual(t, "custom_details", p.CustomDetails, `{
		"alert": "user-fault-surge",
		"slo": "cypher-availability",
		"severity": "ticket",
		"top_codes": [{"code": "42N62", "class": "user", "count": 9000}],
		"onset": "2026-11-05T02:00:00Z",
		"surging": 2,
		"fleet": 40,
		"instances": ["{database=\"db-7\", orchestra=\"eu-1\"}", "{database=\"db-9\", orchestra=\"eu-1\"}"]
	}`)
}

func TestWithoutCodesTheClassIsTheAlertKind(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	n.Kind, n.Codes = "no-data", nil
	notifyOK(t, r, n)
	if events, _ := f.received(); events[0].Payload.Class != "no-data" {
		t.Errorf("payload.class = %q; want no-data", events[0].Payload.Class)
	}
}

func TestTheEventStaysWithin512KB(t *testing.T) {
	for _, tc := range []struct {
		name          string
		instances     int
		valueLen      int
		wantInstances func(int) bool
	}{
		{"a surge over 50,000 instances lists the first 100", 50_000, 10, func(n int) bool { return n == 100 }},
		{"100 instances of 10 KB labels are cut until the event fits", 100, 10 << 10, func(n int) bool { return n > 0 && n < 100 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeEvents(t)
			r := newReceiver(t, f, nil)
			n := firing()
			n.Kind, n.Labels = "user-fault-surge", nil
			for i := range tc.instances {
				n.Instances = append(n.Instances, map[string]string{"database": fmt.Sprintf("db-%d-%s", i, strings.Repeat("x", tc.valueLen))})
			}
			n.Surging, n.Fleet = tc.instances, 2*tc.instances
			notifyOK(t, r, n) // the fake refuses a body over 512 KB
			_, bodies := f.received()
			if len(bodies[0]) > 512<<10 {
				t.Fatalf("the event is %d bytes", len(bodies[0]))
			}
			var d struct {
				Instances        []string `json:"instances"`
				InstancesOmitted int      `json:"instances_omitted"`
				TopCodes         []code   `json:"top_codes"`
			}
			events, _ := f.received()
			if err := json.Unmarshal(events[0].Payload.CustomDetails, &d); err != nil {
				t.Fatal(err)
			}
			if !tc.wantInstances(len(d.Instances)) || len(d.Instances)+d.InstancesOmitted != tc.instances {
				t.Errorf("custom_details lists %d instances and omits %d of %d", len(d.Instances), d.InstancesOmitted, tc.instances)
			}
			if len(d.TopCodes) != 2 {
				t.Errorf("custom_details has %d top codes; want both kept while instances could go", len(d.TopCodes))
			}
		})
	}
}

func TestNumbersJSONCannotHoldStillMakeAnEvent(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	n.BurnRates = []notify.BurnRate{{Window: "1h", Rate: math.Inf(1)}, {Window: "5m", Rate: math.NaN()}}
	n.BudgetRemaining = -0.0000001
	notifyOK(t, r, n)
	events, _ := f.received()
	var d map[string]any
	if err := json.Unmarshal(events[0].Payload.CustomDetails, &d); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d["burn_rates"], " ", d["budget_remaining_percent"]); got != "map[1h:+Inf 5m:NaN] 0" {
		t.Errorf("burn_rates and budget_remaining_percent = %s; want map[1h:+Inf 5m:NaN] 0", got)
	}
}

func TestALinkPagerDutyCannotOpenIsLeftOutNotTheEvent(t *testing.T) {
	f := newFakeEvents(t)
	var log bytes.Buffer
	r := newReceiver(t, f, &log)
	n := firing()
	n.PlaybookURL = "/playbooks/database-unavailable" // no external base URL configured
	notifyOK(t, r, n)
	events, _ := f.received()
	if len(events[0].Links) != 1 || events[0].Links[0].Text != "Dashboard" {
		t.Errorf("links = %+v; want the dashboard only", events[0].Links)
	}
	if !strings.Contains(log.String(), `"level":"WARN","msg":"pagerduty link left out`) {
		t.Errorf("no warning logged:\n%s", log.String())
	}
}

func TestDedupKey(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct{ id, want string }{
		{testAlertID, testAlertID},
		{strings.Repeat("é", 255), strings.Repeat("é", 255)}, // 255 characters, 510 bytes
		{long, "9835fa6bf4e20a9b9ea812506302e98982721a6cf8d2cae67af57129bf21ae90"},
	} {
		got, err := dedupKey(tc.id)
		if err != nil || got != tc.want {
			t.Errorf("dedupKey(%.20q…) = %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
	if k, _ := dedupKey(long); k != mustDedupKey(t, long) {
		t.Errorf("dedupKey of a long ID is not stable")
	}
}

func mustDedupKey(t *testing.T, id string) string {
	k, err := dedupKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAnEmptySummaryStillSaysWhatFiredWhere(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	n.Summary = ""
	notifyOK(t, r, n)
	if events, _ := f.received(); events[0].Payload.Summary != `burn-rate cypher-availability {database="db-1"}` {
		t.Errorf("summary = %q", events[0].Payload.Summary)
	}
}

// TestTextPagerDutyShowsCarriesNoControlCharacters: the summary and class
// are the incident's title and grouping in PagerDuty; a line break, an
// ANSI escape or a bidi override from a tenant's code or database name is
// shown escaped, never passed on.
func TestTextPagerDutyShowsCarriesNoControlCharacters(t *testing.T) {
	f := newFakeEvents(t)
	r := newReceiver(t, f, nil)
	n := firing()
	n.Summary = "[PAGE] cypher-availability {database=\"db-1\"}\nRESOLVED: all good\x1b[8m"
	n.Codes = []notify.Code{{Code: "Neo.X\u202eSyntaxError\r\n", Class: "platform", Count: 1}}
	notifyOK(t, r, n)
	events, _ := f.received()
	p := events[0].Payload
	if want := `[PAGE] cypher-availability {database="db-1"}\nRESOLVED: all good\x1b[8m`; p.Summary != want {
		t.Errorf("summary = %q, want %q", p.Summary, want)
	}
	if want := `Neo.X\u202eSyntaxError\r\n`; p.Class != want {
		t.Errorf("class = %q, want %q", p.Class, want)
	}
}

// TestWarningsGoToTheServicesLogger: a link left out is a warning in the
// logger given with WithLogger (the service's, with its --log.format),
// not in slog.Default(), which writes through the standard log package.
func TestWarningsGoToTheServicesLogger(t *testing.T) {
	f := newFakeEvents(t)
	var log, fallback bytes.Buffer
	defaultLog := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&fallback, nil)))
	t.Cleanup(func() { slog.SetDefault(defaultLog) })
	r, err := New("oncall", Config{RoutingKeyFile: writeKey(t, testKey), Endpoint: f.srv.URL},
		WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	n := firing()
	n.PlaybookURL = "/playbooks/database-unavailable"
	notifyOK(t, r, n)
	if !strings.Contains(log.String(), `"level":"WARN","msg":"pagerduty link left out`) {
		t.Errorf("the warning is not in the service's JSON log:\n%s", log.String())
	}
	if fallback.Len() > 0 {
		t.Errorf("the default logger got: %s", fallback.String())
	}
}
