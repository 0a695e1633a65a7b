package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/PagerDuty/go-pagerduty"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/readable"
)

// The Events API v2's limits (developer.pagerduty.com, "Send an Alert
// Event"), and what burnwatch keeps of long lists.
const (
	maxSummary    = 1024      // payload.summary, characters
	maxDedupKey   = 255       // dedup_key, characters
	maxEventBytes = 512 << 10 // the whole event, bytes
	// maxCodes and maxInstances bound the lists in custom_details before
	// any size trimming: a responder reads the top of a list, and
	// PagerDuty's incident page shows custom_details in full.
	maxCodes     = 20
	maxInstances = 100
	// unmappedSeverity is payload.severity for a burnwatch severity the map
	// does not name: loud enough to be seen, below a page's critical.
	unmappedSeverity = "error"
	surgeKind        = "user-fault-surge"
)

// link is one entry of the event's links.
type link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// details is payload.custom_details: what the responder needs beyond
// the summary, as PagerDuty shows it on the incident.
type details struct {
	Alert    string            `json:"alert"`
	SLO      string            `json:"slo,omitempty"`
	Severity string            `json:"severity,omitempty"` // burnwatch's: page, ticket
	Labels   map[string]string `json:"labels,omitempty"`   // the instance's
	// BurnRates maps each window to its burn rate, as replay prints them.
	BurnRates       map[string]number `json:"burn_rates,omitempty"`
	BudgetRemaining *number           `json:"budget_remaining_percent,omitempty"`
	TopCodes        []code            `json:"top_codes,omitempty"`
	CodesOmitted    int               `json:"top_codes_omitted,omitempty"`
	Onset           string            `json:"onset,omitempty"`
	// A user-fault surge: how many instances surge, of how many, and which.
	Surging          int      `json:"surging,omitempty"`
	Fleet            int      `json:"fleet,omitempty"`
	Instances        []string `json:"instances,omitempty"`
	InstancesOmitted int      `json:"instances_omitted,omitempty"`
	LabelsOmitted    bool     `json:"labels_omitted,omitempty"`
	Playbook         string   `json:"playbook,omitempty"`
}

type code struct {
	Code  string `json:"code"`
	Class string `json:"class"`
	Count number `json:"count"`
}

// number is a float in custom_details: rounded to three decimals, so that
// float noise such as 16.800000000000001 does not reach the page, and a
// string for what JSON cannot hold (+Inf, NaN), which would otherwise
// fail the whole event.
type number float64

func (x number) MarshalJSON() ([]byte, error) {
	v := float64(x)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return json.Marshal(strconv.FormatFloat(v, 'f', -1, 64))
	}
	v = math.Round(v*1000) / 1000
	if v == 0 {
		v = 0 // not -0
	}
	return strconv.AppendFloat(nil, v, 'f', -1, 64), nil
}

// shrink makes d smaller for an event over maxEventBytes: it drops the
// second half of the surge's instances, or when there are none of the
// codes, or when there are none the instance's labels (which the source
// already names). It reports whether there was anything left to drop.
func (d *details) shrink() bool {
	switch {
	case len(d.Instances) > 0:
		keep := len(d.Instances) / 2
		d.InstancesOmitted += len(d.Instances) - keep
		d.Instances = d.Instances[:keep]
	case len(d.TopCodes) > 0:
		keep := len(d.TopCodes) / 2
		d.CodesOmitted += len(d.TopCodes) - keep
		d.TopCodes = d.TopCodes[:keep]
	case len(d.Labels) > 0:
		d.Labels, d.LabelsOmitted = nil, true
	default:
		return false
	}
	return true
}

