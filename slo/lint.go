package slo

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Lint returns what serve accepts but would mishandle without a word:
// alerts that no route sends anywhere, routes that can never match or are
// never reached, receivers that no route names, and a config whose
// receivers go unused because it has no routes. Load has already refused
// every config serve refuses; `burnwatch check` reports both. Each problem
// names its field and line. Warnings are kept apart: a receiver no route
// names is likely a leftover, not a lost page.
func (c *Config) Lint() (problems, warnings Errors) {
	if len(c.Routes) == 0 {
		// A webhook that only takes the weekly report needs no route.
		var paging []string
		for _, r := range c.ReceiverConfigs {
			if r != nil && r.Name != c.Reports.Receiver {
				paging = append(paging, r.Name)
			}
		}
		if len(paging) > 0 {
			problems = append(problems, c.ErrorAt("receivers", fmt.Sprintf(
				"%s defined, but there are no routes: without routes every alert goes to the console; add routes such as - {match: {severity: page}, receiver: %s}",
				plural(len(paging), "receiver is", "receivers are"), paging[0])))
		}
		return problems, nil
	}
	kinds := c.AlertKinds()
	for i, r := range c.Routes {
		p := path{"routes", i}
		for j, earlier := range c.Routes[:i] {
			if !earlier.Continue && covers(earlier.Match, r.Match) {
				problems = append(problems, c.ErrorAt(p.String(), fmt.Sprintf("never reached: every alert it matches, routes[%d] matches first and does not continue", j)))
				break
			}
		}
		for _, name := range slices.Sorted(maps.Keys(r.Match.Labels)) {
			if !slices.ContainsFunc(kinds, func(k AlertKind) bool { return k.mayMatch(r.Match) && slices.Contains(k.Labels, name) }) {
				problems = append(problems, c.ErrorAt(p.with("match", "labels", name).String(), fmt.Sprintf(
					"no alert this route could match has the label %s (burn-rate alerts carry their SLO's group_by labels, no-data alerts source, surges none): the route never matches", name)))
			}
		}
	}
	for _, k := range kinds {
		sure, maybe := c.route(k)
		switch {
		case sure:
		case len(maybe) == 0:
			problems = append(problems, c.ErrorAt("routes", fmt.Sprintf("no route sends %s: they would go nowhere; add a route for them, or one without match at the end", k)))
		default:
			problems = append(problems, c.ErrorAt("routes", fmt.Sprintf("%s are routed only when their labels match %s; the other instances' would go nowhere: add a route for them, or one without match at the end", k, strings.Join(maybe, ", "))))
		}
	}
	used := map[string]bool{c.Reports.Receiver: true}
	for _, r := range c.Routes {
		used[r.Receiver] = true
	}
	for i, r := range c.ReceiverConfigs {
		if r != nil && !used[r.Name] {
			warnings = append(warnings, c.ErrorAt(path{"receivers", i, "name"}.String(), fmt.Sprintf("no route sends to %q", r.Name)))
		}
	}
	return problems, warnings
}

// AlertKind is one kind of alert the config can raise: of an SLO, with a
// severity, carrying labels of these names (their values vary by instance).
type AlertKind struct {
	Alert    string // burn-rate, user-fault-surge or no-data
	SLO      string
	Severity Severity
	Labels   []string
}

func (k AlertKind) String() string {
	return fmt.Sprintf("the %s %s alerts of %s", k.Severity, k.Alert, k.SLO)
}

// AlertKinds lists every kind of alert the config can raise: each SLO's
// burn-rate alerts of each severity its policy has, its user-fault surge
// unless the guard is off, and its no-data alert.
func (c *Config) AlertKinds() []AlertKind {
	var out []AlertKind
	for _, s := range c.SLOs {
		var sevs []Severity
		for _, p := range s.Pairs() {
			if !slices.Contains(sevs, p.Severity) {
				sevs = append(sevs, p.Severity)
			}
		}
		for _, sev := range sevs {
			out = append(out, AlertKind{Alert: "burn-rate", SLO: s.Name, Severity: sev, Labels: s.GroupBy})
		}
		if !c.Classify.Surge.Disabled {
			out = append(out, AlertKind{Alert: "user-fault-surge", SLO: s.Name, Severity: c.Classify.Surge.Severity})
		}
		out = append(out, AlertKind{Alert: "no-data", SLO: s.Name, Severity: c.NoData.Severity, Labels: []string{"source"}})
	}
	return out
}

// mayMatch reports whether m can match alerts of kind k: its severity,
// SLO and alert fit, and k's alerts have every label it names.
func (k AlertKind) mayMatch(m RouteMatch) bool {
	if m.Severity != "" && m.Severity != k.Severity || m.SLO != "" && m.SLO != k.SLO || m.Alert != "" && m.Alert != k.Alert {
		return false
	}
	for name := range m.Labels {
		if !slices.Contains(k.Labels, name) {
			return false
		}
	}
	return true
}

// route walks the routes for alerts of kind k: sure when a route matches
// every one of them; maybe lists the routes before that which match only
// those with certain label values.
func (c *Config) route(k AlertKind) (sure bool, maybe []string) {
	for i, r := range c.Routes {
		if !k.mayMatch(r.Match) {
			continue
		}
		if len(r.Match.Labels) == 0 {
			return true, maybe
		}
		maybe = append(maybe, fmt.Sprintf("routes[%d]", i))
	}
	return false, maybe
}

// ReceiversOf lists the receivers of a kind of alert: those of the routes
// that match all or some of its alerts, in the order the routes try them,
// as Config.Receivers picks them for one alert.
func (c *Config) ReceiversOf(k AlertKind) []string {
	var out []string
	for _, r := range c.Routes {
		if !k.mayMatch(r.Match) {
			continue
		}
		if !slices.Contains(out, r.Receiver) {
			out = append(out, r.Receiver)
		}
		if len(r.Match.Labels) == 0 && !r.Continue {
			break
		}
	}
	return out
}

// covers reports whether every alert b matches, a matches too.
func covers(a, b RouteMatch) bool {
	if a.Severity != "" && a.Severity != b.Severity || a.SLO != "" && a.SLO != b.SLO || a.Alert != "" && a.Alert != b.Alert {
		return false
	}
	for k, v := range a.Labels {
		if bv, ok := b.Labels[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
