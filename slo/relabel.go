package slo

import (
	"reflect"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// Relabel applies the SLI's relabel_configs to the labels of a series that
// the SLO's selectors matched, before its instance and its code are read
// from them: the same rules, in the same format, as Prometheus's
// relabel_configs. It is how an SLO reads counters whose database is part
// of the metric name (Neo4j's own neo4j_database_<db>_db_query_execution_
// failure_total): a rule copies it into the database label. keep is false
// when a rule dropped the series. Without rules the labels are returned as
// they are.
//
// The selectors match the series as the source has them (they are the
// source's queries); only grouping and the code see the relabelled labels.
func (s *SLO) Relabel(lset labels.Labels) (labels.Labels, bool) {
	if len(s.SLI.Relabel) == 0 {
		return lset, true
	}
	b := labels.NewBuilder(lset)
	if !relabel.ProcessBuilder(b, s.SLI.Relabel...) {
		return labels.EmptyLabels(), false
	}
	return b.Labels(), true
}

// validateRelabel checks each rule as Prometheus does.
func (s *SLO) validateRelabel(d *document, p path) {
	for i, c := range s.SLI.Relabel {
		if c == nil {
			d.errorf(p.with("relabel_configs", i), "is empty; a rule needs at least an action or a target_label")
			continue
		}
		if err := c.Validate(model.LegacyValidation); err != nil {
			d.errorf(p.with("relabel_configs", i), "%v", err)
		}
	}
}

// relabelRegexp is a regex of a relabel rule: a scalar in the file,
// decoded by Prometheus's own unmarshaler, though its Go type is a struct.
var relabelRegexp = reflect.TypeFor[relabel.Regexp]()
