package service

import (
	"fmt"
	"text/template"
	"time"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/alertmanager"
	"github.com/burnwatch/burnwatch/notify/console"
	"github.com/burnwatch/burnwatch/notify/pagerduty"
	"github.com/burnwatch/burnwatch/notify/webhook"
	"github.com/burnwatch/burnwatch/slo"
)

// buildReceivers makes the config's receivers (reading their secrets now,
// so that a bad key fails the start or the reload, not the first page),
// and the dashboard link template. A config without routes sends every
// alert to the console.
func (s *Service) buildReceivers(cfg *slo.Config) (map[string]notify.Receiver, *template.Template, error) {
	out := map[string]notify.Receiver{}
	for _, r := range cfg.ReceiverConfigs {
		var (
			rcv notify.Receiver
			err error
		)
		switch {
		case r.PagerDuty != nil:
			rcv, err = pagerduty.New(r.Name, *r.PagerDuty, pagerduty.WithLogger(s.log))
		case r.Alertmanager != nil:
			rcv, err = alertmanager.New(r.Name, *r.Alertmanager)
		case r.Webhook != nil:
			rcv, err = webhook.New(r.Name, *r.Webhook)
		case r.Console != nil:
			rcv = console.New(s.o.Console, time.Local, console.WithName(r.Name))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("receiver %s: %w", r.Name, err)
		}
		out[r.Name] = rcv
	}
	if len(cfg.Routes) == 0 {
		out[defaultReceiver] = console.New(s.o.Console, time.Local, console.WithName(defaultReceiver))
	}
	for name, r := range s.o.Receivers {
		out[name] = r
	}
	var dashboard *template.Template
	if cfg.DashboardURL != "" {
		var err error
		if dashboard, err = slo.ParseDashboardURL(cfg.DashboardURL); err != nil {
			return nil, nil, fmt.Errorf("dashboard_url: %w", err)
		}
	}
	return out, dashboard, nil
}
