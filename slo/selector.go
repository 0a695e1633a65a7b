package slo

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// promql parses selectors; from Prometheus v0.311.0 parsing is a method of a
// parser value rather than a package function.
var promql = parser.NewParser(parser.Options{})

// ParseSelector parses a PromQL series selector such as
// neo4j_queries_total{orchestra="eu-1"}.
func ParseSelector(s string) ([]*labels.Matcher, error) {
	return promql.ParseMetricSelector(s)
}

// Role says which of an SLO's counters a series is. A series can be both:
// http_requests_total as the total and http_requests_total{code=~"5.."} as
// the errors.
type Role uint8

const (
	RoleTotal Role = 1 << iota
	RoleErrors
)

// Role tells whether lset is one of the SLO's total or error series.
func (s *SLO) Role(lset labels.Labels) Role {
	var r Role
	if matchAll(s.totalMatchers, lset) {
		r |= RoleTotal
	}
	if matchAll(s.errorMatchers, lset) {
		r |= RoleErrors
	}
	return r
}

func matchAll(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return len(ms) > 0
}

// Instance returns the labels that name the SLO instance lset belongs to:
// the SLO's group_by labels, those that lset has.
func (s *SLO) Instance(lset labels.Labels) labels.Labels {
	if len(s.GroupBy) == 0 {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(len(s.GroupBy))
	for _, name := range s.GroupBy {
		if v := lset.Get(name); v != "" {
			b.Add(name, v)
		}
	}
	b.Sort()
	return b.Labels()
}

// InstanceKey is a compact map key for the instance lset belongs to.
func (s *SLO) InstanceKey(lset labels.Labels) string {
	var b strings.Builder
	for _, name := range s.GroupBy {
		b.WriteString(lset.Get(name))
		b.WriteByte(0xff)
	}
	return b.String()
}
