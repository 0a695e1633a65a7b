package alertmanager

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/notify"
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
	labelAlertName = "alertname"          // "burnwatch:" + the alert's kind
	labelSLO       = "slo"                // the SLO's name
	labelSeverity  = "severity"           // page or ticket
	labelAlertID   = "burnwatch_alert_id" // the alert's stable identity
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
// Alertmanager tells alerts apart by their labels. An empty label value is
// left out, as Prometheus does: it means the label is absent.
func (r *Receiver) alert(n notify.Notification) postableAlert {
	ls := make(map[string]string, len(n.Labels)+4)
	for k, v := range n.Labels {
		if v != "" {
			ls[k] = v
		}
	}
	maps.Copy(ls, map[string]string{
		labelAlertName: alertNameScope + n.Kind,
		labelSLO:       n.SLO,
		labelSeverity:  n.Severity,
		labelAlertID:   n.AlertID,
	})
	as := map[string]string{}
	if n.Summary != "" {
		as[annotationSummary] = n.Summary
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

// description is what the responder reads below the summary: one line
// each for the burn rates, the budget, the surge and the error codes.
//
//	1h burns 39.4×, 5m burns 200.0×
//	budget remaining: 92.3%
//	codes: Neo.DatabaseError.General.UnknownError (platform, 998)
func description(n notify.Notification) string {
	var lines []string
	if len(n.BurnRates) > 0 {
		rates := make([]string, len(n.BurnRates))
		for i, b := range n.BurnRates {
			rates[i] = fmt.Sprintf("%s burns %.1f×", b.Window, b.Rate)
		}
		lines = append(lines, strings.Join(rates, ", "))
	}
	if n.Kind == "burn-rate" {
		lines = append(lines, fmt.Sprintf("budget remaining: %.1f%%", 100*n.BudgetRemaining))
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
			codes[i] = fmt.Sprintf("%s (%s, %.0f)", c.Code, c.Class, c.Count)
		}
		lines = append(lines, "codes: "+strings.Join(codes, ", "))
	}
	return strings.Join(lines, "\n")
}
