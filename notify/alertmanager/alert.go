package alertmanager

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/readable"
)

// postableAlert is one element of the body of POST /api/v2/alerts
// (postableAlert in Alertmanager's OpenAPI specification): labels are
// required; a zero startsAt is "now" to Alertmanager, and a zero endsAt
// its resolve_timeout from now.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Labels and annotations burnwatch sets.
const (
	labelAlertName = "alertname"          // "burnwatch:" + the alert's kind, or Config.AlertName's
	labelSLO       = "slo"                // the SLO's name
	labelSeverity  = "severity"           // critical or warning, or Config.Severity's
	labelAlertID   = "burnwatch_alert_id" // the alert's stable identity
	// labelInstance names the SLO instance whatever the severity, so that
	// one inhibit rule can silence the ticket of an instance whose page
	// fires: equal: [alertname, burnwatch_instance] (docs/notify.md).
	labelInstance  = "burnwatch_instance"
	alertNameScope = "burnwatch:"

	annotationSummary     = "summary"
	annotationDescription = "description"
	annotationRunbook     = "runbook_url" // the playbook's page
	annotationDashboard   = "dashboard"
)

// maxInstances bounds the surging instances a description names.
const maxInstances = 10

// alert turns a notification into the alert Alertmanager receives.
//
// The labels are the instance's, then burnwatch's own, which win a clash:
// alertname, slo, severity and burnwatch_alert_id identify the alert, and
// Alertmanager tells alerts apart by their labels; burnwatch_instance is
// the SLO and the instance's labels, the same for the page and the ticket
// of one instance. An empty label value is left out, as Prometheus does:
// it means the label is absent.
func (r *Receiver) alert(n notify.Notification) postableAlert {
	ls := make(map[string]string, len(n.Labels)+5)
	for k, v := range n.Labels {
		if v != "" {
			ls[k] = v
		}
	}
	inst := instance(n.SLO, ls)
	name, ok := r.alertName[n.Kind]
	if !ok {
		name = alertNameScope + n.Kind
	}
	severity, ok := r.severity[n.Severity]
	if !ok {
		severity = n.Severity // a severity the map does not name is passed as it is
	}
	maps.Copy(ls, map[string]string{
		labelAlertName: name,
		labelSLO:       n.SLO,
		labelSeverity:  severity,
		labelAlertID:   n.AlertID,
		labelInstance:  inst,
	})
	// The annotations are prose for a human: the summary's control
	// characters and bidi controls are escaped (readable.Text); the
	// description's lines are escaped one by one.
	as := map[string]string{}
	if n.Summary != "" {
		as[annotationSummary] = readable.Text(n.Summary)
	}
	if d := description(n); d != "" {
		as[annotationDescription] = d
	}
	if n.PlaybookURL != "" {
		as[annotationRunbook] = n.PlaybookURL
	}
	if n.DashboardURL != "" {
		as[annotationDashboard] = n.DashboardURL
	}
	a := postableAlert{
		Labels:       ls,
		Annotations:  as,
		StartsAt:     n.Onset.UTC(),
		GeneratorURL: n.DashboardURL,
	}
	if n.Firing() {
		a.EndsAt = r.now().Add(lifetimeResends * r.resend).UTC()
	} else {
		a.EndsAt = n.Time.UTC()
	}
	return a
}

// instance names an SLO instance as Prometheus writes a series, from the
// SLO and the instance's non-empty labels: cypher-availability{database="db-2"};
// an SLO-wide alert is the SLO's name alone.
func instance(slo string, ls map[string]string) string {
	if len(ls) == 0 {
		return slo
	}
	return slo + labels.FromMap(ls).String()
}

// description is what the responder reads below the summary: one line
// each for the burn rates, the budget, the surge and the error codes.
//
//	1h burns 39.4×, 5m burns 200×
//	budget remaining: 92.3%
//	codes: Neo.DatabaseError.General.UnknownError (platform, 998)
func description(n notify.Notification) string {
	var lines []string
	if len(n.BurnRates) > 0 {
		rates := make([]string, len(n.BurnRates))
		for i, b := range n.BurnRates {
			rates[i] = fmt.Sprintf("%s burns %s", b.Window, readable.Rate(b.Rate))
		}
		lines = append(lines, strings.Join(rates, ", "))
	}
	if n.Kind == "burn-rate" {
		lines = append(lines, "budget remaining: "+readable.Percent(n.BudgetRemaining))
	}
	if n.Fleet > 0 {
		line := fmt.Sprintf("%d of %d instances surging", n.Surging, n.Fleet)
		if len(n.Instances) > 0 {
			var names []string
			for i, l := range n.Instances {
				if i == maxInstances {
					names = append(names, fmt.Sprintf("and %d more", len(n.Instances)-maxInstances))
					break
				}
				names = append(names, labels.FromMap(l).String())
			}
			line += ": " + strings.Join(names, ", ")
		}
		lines = append(lines, line)
	}
	if len(n.Codes) > 0 {
		codes := make([]string, len(n.Codes))
		for i, c := range n.Codes {
			codes[i] = fmt.Sprintf("%s (%s, %s)", c.Code, c.Class, readable.Number(c.Count))
		}
		lines = append(lines, "codes: "+strings.Join(codes, ", "))
	}
	for i, l := range lines {
		lines[i] = readable.Text(l)
	}
	return strings.Join(lines, "\n")
}
