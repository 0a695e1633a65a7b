package slo

import (
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/burnwatch/burnwatch/source"
)

// Source is where the service reads an SLO's counters: a Prometheus-API
// server, Datadog, or events pushed to burnwatch over HTTP. Exactly one of
// its kinds is set.
type Source struct {
	Name       string                   `yaml:"name"`
	Prometheus *source.PrometheusConfig `yaml:"prometheus,omitempty"`
	Datadog    *source.DatadogConfig    `yaml:"datadog,omitempty"`
	Events     *EventsSource            `yaml:"events,omitempty"`
	// Labels are added to every series read from the source (and replace
	// a label of the same name it carries), before the engine sees them:
	// the cluster a source reads, such as orchestra: eu-1, for an SLO that
	// reads several (multisource.go).
	Labels map[string]string `yaml:"labels,omitempty"`
}

// sourceFields has Source's fields without its UnmarshalYAML, for the
// shape check.
type sourceFields Source

// EventsSource takes counts pushed to POST /api/v1/events.
type EventsSource struct {
	// TokenFile holds the bearer token pushers must send. Left out, the
	// service creates one in its storage directory on first start.
	TokenFile string `yaml:"token_file,omitempty"`
	// MaxBody is the largest batch accepted, in bytes; default 10 MiB.
	MaxBody int64 `yaml:"max_body,omitempty"`
}

// Kind names the source's kind: prometheus, datadog or events.
func (s *Source) Kind() string {
	switch {
	case s.Prometheus != nil:
		return "prometheus"
	case s.Datadog != nil:
		return "datadog"
	case s.Events != nil:
		return "events"
	}
	return ""
}

// UnmarshalYAML decodes a source with each kind's defaults under what the
// file says, so that a field left out (retries, say) takes its default
// rather than zero.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode((*sourceFields)(s)); err != nil {
		return err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		switch n.Content[i].Value {
		case "prometheus":
			c := source.DefaultPrometheusConfig()
			if err := v.Decode(&c); err != nil {
				return err
			}
			s.Prometheus = &c
		case "datadog":
			c := source.DefaultDatadogConfig()
			if err := v.Decode(&c); err != nil {
				return err
			}
			s.Datadog = &c
		}
	}
	return nil
}

// DefaultSourceName names the events source a config without sources gets.
const DefaultSourceName = "events"

// Defaults of the service's settings.
const (
	DefaultEvaluationInterval = Duration(30 * time.Second)
	DefaultMaxBody            = 10 << 20
	DefaultNoDataAfter        = Duration(10 * time.Minute)
	DefaultNoDataHold         = Duration(2 * time.Minute)
	DefaultNoDataPlaybook     = "burnwatch-no-data"
)

// NoData configures what happens when data stops: an instance with no
// samples for Hold keeps its alerts as they are (missing data is not
// health), and an SLO whose source has delivered nothing for After raises
// the no-data alert.
type NoData struct {
	After    Duration `yaml:"after,omitempty"`
	Hold     Duration `yaml:"hold,omitempty"`
	Severity Severity `yaml:"severity,omitempty"` // default ticket
	Playbook string   `yaml:"playbook,omitempty"`
}

func (c *Config) applyServiceDefaults() {
	if c.EvaluationInterval == 0 {
		c.EvaluationInterval = DefaultEvaluationInterval
	}
	if len(c.Sources) == 0 {
		c.Sources = []*Source{{Name: DefaultSourceName, Events: &EventsSource{}}}
	}
	for _, s := range c.Sources {
		if s != nil && s.Events != nil && s.Events.MaxBody == 0 {
			s.Events.MaxBody = DefaultMaxBody
		}
	}
	if len(c.Sources) == 1 && c.Sources[0] != nil {
		for _, s := range c.SLOs {
			if s != nil && s.Source == "" && len(s.Sources) == 0 {
				s.Source = c.Sources[0].Name
			}
		}
	}
	nd := &c.NoData
	if nd.After == 0 {
		nd.After = DefaultNoDataAfter
	}
	if nd.Hold == 0 {
		nd.Hold = DefaultNoDataHold
	}
	if nd.Severity == "" {
		nd.Severity = Ticket
	}
	if nd.Playbook == "" {
		nd.Playbook = DefaultNoDataPlaybook
	}
}

