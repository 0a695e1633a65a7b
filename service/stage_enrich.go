package service

import (
	"context"
	"fmt"
	"strings"
	"text/template"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/readable"
	"github.com/burnwatch/burnwatch/slo"
)

// enrichStage works out everything a responder needs from the
// transition: summary, burn rates, budget, codes, onset and links.
type enrichStage struct {
	cfg       *slo.Config
	dashboard *template.Template // the config's dashboard link, if any
}

func (e enrichStage) exec(_ context.Context, items []item) ([]item, error) {
	for i := range items {
		items[i].n = e.notification(items[i].notice.Transition)
	}
	return items, nil
}

// notification enriches a transition into what receivers deliver.
func (e enrichStage) notification(t burnrate.Transition) notify.Notification {
	n := notify.Notification{
		AlertID:         t.ID,
		Kind:            t.Alert,
		SLO:             t.SLO,
		Labels:          t.Labels.Map(),
		Severity:        string(t.Severity),
		State:           t.State.String(),
		Time:            t.Time,
		Onset:           t.Time,
		BudgetRemaining: t.BudgetRemaining,
		Surging:         t.Surging,
		Fleet:           t.Fleet,
		PlaybookID:      t.Playbook,
	}
	if !t.Onset.IsZero() {
		n.Onset = t.Onset
	}
	for _, r := range t.BurnRates {
		n.BurnRates = append(n.BurnRates, notify.BurnRate{Window: model.Duration(r.Window).String(), Rate: r.Rate})
	}
	for _, c := range t.Codes {
		n.Codes = append(n.Codes, notify.Code{Code: c.Code, Class: c.Class, Count: c.Count})
	}
	for _, l := range t.Instances {
		n.Instances = append(n.Instances, l.Map())
	}
	if t.Playbook != "" {
		// The link carries the instance's labels, which the playbook's
		// page fills into its commands.
		n.PlaybookURL = playbooks.InstanceURL(e.cfg.Playbooks.BaseURL, t.Playbook, n.Labels)
	}
	n.DashboardURL = dashboardURL(e.dashboard, n.Labels)
	n.Summary = summary(n, t.Labels.String(), e.cfg)
	return n
}

// summary is the line a human reads at 3 a.m.
func summary(n notify.Notification, inst string, cfg *slo.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] ", strings.ToUpper(n.Severity))
	if !n.Firing() {
		b.WriteString("RESOLVED: ")
	}
	switch n.Kind {
	case burnrate.UserFaultSurgeAlert:
		fmt.Fprintf(&b, "%s: user faults surging on %d of %d instances", n.SLO, n.Surging, n.Fleet)
	case burnrate.NoDataAlert:
		fmt.Fprintf(&b, "%s: no data from source %s for %s", n.SLO, n.Labels["source"], cfg.NoData.After)
	default:
		fmt.Fprintf(&b, "%s %s: error budget burning", n.SLO, inst)
		for i, r := range n.BurnRates {
			if i > 0 {
				b.WriteString(" /")
			}
			fmt.Fprintf(&b, " %s over %s", readable.Rate(r.Rate), r.Window)
		}
		fmt.Fprintf(&b, "; %s of the budget left", readable.Percent(n.BudgetRemaining))
	}
	if len(n.Codes) > 0 {
		fmt.Fprintf(&b, " (mostly %s)", n.Codes[0].Code)
	}
	return notify.Truncate(b.String(), 1024)
}

// dashboardURL fills the configured dashboard template with the
// instance's labels.
func dashboardURL(t *template.Template, labels map[string]string) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	if err := t.Execute(&b, labels); err != nil {
		return ""
	}
	return b.String()
}
