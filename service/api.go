package service

import (
	"net/http"
	"time"
)

// View is what the HTTP API reads from the running service. Implementations
// are safe for concurrent use.
type View interface {
	// SLOs returns every SLO, in config order.
	SLOs() []SLOStatus
	// SLO returns one SLO with all its instances, or false for a name the
	// running config does not have.
	SLO(name string) (SLODetail, bool)
	// Alerts returns the alerts now firing, most recent first.
	Alerts() []AlertStatus
	// Ready reports whether the service answers with complete data; while it
	// backfills it is false, with a reason for /readyz.
	Ready() (bool, string)
}

// SLOStatus is where one SLO stands: its terms, how many instances it has and
// the instances closest to exhausting their budget.
type SLOStatus struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Objective   float64 `json:"objective"` // percent, as in the config
	Window      string  `json:"window"`    // the budget period: 30d
	Source      string  `json:"source"`
	Instances   int     `json:"instances"`
	Firing      int     `json:"firing"` // alerts firing for this SLO
	// Warnings say what is wrong without failing, such as selectors that
	// match no series of a source read whole.
	Warnings []string `json:"warnings,omitempty"`
	// Worst holds up to MaxWorst instances, least budget remaining first.
	Worst []InstanceStatus `json:"worst"`
}

// MaxWorst is how many instances SLOStatus.Worst lists: enough to see whether
// a problem is one tenant or many, few enough to list every SLO in one page.
const MaxWorst = 10

// SLODetail is one SLO with every instance.
type SLODetail struct {
	SLOStatus
	All []InstanceStatus `json:"all"`
}

// InstanceStatus is where one SLO instance (one value set of group_by) stands.
type InstanceStatus struct {
	Labels map[string]string `json:"labels"`
	// BurnRates maps a window ("5m", "1h", …) to the burn rate over it.
	BurnRates map[string]float64 `json:"burn_rates"`
	// BudgetRemaining is the fraction of the period's error budget left:
	// 1 − bad ÷ ((1 − objective) × valid) over the period, a young
	// instance's valid events extrapolated over the period
	// (burnrate.Budget); negative when the budget is overspent.
	BudgetRemaining float64       `json:"budget_remaining"`
	Events          EventCounts   `json:"events"` // since the instance was first counted
	TopCodes        []CodeCount   `json:"top_codes,omitempty"`
	Alerts          []AlertStatus `json:"alerts,omitempty"`
	// NoDataSince is when the instance's data stopped, if it has.
	NoDataSince *time.Time `json:"no_data_since,omitempty"`
}

// EventCounts is an instance's events by class. Total includes every class;
// valid = Total − User − Ignore, and Platform is the bad part of valid.
// Events are counts: whole numbers, though the engine sums the increases
// it is given in floating point (a Datadog rollup or a pushed count may
// be fractional, and sums of those carry noise such as
// 20500.000000000004).
type EventCounts struct {
	Total    int64 `json:"total"`
	User     int64 `json:"user"`
	Ignore   int64 `json:"ignore"`
	Platform int64 `json:"platform"`
}

// CodeCount is how often one error code occurred, with the class and the
// rule that classified it: a count, as EventCounts.
type CodeCount struct {
	Code  string `json:"code"`
	Class string `json:"class"`
	Rule  string `json:"rule"`
	Count int64  `json:"count"`
}

// AlertStatus is one alert's current state. In /api/v1/alerts it also
// carries what a page about it says now, made by the pipeline's own
// enrichment: the summary, the burn rates of the pair that fired, the
// budget left, the top codes and the links.
type AlertStatus struct {
	ID       string            `json:"id"`    // the stable hash that is also the PagerDuty dedup key
	Alert    string            `json:"alert"` // burn-rate, user-fault-surge, no-data
	SLO      string            `json:"slo"`
	Labels   map[string]string `json:"labels"`
	Severity string            `json:"severity"`
	State    string            `json:"state"`
	Since    time.Time         `json:"since"`

	Summary string `json:"summary,omitempty"`
	// BurnRates maps the long and the short window of the pair that fired
	// most recently to its burn rate now.
	BurnRates map[string]float64 `json:"burn_rates,omitempty"`
	// BudgetRemaining is the instance's fraction of its period's budget
	// left, as InstanceStatus's; only for a burn-rate alert.
	BudgetRemaining *float64    `json:"budget_remaining,omitempty"`
	Codes           []CodeCount `json:"codes,omitempty"`
	Playbook        string      `json:"playbook,omitempty"`
	// PlaybookURL is the playbook's page with the instance's labels filled
	// in (playbooks.InstanceURL); DashboardURL the config's dashboard
	// template filled with them, if the config has one.
	PlaybookURL  string `json:"playbook_url,omitempty"`
	DashboardURL string `json:"dashboard_url,omitempty"`
}

// sloList is the body of GET /api/v1/slos.
type sloList struct {
	SLOs []SLOStatus `json:"slos"`
}

// alertList is the body of GET /api/v1/alerts.
type alertList struct {
	Alerts []AlertStatus `json:"alerts"`
}

func (a *apiServer) listSLOs(w http.ResponseWriter, r *http.Request) {
	// A copy, so that filling in empty lists never writes to the view's.
	slos := append([]SLOStatus{}, a.o.View.SLOs()...)
	for i := range slos {
		if slos[i].Worst == nil {
			slos[i].Worst = []InstanceStatus{}
		}
	}
	respondJSON(w, http.StatusOK, sloList{SLOs: slos})
}

func (a *apiServer) getSLO(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	d, ok := a.o.View.SLO(name)
	if !ok {
		respondError(w, http.StatusNotFound, "no SLO named %q", name)
		return
	}
	if d.Worst == nil {
		d.Worst = []InstanceStatus{}
	}
	if d.All == nil {
		d.All = []InstanceStatus{}
	}
	respondJSON(w, http.StatusOK, d)
}

func (a *apiServer) listAlerts(w http.ResponseWriter, r *http.Request) {
	alerts := a.o.View.Alerts()
	if alerts == nil {
		alerts = []AlertStatus{}
	}
	respondJSON(w, http.StatusOK, alertList{Alerts: alerts})
}