// event makes the Events API v2 event of n: a trigger with everything
// the responder needs, or a resolve with only what PagerDuty needs to
// find the incident (routing_key, event_action, dedup_key).
func (r *Receiver) event(n notify.Notification) (*pagerduty.V2Event, error) {
	dk, err := dedupKey(n.AlertID)
	if err != nil {
		return nil, err
	}
	ev := &pagerduty.V2Event{RoutingKey: r.key.s, DedupKey: dk}
	switch n.State {
	case "resolved":
		ev.Action = "resolve"
		return ev, nil
	case "firing":
		ev.Action = "trigger"
	default:
		return nil, fmt.Errorf("state %q is neither firing nor resolved", n.State)
	}
	source := n.SLO
	if len(n.Labels) > 0 {
		source = labels.FromMap(n.Labels).String()
	}
	if source == "" {
		source = r.component
	}
	summary := n.Summary
	if summary == "" {
		// PagerDuty requires one; say at least what fired where.
		summary = n.Kind + " " + source
		if n.SLO != "" && n.SLO != source {
			summary = n.Kind + " " + n.SLO + " " + source
		}
	}
	severity, ok := r.severity[n.Severity]
	if !ok {
		severity = unmappedSeverity
	}
	class := n.Kind
	if len(n.Codes) > 0 && n.Codes[0].Code != "" {
		class = n.Codes[0].Code
	}
	// What PagerDuty shows as text is written through readable.Text: a
	// code or label value cannot break the incident's title into lines or
	// reorder it with bidi controls.
	p := &pagerduty.V2Payload{
		Summary:   notify.Truncate(readable.Text(summary), maxSummary),
		Source:    readable.Text(source),
		Severity:  severity,
		Component: r.component,
		Group:     readable.Text(n.SLO),
		Class:     readable.Text(class),
	}
	if !n.Time.IsZero() {
		p.Timestamp = n.Time.UTC().Format(time.RFC3339)
	}
	ev.Payload = p
	for _, l := range []link{{n.PlaybookURL, playbookText(n.PlaybookID)}, {n.DashboardURL, "Dashboard"}} {
		switch {
		case l.Href == "":
		case !absoluteURL(l.Href):
			// PagerDuty wants a URL it can open; a page without the link
			// beats a page refused for it.
			r.log().Warn("pagerduty link left out: not an absolute http(s) URL", "receiver", r.name, "dedup_key", dk, "link", l.Text, "href", l.Href)
		default:
			ev.Links = append(ev.Links, l)
		}
	}
	d := newDetails(n)
	p.Details = d
	for {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding the event: %w", err)
		}
		if len(b) <= maxEventBytes {
			return ev, nil
		}
		if !d.shrink() {
			break
		}
	}
	p.Details = nil
	p.Source = notify.Truncate(p.Source, maxSummary)
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encoding the event: %w", err)
	}
	if len(b) > maxEventBytes {
		return nil, fmt.Errorf("the event is %d bytes even without custom_details; PagerDuty takes at most %d", len(b), maxEventBytes)
	}
	return ev, nil
}

func newDetails(n notify.Notification) *details {
	d := &details{
		Alert:    n.Kind,
		SLO:      n.SLO,
		Severity: n.Severity,
		Labels:   n.Labels,
		Playbook: n.PlaybookID,
	}
	if len(n.BurnRates) > 0 {
		d.BurnRates = make(map[string]number, len(n.BurnRates))
		for _, b := range n.BurnRates {
			d.BurnRates[b.Window] = number(b.Rate)
		}
	}
	// A burn-rate alert always has a budget; for the others a zero is
	// more likely unset than spent.
	if n.Kind == "burn-rate" || n.BudgetRemaining != 0 {
		v := number(n.BudgetRemaining * 100)
		d.BudgetRemaining = &v
	}
	for i, c := range n.Codes {
		if i == maxCodes {
			d.CodesOmitted = len(n.Codes) - maxCodes
			break
		}
		d.TopCodes = append(d.TopCodes, code{c.Code, c.Class, number(c.Count)})
	}
	if !n.Onset.IsZero() {
		d.Onset = n.Onset.UTC().Format(time.RFC3339)
	}
	if n.Kind == surgeKind || len(n.Instances) > 0 {
		d.Surging, d.Fleet = n.Surging, n.Fleet
		for i, lset := range n.Instances {
			if i == maxInstances {
				d.InstancesOmitted = len(n.Instances) - maxInstances
				break
			}
			d.Instances = append(d.Instances, labels.FromMap(lset).String())
		}
	}
	return d
}

// dedupKey is the alert's ID, which the Events API takes as it is when it
// fits (it does: DESIGN.md makes it a hash); a longer one becomes its
// SHA-256, which is as stable across restarts.
func dedupKey(id string) (string, error) {
	switch {
	case id == "":
		return "", errors.New("no alert ID, and so no dedup key to trigger or resolve by")
	case utf8.RuneCountInString(id) > maxDedupKey:
		sum := sha256.Sum256([]byte(id))
		return hex.EncodeToString(sum[:]), nil
	}
	return id, nil
}

func playbookText(id string) string {
	if id == "" {
		return "Playbook"
	}
	return "Playbook: " + id
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
