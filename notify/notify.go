// Package notify turns alert transitions into notifications that reach
// on-call: the Notification every receiver is handed, the Receiver
// interface and the reasons a notification was or was not delivered.
// Each receiver (PagerDuty, Alertmanager, webhook, console) is its own
// package below this one.
package notify

import (
	"context"
	"time"
)

// Notification is one transition as a receiver delivers it: everything
// the responder needs to start, already worked out.
type Notification struct {
	// AlertID is the alert's stable identity: the PagerDuty dedup key.
	AlertID string
	// Kind is the alert: burn-rate, user-fault-surge or no-data.
	Kind     string
	SLO      string
	Labels   map[string]string // the instance's labels; a source's for no-data
	Severity string            // page or ticket
	State    string            // firing or resolved
	Time     time.Time         // of the transition
	// Onset is when the alert began firing (for a resolve, the firing it
	// ends).
	Onset time.Time
	// Summary is one line a human reads at 3 a.m.: SLO, instance, how fast
	// the budget burns.
	Summary         string
	BurnRates       []BurnRate
	BudgetRemaining float64 // fraction of the period's budget left; negative when overspent
	Codes           []Code  // most frequent first
	// For a user-fault surge: the instances surging and of how many.
	Instances []map[string]string
	Surging   int
	Fleet     int
	// Links.
	PlaybookID   string
	PlaybookURL  string
	DashboardURL string // empty unless configured
}

// BurnRate is the burn rate over one window.
type BurnRate struct {
	Window string  `json:"window"` // "1h", "5m"
	Rate   float64 `json:"rate"`
}

// Code is an error code behind an alert.
type Code struct {
	Code  string  `json:"code"`
	Class string  `json:"class"`
	Count float64 `json:"count"`
}

// Firing reports whether the notification opens (rather than closes) an
// incident.
func (n Notification) Firing() bool { return n.State == "firing" }

// Receiver delivers notifications to one place. Notify returns whether a
// failure is worth retrying: a 5xx, a 429 or a network error is; a 400,
// which would fail the same way again, is not.
type Receiver interface {
	Name() string
	Notify(ctx context.Context, n Notification) (retry bool, err error)
}

// RetryAfter is an error that says when to try again: a 429 names it.
type RetryAfter interface {
	error
	RetryAfter() time.Duration
}

// Reason is why a notification was sent or not: in logs and metric labels.
type Reason int

const (
	Sent          Reason = iota // delivered
	Silenced                    // a silence matched; recorded, not sent
	InMaintenance               // a maintenance window matched
	Deduplicated                // already delivered (the same alert and state)
	DeadLettered                // the receiver refused it for good (a 400)
	Skipped                     // a resolve whose trigger was never delivered
	// Superseded: not sent, replaced by a newer notification of the same
	// alert, or a trigger of an alert no longer firing, on a replica that
	// stood by or took over leadership (docs/deploy.md).
	Superseded
)

func (r Reason) String() string {
	switch r {
	case Sent:
		return "sent"
	case Silenced:
		return "silenced"
	case InMaintenance:
		return "in_maintenance"
	case Deduplicated:
		return "deduplicated"
	case DeadLettered:
		return "dead_lettered"
	case Skipped:
		return "skipped"
	case Superseded:
		return "superseded"
	}
	return "unknown"
}

// Truncate cuts s to at most n runes, marking the cut with an ellipsis.
func Truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
