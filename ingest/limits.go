package ingest

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// DropReason is why the router dropped a series: the reason label of
// burnwatch_dropped_total and the reason in the log.
type DropReason int

// Reasons a series is dropped, each a limit of the config's limits.
const (
	DropLabels           DropReason = iota // more labels than max_labels
	DropLabelValueLength                   // a value longer than max_label_value_length
	DropInstances                          // its instance would be one more than max_instances_per_slo
	DropCodes                              // its code would be one more than max_codes_per_instance
	numDropReasons
)

var dropReasons = [numDropReasons]string{
	DropLabels:           "labels",
	DropLabelValueLength: "label_value_length",
	DropInstances:        "instances_per_slo",
	DropCodes:            "codes_per_instance",
}

func (d DropReason) String() string {
	if d < 0 || d >= numDropReasons {
		return "unknown"
	}
	return dropReasons[d]
}

// DropReasons are every reason, for metrics to export from the start.
func DropReasons() []DropReason {
	out := make([]DropReason, numDropReasons)
	for i := range out {
		out[i] = DropReason(i)
	}
	return out
}

// Drops are the series the router dropped since they were last taken, by
// reason, with the last one's labels (as text) and SLO for the log.
type Drops struct {
	Count   [numDropReasons]int
	Example [numDropReasons]string
	SLO     [numDropReasons]string
}

// Any reports whether anything was dropped.
func (d Drops) Any() bool {
	for _, n := range d.Count {
		if n > 0 {
			return true
		}
	}
	return false
}

// TakeDrops returns what was dropped since it last ran. A dropped series
// is not kept, so that its labels take no memory: it is dropped, and
// counted, each time it is read again.
func (r *Router) TakeDrops() Drops {
	d := r.drops
	r.drops = Drops{}
	return d
}

func (r *Router) drop(reason DropReason, sloName string, lset labels.Labels) {
	r.drops.Count[reason]++
	r.drops.SLO[reason] = sloName
	r.drops.Example[reason] = truncate(lset.String(), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// overLabels says which of the label limits lset is over, if any.
func overLabels(l slo.Limits, lset labels.Labels) (DropReason, bool) {
	if l.MaxLabels > 0 && lset.Len() > l.MaxLabels {
		return DropLabels, true
	}
	long := false
	if l.MaxLabelValueLength > 0 {
		lset.Range(func(lb labels.Label) {
			long = long || len(lb.Value) > l.MaxLabelValueLength
		})
	}
	return DropLabelValueLength, long
}
