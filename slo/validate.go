package slo

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	playbookRE = nameRE
)

// validate checks everything the decoder could not and derives the parsed
// selectors and pairs. It records every problem, not just the first.
func (c *Config) validate(d *document) {
	if c.Version != Version {
		d.errorf(path{"version"}, "%d is not a supported version; this burnwatch reads version %d", c.Version, Version)
	}
	if len(c.SLOs) == 0 {
		d.errorf(path{"slos"}, "at least one SLO is needed")
	}
	seen := map[string]int{}
	for i, s := range c.SLOs {
		p := path{"slos", i}
		if s == nil {
			d.errorf(p, "an SLO needs at least name, objective and sli")
			continue
		}
		if first, dup := seen[s.Name]; dup && s.Name != "" {
			d.errorf(p.with("name"), "%q is already the name of slos[%d]; names must be unique", s.Name, first)
		} else {
			seen[s.Name] = i
		}
		s.validate(d, p)
	}
	c.Classify.validate(d, path{"classify"})
	c.validateService(d)
	c.validateRoutes(d)
	c.validateSilences(d)
	c.validateReports(d)
	c.validateHeartbeat(d)
	c.validateAPI(d)
	c.validateLimits(d)
	if c.DashboardURL != "" {
		if _, err := ParseDashboardURL(c.DashboardURL); err != nil {
			d.errorf(path{"dashboard_url"}, "is not a template: %v", err)
		}
	}
}

func (s *SLO) validate(d *document, p path) {
	switch {
	case s.Name == "":
		d.errorf(p.with("name"), "is required: lower-case letters, digits and dashes, such as cypher-availability")
	case !nameRE.MatchString(s.Name):
		d.errorf(p.with("name"), "%q may hold only lower-case letters, digits and dashes, and must start and end with a letter or digit", s.Name)
	}
	if !(s.Objective > 0 && s.Objective < 100) {
		d.errorf(p.with("objective"), "%v is not between 0 and 100 (a percentage such as 99.9)", s.Objective)
	}
	window := s.Window.Std()
	if window < 24*time.Hour || window%time.Minute != 0 {
		d.errorf(p.with("window"), "%s is not a budget period; use whole minutes of at least 1d, such as 7d, 28d or 30d", s.Window)
	}

	sli := p.with("sli")
	var err error
	if s.totalMatchers, err = selector(s.SLI.Total); err != nil {
		d.errorf(sli.with("total"), "%v", err)
	}
	if s.errorMatchers, err = selector(s.SLI.Errors); err != nil {
		d.errorf(sli.with("errors"), "%v", err)
	}
	if !model.LabelName(s.SLI.CodeLabel).IsValidLegacy() {
		d.errorf(sli.with("code_label"), "%q is not a label name", s.SLI.CodeLabel)
	}
	s.validateRelabel(d, sli)
	groups := map[string]bool{}
	for i, g := range s.GroupBy {
		switch {
		case !model.LabelName(g).IsValidLegacy():
			d.errorf(p.with("group_by", i), "%q is not a label name", g)
		case g == s.SLI.CodeLabel:
			d.errorf(p.with("group_by", i), "%q is the code label; grouping by it would make each error code its own instance", g)
		case groups[g]:
			d.errorf(p.with("group_by", i), "%q is listed twice", g)
		}
		groups[g] = true
	}
	s.validateAlerting(d, p.with("alerting"))
}

func selector(s string) ([]*labels.Matcher, error) {
	if s == "" {
		return nil, errors.New("is required: a PromQL series selector such as neo4j_queries_total{orchestra=\"eu-1\"}")
	}
	ms, err := ParseSelector(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a PromQL series selector: %w", s, err)
	}
	return ms, nil
}

func (s *SLO) validateAlerting(d *document, p path) {
	pol := s.Alerting.Policy
	pp := p.with("policy")
	if pol.Preset != "" {
		if _, ok := Presets[pol.Preset]; !ok {
			d.errorf(pp, "unknown policy %q; valid: workbook, or a list of {severity, budget_percent, long, short}", pol.Preset)
			return
		}
	} else if len(pol.Pairs) == 0 {
		d.errorf(pp, "a policy list needs at least one {severity, budget_percent, long, short}")
	} else if len(pol.Pairs) > MaxPairs {
		d.errorf(pp, "%d pairs is more than the %d a policy may have", len(pol.Pairs), MaxPairs)
	}
	for i, ps := range pol.Pairs {
		ip := pp.with(i)
		if ps.Severity != Page && ps.Severity != Ticket {
			d.errorf(ip.with("severity"), "%q is not a severity; valid: page, ticket", ps.Severity)
		}
		if !(ps.BudgetPercent > 0 && ps.BudgetPercent <= 100) {
			d.errorf(ip.with("budget_percent"), "%v is not between 0 and 100 (the percentage of the period's budget)", ps.BudgetPercent)
		}
		long, short := ps.Long.Std(), ps.Short.Std()
		if long <= 0 || long%time.Minute != 0 {
			d.errorf(ip.with("long"), "%s is not a window; use whole minutes, such as 1h", ps.Long)
		} else if long > s.Window.Std() {
			d.errorf(ip.with("long"), "%s is longer than the SLO's window %s", ps.Long, s.Window)
		}
		if short <= 0 || short%time.Minute != 0 {
			d.errorf(ip.with("short"), "%s is not a window; use whole minutes, such as 5m", ps.Short)
		} else if short >= long && long > 0 {
			d.errorf(ip.with("short"), "%s must be shorter than long (%s)", ps.Short, ps.Long)
		}
	}
	for _, r := range []struct {
		name string
		r    Route
	}{{"page", s.Alerting.Page}, {"ticket", s.Alerting.Ticket}} {
		if r.r.Playbook != "" && !playbookRE.MatchString(r.r.Playbook) {
			d.errorf(p.with(r.name, "playbook"), "%q is not a playbook id (lower-case letters, digits and dashes)", r.r.Playbook)
		}
	}
	s.pairs, _ = pol.Derive(s.Window.Std())
}
