package burnrate

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// Alert kinds, the transition's "alert" field.
const (
	BurnRateAlert       = "burn-rate"        // an SLO's own multiwindow alert
	UserFaultSurgeAlert = "user-fault-surge" // the classifier's guard on user faults
	NoDataAlert         = "no-data"          // a source that stopped delivering
)

// EmptyLabels are the labels of an SLO-wide alert.
var EmptyLabels = labels.EmptyLabels()

// Transition is a change of an alert's state, as replay prints it and
// notifiers receive it.
type Transition struct {
	Time      time.Time
	Alert     string
	SLO       string
	Labels    labels.Labels
	Severity  slo.Severity
	State     State
	BurnRates []Rate // the long and short window of the pair that fired
	Playbook  string
	ID        string
	// Codes are the error codes behind the transition, most frequent
	// first: the platform codes burning the budget, or the user codes of
	// a surge.
	Codes []CodeCount
	// For a user-fault surge: the instances surging, how many, and of how
	// many instances of the SLO.
	Instances []labels.Labels
	Surging   int
	Fleet     int
	// BudgetRemaining is the instance's share of its period's budget left
	// at the time of a burn-rate transition (not in the JSON line).
	BudgetRemaining float64
	// Onset is when the alert began to fire: Time for a trigger, the
	// trigger's time for a resolve (not in the JSON line).
	Onset time.Time
}

// CodeCount is how often an error code occurred recently.
type CodeCount struct {
	Code  string  `json:"code"`
	Class string  `json:"class"`
	Rule  string  `json:"rule"`
	Count float64 `json:"count"`
}

// MarshalJSON writes the transition as one JSON object with burn rates
// keyed by window, long window first, rounded to 3 decimals so that lines
// diff cleanly.
func (t Transition) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 256)
	b = append(b, `{"time":`...)
	b = strconv.AppendQuote(b, t.Time.UTC().Format(time.RFC3339))
	b = append(b, `,"alert":`...)
	b = strconv.AppendQuote(b, t.Alert)
	b = append(b, `,"slo":`...)
	b = strconv.AppendQuote(b, t.SLO)
	b = append(b, `,"labels":`...)
	lb, err := json.Marshal(t.Labels.Map())
	if err != nil {
		return nil, err
	}
	b = append(b, lb...)
	b = append(b, `,"severity":`...)
	b = strconv.AppendQuote(b, string(t.Severity))
	b = append(b, `,"state":`...)
	b = strconv.AppendQuote(b, t.State.String())
	if len(t.BurnRates) > 0 {
		b = append(b, `,"burn_rates":{`...)
		for i, r := range t.BurnRates {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, model.Duration(r.Window).String())
			b = append(b, ':')
			b = strconv.AppendFloat(b, math.Round(r.Rate*1000)/1000, 'f', -1, 64)
		}
		b = append(b, '}')
	}
	if t.Alert == UserFaultSurgeAlert {
		b = append(b, `,"surging":`...)
		b = strconv.AppendInt(b, int64(t.Surging), 10)
		b = append(b, `,"fleet":`...)
		b = strconv.AppendInt(b, int64(t.Fleet), 10)
		b = append(b, `,"instances":[`...)
		for i, l := range t.Instances {
			if i > 0 {
				b = append(b, ',')
			}
			lb, err := json.Marshal(l.Map())
			if err != nil {
				return nil, err
			}
			b = append(b, lb...)
		}
		b = append(b, ']')
	}
	if len(t.Codes) > 0 {
		cb, err := json.Marshal(t.Codes)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"codes":`...)
		b = append(b, cb...)
	}
	if t.Playbook != "" {
		b = append(b, `,"playbook":`...)
		b = strconv.AppendQuote(b, t.Playbook)
	}
	b = append(b, `,"id":`...)
	b = strconv.AppendQuote(b, t.ID)
	b = append(b, '}')
	return b, nil
}

// CompareTransitions orders transitions of one time canonically: by SLO,
// alert kind, instance labels and severity (page before ticket).
func CompareTransitions(a, b Transition) int {
	if c := cmp.Compare(a.SLO, b.SLO); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Alert, b.Alert); c != 0 {
		return c
	}
	if c := labels.Compare(a.Labels, b.Labels); c != 0 {
		return c
	}
	return slices.Index(slo.Severities, a.Severity) - slices.Index(slo.Severities, b.Severity)
}
