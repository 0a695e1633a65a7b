// Package slo is the config model of burnwatch: SLOs, their SLIs and alert
// policies, loaded from YAML with every problem located by file, line and
// field, and the budget arithmetic that derives burn-rate factors.
package slo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"

	"github.com/burnwatch/burnwatch/source"
)

// Version is the config schema version this package reads.
const Version = 1

// Defaults applied to fields a config leaves out.
const (
	DefaultWindow    = Duration(30 * 24 * time.Hour)
	DefaultCodeLabel = "code"
	DefaultPolicy    = "workbook"
)

// Config is a whole burnwatch config file.
type Config struct {
	Version  int      `yaml:"version,omitempty"`
	SLOs     []*SLO   `yaml:"slos"`
	Classify Classify `yaml:"classify,omitempty"`

	// The service's settings (burnwatch serve).
	EvaluationInterval Duration  `yaml:"evaluation_interval,omitempty"`
	Sources            []*Source `yaml:"sources,omitempty"`
	NoData             NoData    `yaml:"no_data,omitempty"`
	Playbooks          Playbooks `yaml:"playbooks,omitempty"`
	// Where notifications go: receivers, and routes that pick them.
	ReceiverConfigs []*Receiver `yaml:"receivers,omitempty"`
	Routes          []RouteRule `yaml:"routes,omitempty"`
	// DashboardURL is a text/template filled with an instance's labels,
	// linked from its pages: https://grafana.example/d/db?var-database={{.database}}.
	// ParseDashboardURL parses it so that every value is URL-encoded.
	DashboardURL string `yaml:"dashboard_url,omitempty"`
	// Silences known in advance (more come through the API), and
	// maintenance windows, which silence paging and, with
	// exclude_from_budget, keep their failures out of the budget.
	Silences    []SilenceConfig     `yaml:"silences,omitempty"`
	Maintenance []MaintenanceWindow `yaml:"maintenance,omitempty"`
	// Reports says when serve writes the weekly report.
	Reports Reports `yaml:"reports,omitempty"`
	// Heartbeat tells a dead man's switch that serve is alive and
	// evaluating; nil sends none.
	Heartbeat *Heartbeat `yaml:"heartbeat,omitempty"`
	// API says who may use serve's HTTP API (api.go); Limits bound what
	// it keeps (limits.go).
	API    API    `yaml:"api,omitempty"`
	Limits Limits `yaml:"limits,omitempty"`

	// File is the name the config was loaded from, used in errors.
	File string `yaml:"-"`

	// doc is the parsed file, kept so that ErrorAt can locate a field
	// after loading.
	doc *document
}

// SLO is one service level objective, evaluated per instance (per value set
// of GroupBy).
type SLO struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description,omitempty"`
	Objective   float64  `yaml:"objective"` // percent, 0 < x < 100
	Window      Duration `yaml:"window,omitempty"`
	SLI         SLI      `yaml:"sli"`
	GroupBy     []string `yaml:"group_by,omitempty"`
	Alerting    Alerting `yaml:"alerting,omitempty"`
	// Source names the source the SLO reads; left out, the only one.
	Source string `yaml:"source,omitempty"`
	// Sources name several sources instead, one per cluster, each adding
	// its labels to tell its instances apart (multisource.go).
	Sources []string `yaml:"sources,omitempty"`

	totalMatchers []*labels.Matcher
	errorMatchers []*labels.Matcher
	pairs         []Pair
	// sourceLabels are the labels each of SourceNames adds, in order.
	sourceLabels []map[string]string
}

// SLI names the two counters of an SLO: every event, and the failed ones with
// their error code in CodeLabel.
type SLI struct {
	Total     string `yaml:"total"`
	Errors    string `yaml:"errors"`
	CodeLabel string `yaml:"code_label,omitempty"`
	// Datadog names the two metrics in Datadog, for an SLO that reads a
	// Datadog source. The selectors then name them with their dots as
	// underscores (neo4j.query.errors is neo4j_query_errors), as the
	// source labels its series, and their other equality matchers become
	// the query's tag filter.
	Datadog *DatadogMetrics `yaml:"datadog,omitempty"`
	// Relabel are rules in Prometheus's relabel_configs format applied to
	// a matched series' labels before its instance and code are read
	// (see (*SLO).Relabel).
	Relabel []*relabel.Config `yaml:"relabel_configs,omitempty"`
}

// DatadogMetrics are an SLI's metric names in Datadog.
type DatadogMetrics struct {
	Total  string `yaml:"total"`
	Errors string `yaml:"errors"`
}

// DatadogQueries returns the Datadog queries of the SLO's total and errors
// counters: summed as counts per minute, by the group_by labels (and the
// code label, for the errors).
func (s *SLO) DatadogQueries() (total, errors string) {
	filter := func(ms []*labels.Matcher) map[string]string {
		f := map[string]string{}
		for _, m := range ms {
			if m.Name != labels.MetricName && m.Type == labels.MatchEqual && m.Value != "" {
				f[m.Name] = m.Value
			}
		}
		return f
	}
	by := slices.Clone(s.GroupBy)
	total = source.DatadogQuery(s.SLI.Datadog.Total, filter(s.totalMatchers), by)
	errors = source.DatadogQuery(s.SLI.Datadog.Errors, filter(s.errorMatchers), append(by, s.SLI.CodeLabel))
	return total, errors
}