func (c *Config) validateService(d *document) {
	if iv := c.EvaluationInterval.Std(); iv < time.Second || iv > 10*time.Minute {
		d.errorf(path{"evaluation_interval"}, "%s is not an interval between 1s and 10m", c.EvaluationInterval)
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		p := path{"sources", i}
		if s == nil {
			d.errorf(p, "a source needs a name and one of prometheus, datadog, events")
			continue
		}
		switch {
		case !nameRE.MatchString(s.Name):
			d.errorf(p.with("name"), "%q is not a source name (lower-case letters, digits and dashes)", s.Name)
		case names[s.Name]:
			d.errorf(p.with("name"), "%q names two sources", s.Name)
		}
		names[s.Name] = true
		kinds := 0
		for _, set := range []bool{s.Prometheus != nil, s.Datadog != nil, s.Events != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			d.errorf(p, "a source is exactly one of prometheus, datadog, events; this one has %d", kinds)
			continue
		}
		var err error
		switch {
		case s.Prometheus != nil:
			err = s.Prometheus.Validate()
			p = p.with("prometheus")
		case s.Datadog != nil:
			err = s.Datadog.Validate()
			p = p.with("datadog")
		case s.Events.MaxBody < 1024:
			d.errorf(p.with("events", "max_body"), "%d bytes is too small for a batch", s.Events.MaxBody)
		}
		d.fieldErrors(p, err)
		s.validateSourceLabels(d, path{"sources", i})
	}
	for i, s := range c.SLOs {
		if s == nil {
			continue
		}
		for _, name := range s.SourceNames() {
			if src := sourceNamed(c.Sources, name); src != nil && src.Datadog != nil {
				s.validateDatadog(d, path{"slos", i, "sli"})
				break
			}
		}
		c.validateSources(d, i, s, names)
	}
	nd := c.NoData
	if nd.After.Std() < time.Minute {
		d.errorf(path{"no_data", "after"}, "%s is too short; at least 1m", nd.After)
	}
	if nd.Hold.Std() <= 0 || nd.Hold > nd.After {
		d.errorf(path{"no_data", "hold"}, "%s must be positive and at most after (%s)", nd.Hold, nd.After)
	}
	if nd.Severity != Page && nd.Severity != Ticket {
		d.errorf(path{"no_data", "severity"}, "%q is not a severity; valid: page, ticket", nd.Severity)
	}
	if !playbookRE.MatchString(nd.Playbook) {
		d.errorf(path{"no_data", "playbook"}, "%q is not a playbook id", nd.Playbook)
	}
}

// validateDatadog checks that an SLO reading Datadog names its metrics
// there, and that its selectors match the series the source makes of them.
func (s *SLO) validateDatadog(d *document, p path) {
	dd := s.SLI.Datadog
	if dd == nil || dd.Total == "" || dd.Errors == "" {
		d.errorf(p.with("datadog"), "an SLO reading a Datadog source needs the Datadog names of its metrics: datadog: {total: neo4j.queries, errors: neo4j.query.errors}")
		return
	}
	for _, x := range []struct {
		field, metric string
		ms            []*labels.Matcher
	}{{"total", dd.Total, s.totalMatchers}, {"errors", dd.Errors, s.errorMatchers}} {
		want := strings.ReplaceAll(x.metric, ".", "_")
		name := ""
		for _, m := range x.ms {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name != want {
			d.errorf(p.with(x.field), "the selector must name the Datadog metric %s as the source labels it, %s", x.metric, want)
		}
	}
}

func sourceNames(ss []*Source) []string {
	var names []string
	for _, s := range ss {
		if s != nil {
			names = append(names, s.Name)
		}
	}
	return names
}

// SourceOf returns the source an SLO reads, its first if it reads several.
func (c *Config) SourceOf(s *SLO) *Source {
	if names := s.SourceNames(); len(names) > 0 {
		return sourceNamed(c.Sources, names[0])
	}
	return nil
}
