package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// WriteJSON writes the report as one indented JSON document. Field names are
// snake_case and stable (docs/report.md lists them); NaN and ±Inf are null,
// as is the SLI of an instance with no data; times are RFC 3339; empty lists
// are [] rather than null so that consumers need no special case.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(toJSON(r)); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// number is a float64 that encodes NaN and ±Inf as null.
type number float64

func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// optTime is a time that encodes the zero time as null.
type optTime time.Time

func (t optTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t))
}

type jsonReport struct {
	Title     string    `json:"title"`
	From      optTime   `json:"from"`
	To        optTime   `json:"to"`
	Generated optTime   `json:"generated"`
	Fleet     jsonFleet `json:"fleet"`
	SLOs      []jsonSLO `json:"slos"`
}

type jsonFleet struct {
	SLOs         int      `json:"slos"`
	SLOsMet      int      `json:"slos_met"`
	Instances    int      `json:"instances"`
	InstancesMet int      `json:"instances_met"`
	AtRisk       []string `json:"at_risk"`
}

type jsonSLO struct {
	Name            string         `json:"name"`
	Description     string         `json:"description"`
	Objective       number         `json:"objective"`
	Window          string         `json:"window"`
	SLIWeek         number         `json:"sli_week"`
	SLIPeriod       number         `json:"sli_period"`
	BudgetRemaining number         `json:"budget_remaining"`
	BurnedWeek      number         `json:"burned_week"`
	BurnedPrevWeek  number         `json:"burned_prev_week"`
	BurnedMinutes   number         `json:"burned_minutes"`
	ExcludedMinutes number         `json:"excluded_minutes"`
	BurnDown        []jsonPoint    `json:"burn_down"`
	BurnRate        []jsonPoint    `json:"burn_rate"`
	Instances       []jsonInstance `json:"instances"`
	Codes           []jsonCode     `json:"codes"`
	Alerts          []jsonAlert    `json:"alerts"`
	UserFaults      []jsonInstance `json:"user_faults"`
	Surges          []string       `json:"surges"`
	Unclassified    []jsonCode     `json:"unclassified"`
}

type jsonPoint struct {
	T optTime `json:"t"`
	V number  `json:"v"`
}

type jsonInstance struct {
	Labels          map[string]string `json:"labels"`
	SLI             number            `json:"sli"`
	BudgetRemaining number            `json:"budget_remaining"`
	Burned          number            `json:"burned"`
	UserFaults      number            `json:"user_faults"`
	NoData          bool              `json:"no_data"`
	Spark           []number          `json:"spark"`
}

type jsonCode struct {
	Code  string `json:"code"`
	Class string `json:"class"`
	Count number `json:"count"`
}

type jsonAlert struct {
	Alert        string            `json:"alert"`
	Severity     string            `json:"severity"`
	Labels       map[string]string `json:"labels"`
	Fired        optTime           `json:"fired"`
	Resolved     optTime           `json:"resolved"`
	Acknowledged *bool             `json:"acknowledged"`
}

func toJSON(r Report) jsonReport {
	out := jsonReport{
		Title: r.Title, From: optTime(r.From), To: optTime(r.To), Generated: optTime(r.Generated),
		Fleet: jsonFleet{
			SLOs: r.Fleet.SLOs, SLOsMet: r.Fleet.SLOsMet,
			Instances: r.Fleet.Instances, InstancesMet: r.Fleet.InstancesMet,
			AtRisk: nonNil(r.Fleet.AtRisk),
		},
		SLOs: make([]jsonSLO, 0, len(r.SLOs)),
	}
	for _, s := range r.SLOs {
		js := jsonSLO{
			Name: s.Name, Description: s.Description, Objective: number(s.Objective), Window: s.Window,
			SLIWeek: number(s.SLIWeek), SLIPeriod: number(s.SLIPeriod),
			BudgetRemaining: number(s.BudgetRemaining),
			BurnedWeek:      number(s.BurnedWeek), BurnedPrevWeek: number(s.BurnedPrevWeek),
			BurnedMinutes: number(s.BurnedMinutes), ExcludedMinutes: number(s.ExcludedMinutes),
			BurnDown: jsonPoints(s.BurnDown), BurnRate: jsonPoints(s.BurnRate),
			Instances: jsonInstances(s.Instances), UserFaults: jsonInstances(s.UserFaults),
			Codes: jsonCodes(s.Codes), Unclassified: jsonCodes(s.Unclassified),
			Alerts: make([]jsonAlert, 0, len(s.Alerts)),
			Surges: nonNil(s.Surges),
		}
		for _, a := range s.Alerts {
			js.Alerts = append(js.Alerts, jsonAlert{
				Alert: a.Alert, Severity: a.Severity, Labels: nonNilMap(a.Labels),
				Fired: optTime(a.Fired), Resolved: optTime(a.Resolved), Acknowledged: a.Acknowledged,
			})
		}
		out.SLOs = append(out.SLOs, js)
	}
	return out
}

func jsonPoints(ps []Point) []jsonPoint {
	out := make([]jsonPoint, 0, len(ps))
	for _, p := range ps {
		out = append(out, jsonPoint{T: optTime(p.T), V: number(p.V)})
	}
	return out
}

func jsonInstances(is []Instance) []jsonInstance {
	out := make([]jsonInstance, 0, len(is))
	for _, i := range is {
		spark := make([]number, 0, len(i.Spark))
		for _, v := range i.Spark {
			spark = append(spark, number(v))
		}
		out = append(out, jsonInstance{
			Labels: nonNilMap(i.Labels), SLI: number(i.weekSLI()),
			BudgetRemaining: number(i.BudgetRemaining), Burned: number(i.Burned),
			UserFaults: number(i.UserFaults), NoData: i.NoData, Spark: spark,
		})
	}
	return out
}

func jsonCodes(cs []Code) []jsonCode {
	out := make([]jsonCode, 0, len(cs))
	for _, c := range cs {
		out = append(out, jsonCode{Code: c.Code, Class: c.Class, Count: number(c.Count)})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