// Alerting is an SLO's alert policy and what each severity links to.
type Alerting struct {
	Policy Policy `yaml:"policy,omitempty"`
	Page   Route  `yaml:"page,omitempty"`
	Ticket Route  `yaml:"ticket,omitempty"`
}

// Route says what an alert of one severity carries to the responder.
type Route struct {
	Playbook string `yaml:"playbook,omitempty"`
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a config. name is used in error messages. The
// error, if any, is an Errors listing every problem found.
func Parse(name string, data []byte) (*Config, error) {
	cfg := &Config{File: name}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Msg: "the config is empty; it needs at least one SLO under slos"}}
		}
		return nil, Errors{syntaxError(name, data, err)}
	}
	doc := document{file: name, root: &root, data: data}
	if doc.checkShape(Config{}) {
		return nil, doc.errs
	}
	// yaml.v3 decodes what it can past a type error, so validation still
	// runs and every problem is reported at once; a field that failed to
	// decode is reported once, by the decoder.
	if err := root.Decode(cfg); err != nil {
		doc.addDecodeError(err)
	}
	cfg.File = name
	cfg.doc = &document{file: name, root: &root, data: data}
	cfg.applyDefaults()
	undecodable := len(doc.errs)
	cfg.validate(&doc)
	doc.dropRepeats(undecodable)
	if len(doc.errs) > 0 {
		doc.sort()
		return nil, doc.errs
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	if c.Version == 0 {
		c.Version = Version
	}
	c.Classify.Surge.applyDefaults()
	c.applyServiceDefaults()
	c.applyReportDefaults()
	c.applyHeartbeatDefaults()
	c.applyLimitDefaults()
	if c.Playbooks.BaseURL == "" {
		c.Playbooks.BaseURL = DefaultPlaybookBaseURL
	}
	for _, s := range c.SLOs {
		if s == nil {
			continue
		}
		if s.Window == 0 {
			s.Window = DefaultWindow
		}
		if s.SLI.CodeLabel == "" {
			s.SLI.CodeLabel = DefaultCodeLabel
		}
		if s.Alerting.Policy.isZero() {
			s.Alerting.Policy.Preset = DefaultPolicy
		}
	}
}

// Playbooks says where the service finds playbooks beyond the built-in
// ones, and where they are served for the links in pages.
type Playbooks struct {
	// Dir holds Markdown playbooks; one with a built-in's id replaces it.
	Dir string `yaml:"dir,omitempty"`
	// BaseURL is burnwatch's address as on-call reaches it; links are
	// BaseURL/playbooks/ID. Default http://localhost:9099.
	BaseURL string `yaml:"base_url,omitempty"`
}

// DefaultPlaybookBaseURL is where playbook links point when the config
// does not say.
const DefaultPlaybookBaseURL = "http://localhost:9099"

// PlaybookRef is a place in the config that names a playbook.
type PlaybookRef struct {
	Where string // the field, such as slos[0].alerting.page.playbook
	ID    string
}

// PlaybookRefs lists every playbook the config names, so that a lint can
// check each exists.
func (c *Config) PlaybookRefs() []PlaybookRef {
	var refs []PlaybookRef
	for i, s := range c.SLOs {
		for _, sev := range Severities {
			if id := s.Playbook(sev); id != "" {
				refs = append(refs, PlaybookRef{path{"slos", i, "alerting", string(sev), "playbook"}.String(), id})
			}
		}
	}
	if !c.Classify.Surge.Disabled {
		refs = append(refs, PlaybookRef{"classify.surge.playbook", c.Classify.Surge.Playbook})
	}
	refs = append(refs, PlaybookRef{"no_data.playbook", c.NoData.Playbook})
	return refs
}

// SLO returns the SLO with the given name, or nil.
func (c *Config) SLO(name string) *SLO {
	for _, s := range c.SLOs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Budget is the fraction of events allowed to fail: 1 − objective/100.
//
// 99.9 has no exact binary form, and 1 − 0.999 in floats is
// 0.0009999999999998899, which would make a burn of exactly 1 look like
// 1.0000000000001 and fire at a boundary it should not. The budget is
// therefore rounded to nine decimals of a percent, which turns any
// objective written in decimals into the float nearest its true budget.
func (s *SLO) Budget() float64 { return math.Round((100-s.Objective)*1e9) / 1e11 }

// Pairs returns the SLO's alert pairs with factors derived from its window.
func (s *SLO) Pairs() []Pair { return s.pairs }

// Playbook returns the playbook id configured for a severity, if any.
func (s *SLO) Playbook(sev Severity) string {
	switch sev {
	case Page:
		return s.Alerting.Page.Playbook
	case Ticket:
		return s.Alerting.Ticket.Playbook
	}
	return ""
}
