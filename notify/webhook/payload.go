package webhook

import (
	"time"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/readable"
)

// Version is the version of the body's schema.
const Version = "1"

// Payload is the body of a webhook POST, version 1: a
// notify.Notification with snake-case names, the schema's version and
// when it was sent. Times are RFC 3339 in UTC.
type Payload struct {
	Version string `json:"version"` // "1"
	// AlertID is the alert's stable identity (the PagerDuty dedup key):
	// the same for its firing and its resolve.
	AlertID  string            `json:"alert_id"`
	Kind     string            `json:"kind"`     // burn-rate, user-fault-surge or no-data
	SLO      string            `json:"slo"`      // the SLO's name
	Labels   map[string]string `json:"labels"`   // the instance's; {} for an SLO-wide alert
	Severity string            `json:"severity"` // page or ticket
	State    string            `json:"state"`    // firing or resolved
	Time     time.Time         `json:"time"`     // of the transition
	// Onset is when the alert began firing; for a resolve, the firing it
	// ends. Left out when unknown.
	Onset  time.Time `json:"onset,omitzero"`
	SentAt time.Time `json:"sent_at"` // when this request was made; signed
	// Summary is one line for a human: SLO, instance, how fast the budget
	// burns. It is prose, so its control characters and bidi controls
	// are escaped (readable.Text): it stays one line wherever a chat or a
	// ticket shows it. Labels and codes are data and kept exact.
	Summary   string            `json:"summary"`
	BurnRates []notify.BurnRate `json:"burn_rates"` // per window, long before short; [] if none
	// BudgetRemaining is the fraction of the period's budget left;
	// negative when overspent.
	BudgetRemaining float64       `json:"budget_remaining"`
	Codes           []notify.Code `json:"codes"` // most frequent first; [] if none
	// Instances, Surging and Fleet are a user-fault surge's: the
	// instances surging, how many, and of how many. Left out otherwise.
	Instances    []map[string]string `json:"instances,omitempty"`
	Surging      int                 `json:"surging,omitempty"`
	Fleet        int                 `json:"fleet,omitempty"`
	PlaybookID   string              `json:"playbook_id"`
	PlaybookURL  string              `json:"playbook_url"`            // the playbook's page
	DashboardURL string              `json:"dashboard_url,omitempty"` // when one is configured
}

// payload is the body for n, sent at sent.
func payload(n notify.Notification, sent time.Time) Payload {
	p := Payload{
		Version:         Version,
		AlertID:         n.AlertID,
		Kind:            n.Kind,
		SLO:             n.SLO,
		Labels:          n.Labels,
		Severity:        n.Severity,
		State:           n.State,
		Time:            n.Time.UTC(),
		Onset:           n.Onset.UTC(),
		SentAt:          sent.UTC(),
		Summary:         readable.Text(n.Summary),
		BurnRates:       n.BurnRates,
		BudgetRemaining: n.BudgetRemaining,
		Codes:           n.Codes,
		Instances:       n.Instances,
		Surging:         n.Surging,
		Fleet:           n.Fleet,
		PlaybookID:      n.PlaybookID,
		PlaybookURL:     n.PlaybookURL,
		DashboardURL:    n.DashboardURL,
	}
	// The schema promises an object and arrays, never null.
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	if p.BurnRates == nil {
		p.BurnRates = []notify.BurnRate{}
	}
	if p.Codes == nil {
		p.Codes = []notify.Code{}
	}
	return p
}
