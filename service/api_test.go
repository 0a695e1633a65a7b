package service

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var (
	apiTestSince  = time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)
	apiTestNoData = time.Date(2026, 11, 5, 11, 50, 0, 0, time.UTC)
)

var apiTestAlert = AlertStatus{
	ID:       "9f2c",
	Alert:    "burn-rate",
	SLO:      "cypher-availability",
	Labels:   map[string]string{"database": "db-1"},
	Severity: "page",
	State:    "firing",
	Since:    apiTestSince,
}

var apiTestInstance = InstanceStatus{
	Labels:          map[string]string{"database": "db-1"},
	BurnRates:       map[string]float64{"1h": 16.8, "5m": 1000},
	BudgetRemaining: -0.25,
	Events:          EventCounts{Total: 1000, User: 10, Ignore: 2, Platform: 3},
	TopCodes:        []CodeCount{{Code: "Neo.TransientError.General.DatabaseUnavailable", Class: "platform", Rule: "neo4j", Count: 3}},
	Alerts:          []AlertStatus{apiTestAlert},
	NoDataSince:     &apiTestNoData,
}

const apiTestInstanceJSON = `{"labels":{"database":"db-1"},"burn_rates":{"1h":16.8,"5m":1000},"budget_remaining":-0.25,` +
	`"events":{"total":1000,"user":10,"ignore":2,"platform":3},` +
	`"top_codes":[{"code":"Neo.TransientError.General.DatabaseUnavailable","class":"platform","rule":"neo4j","count":3}],` +
	`"alerts":[` + apiTestAlertJSON + `],"no_data_since":"2026-11-05T11:50:00Z"}`

const apiTestAlertJSON = `{"id":"9f2c","alert":"burn-rate","slo":"cypher-availability","labels":{"database":"db-1"},` +
	`"severity":"page","state":"firing","since":"2026-11-05T02:00:00Z"}`

var apiTestStatus = SLOStatus{
	Name:        "cypher-availability",
	Description: "Cypher queries succeed",
	Objective:   99.9,
	Window:      "30d",
	Source:      "events",
	Instances:   2,
	Firing:      1,
	Worst:       []InstanceStatus{apiTestInstance},
}

const apiTestStatusJSON = `"name":"cypher-availability","description":"Cypher queries succeed","objective":99.9,"window":"30d",` +
	`"source":"events","instances":2,"firing":1,"worst":[` + apiTestInstanceJSON + `]`

func TestListSLOs(t *testing.T) {
	t.Run("lists every SLO with its worst instances", func(t *testing.T) {
		at := newAPITest(t, func(o *HandlerOptions) {
			o.View.(*apiFakeView).slos = func() []SLOStatus {
				return []SLOStatus{apiTestStatus, {Name: "api-availability", Objective: 99, Window: "7d", Source: "prometheus"}}
			}
		})
		wantJSON(t, at.get("/api/v1/slos"), http.StatusOK,
			`{"slos":[{`+apiTestStatusJSON+`},`+
				`{"name":"api-availability","objective":99,"window":"7d","source":"prometheus","instances":0,"firing":0,"worst":[]}]}`)
	})
	t.Run("answers an empty list, not null, with no SLOs", func(t *testing.T) {
		at := newAPITest(t, nil)
		wantJSON(t, at.get("/api/v1/slos"), http.StatusOK, `{"slos":[]}`)
	})
}

func TestGetSLO(t *testing.T) {
	at := newAPITest(t, func(o *HandlerOptions) {
		o.View.(*apiFakeView).slo = func(name string) (SLODetail, bool) {
			if name != "cypher-availability" {
				return SLODetail{}, false
			}
			healthy := InstanceStatus{Labels: map[string]string{"database": "db-2"}, BurnRates: map[string]float64{"5m": 0}, BudgetRemaining: 1}
			return SLODetail{SLOStatus: apiTestStatus, All: []InstanceStatus{apiTestInstance, healthy}}, true
		}
	})
	t.Run("answers an SLO with every instance", func(t *testing.T) {
		wantJSON(t, at.get("/api/v1/slos/cypher-availability"), http.StatusOK,
			`{`+apiTestStatusJSON+`,"all":[`+apiTestInstanceJSON+`,`+
				`{"labels":{"database":"db-2"},"burn_rates":{"5m":0},"budget_remaining":1,"events":{"total":0,"user":0,"ignore":0,"platform":0}}]}`)
	})
	t.Run("answers 404 with a JSON error for an unknown SLO", func(t *testing.T) {
		wantJSON(t, at.get("/api/v1/slos/nope"), http.StatusNotFound, `{"error":"no SLO named \"nope\""}`)
	})
}

func TestListAlerts(t *testing.T) {
	t.Run("lists the firing alerts as the view orders them", func(t *testing.T) {
		older := apiTestAlert
		older.ID, older.Severity, older.Since = "77ab", "ticket", apiTestSince.Add(-time.Hour)
		at := newAPITest(t, func(o *HandlerOptions) {
			o.View.(*apiFakeView).alerts = func() []AlertStatus { return []AlertStatus{apiTestAlert, older} }
		})
		wantJSON(t, at.get("/api/v1/alerts"), http.StatusOK,
			`{"alerts":[`+apiTestAlertJSON+`,`+
				`{"id":"77ab","alert":"burn-rate","slo":"cypher-availability","labels":{"database":"db-1"},"severity":"ticket","state":"firing","since":"2026-11-05T01:00:00Z"}]}`)
	})
	t.Run("answers an empty list when nothing fires", func(t *testing.T) {
		at := newAPITest(t, nil)
		wantJSON(t, at.get("/api/v1/alerts"), http.StatusOK, `{"alerts":[]}`)
	})
}

// TestTheAPIsEventsAreWholeCounts: fractional counts (a Datadog rollup, a
// pusher's rate times a minute) sum with float noise in the engine; the
// API states whole events: 10000.1 + 10000.2 + 499.7 queries are 20500,
// not 20500.000000000004, and 3 × 1.1 failures are 3.
func TestTheAPIsEventsAreWholeCounts(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	for _, total := range []string{"10000.1", "10000.2", "499.7"} {
		at := ts.clock.Truncate(time.Minute)
		ts.push(`{"time":"` + at.Format(time.RFC3339) + `","slo":"cypher-availability","labels":{"database":"db-1"},"total":` + total + `,"errors":{"Neo.DatabaseError.General.UnknownError":1.1}}` + "\n")
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(ts.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/slos/cypher-availability")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"events":{"total":20500,"user":0,"ignore":0,"platform":3}`, `"count":3}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
}
