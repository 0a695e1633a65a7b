package slo

import (
	"strings"
)

// RouteRule sends the alerts it matches to a receiver. Routes are tried
// in order; the first that matches decides, unless it says continue.
type RouteRule struct {
	Match    RouteMatch `yaml:"match,omitempty"`
	Receiver string     `yaml:"receiver"`
	Continue bool       `yaml:"continue,omitempty"`
}

// RouteMatch selects alerts; an empty field matches anything.
type RouteMatch struct {
	Severity Severity          `yaml:"severity,omitempty"`
	SLO      string            `yaml:"slo,omitempty"`
	Alert    string            `yaml:"alert,omitempty"` // burn-rate, user-fault-surge, no-data
	Labels   map[string]string `yaml:"labels,omitempty"`
}

// Matches reports whether an alert of this kind, SLO, severity and labels
// is the route's.
func (m RouteMatch) Matches(alert, slo string, sev Severity, lset map[string]string) bool {
	if m.Severity != "" && m.Severity != sev || m.SLO != "" && m.SLO != slo || m.Alert != "" && m.Alert != alert {
		return false
	}
	for k, v := range m.Labels {
		if lset[k] != v {
			return false
		}
	}
	return true
}

// Receivers of an alert: the routes' receivers that match, in order.
func (c *Config) Receivers(alert, slo string, sev Severity, lset map[string]string) []string {
	var out []string
	for _, r := range c.Routes {
		if r.Match.Matches(alert, slo, sev, lset) {
			out = append(out, r.Receiver)
			if !r.Continue {
				break
			}
		}
	}
	return out
}

var alertKinds = []string{"burn-rate", "user-fault-surge", "no-data"}

func (c *Config) validateRoutes(d *document) {
	names := map[string]bool{}
	for i, r := range c.ReceiverConfigs {
		p := path{"receivers", i}
		switch {
		case r == nil:
			d.errorf(p, "a receiver needs a name and one of pagerduty, alertmanager, webhook, console")
			continue
		case !nameRE.MatchString(r.Name):
			d.errorf(p.with("name"), "%q is not a receiver name (lower-case letters, digits and dashes)", r.Name)
		case names[r.Name]:
			d.errorf(p.with("name"), "%q names two receivers", r.Name)
		}
		names[r.Name] = true
		if n := r.kinds(); n != 1 {
			d.errorf(p, "a receiver is exactly one of pagerduty, alertmanager, webhook, console; this one has %d", n)
			continue
		}
		switch {
		case r.PagerDuty != nil:
			d.fieldErrors(p.with("pagerduty"), r.PagerDuty.Validate())
		case r.Alertmanager != nil:
			d.fieldErrors(p.with("alertmanager"), r.Alertmanager.Validate())
		case r.Webhook != nil:
			d.fieldErrors(p.with("webhook"), r.Webhook.Validate())
		}
	}
	for i, r := range c.Routes {
		p := path{"routes", i}
		if !names[r.Receiver] {
			d.errorf(p.with("receiver"), "%q names no receiver; %s", r.Receiver, validNames(receiverNames(c.ReceiverConfigs), "valid: ", "the config has none: add it under receivers"))
		}
		if s := r.Match.Severity; s != "" && s != Page && s != Ticket {
			d.errorf(p.with("match", "severity"), "%q is not a severity; valid: page, ticket", s)
		}
		if a := r.Match.Alert; a != "" && !contains(alertKinds, a) {
			d.errorf(p.with("match", "alert"), "%q is not an alert; valid: %s", a, strings.Join(alertKinds, ", "))
		}
		if x := r.Match.SLO; x != "" && c.SLO(x) == nil {
			d.errorf(p.with("match", "slo"), "%q names no SLO", x)
		}
	}
}

func receiverNames(rs []*Receiver) []string {
	var out []string
	for _, r := range rs {
		if r != nil {
			out = append(out, r.Name)
		}
	}
	return out
}

// validNames says which of names a reference may take, prefix followed by
// the names ("valid: a, b"), leaving out those that are no valid name
// themselves (each has its own error); when none is left it says none.
func validNames(names []string, prefix, none string) string {
	var ok []string
	for _, n := range names {
		if nameRE.MatchString(n) && !contains(ok, n) {
			ok = append(ok, n)
		}
	}
	if len(ok) == 0 {
		return none
	}
	return prefix + strings.Join(ok, ", ")
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
