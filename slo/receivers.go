package slo

import (
	"github.com/burnwatch/burnwatch/notify/alertmanager"
	"github.com/burnwatch/burnwatch/notify/pagerduty"
	"github.com/burnwatch/burnwatch/notify/webhook"
)

// Receiver is a place notifications go: exactly one of its kinds.
type Receiver struct {
	Name         string               `yaml:"name"`
	PagerDuty    *pagerduty.Config    `yaml:"pagerduty,omitempty"`
	Alertmanager *alertmanager.Config `yaml:"alertmanager,omitempty"`
	Webhook      *webhook.Config      `yaml:"webhook,omitempty"`
	// Console prints notifications readably on standard output: what a
	// config without receivers gets.
	Console *struct{} `yaml:"console,omitempty"`
}

func (r *Receiver) kinds() int {
	n := 0
	for _, set := range []bool{r.PagerDuty != nil, r.Alertmanager != nil, r.Webhook != nil, r.Console != nil} {
		if set {
			n++
		}
	}
	return n
}

// kind names the receiver's kind as the config spells it.
func (r *Receiver) kind() string {
	switch {
	case r.PagerDuty != nil:
		return "pagerduty"
	case r.Alertmanager != nil:
		return "alertmanager"
	case r.Webhook != nil:
		return "webhook"
	case r.Console != nil:
		return "console"
	}
	return "incomplete"
}
