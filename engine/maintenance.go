package engine

import (
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/silence"
)

// excludedFunc says whether an instance's failures at a time fall in a
// maintenance window excluded from the budget; nil when no window is.
func excludedFunc(windows []silence.Window) func(*burnrate.Instance, int64) bool {
	var ex []silence.Window
	for _, w := range windows {
		if w.ExcludeFromBudget {
			ex = append(ex, w)
		}
	}
	if len(ex) == 0 {
		return nil
	}
	return func(in *burnrate.Instance, ts int64) bool {
		// The minute bucket ending at ts holds (ts−1m, ts]: its events
		// happened in the minute before.
		t := time.UnixMilli(ts - 1)
		for _, w := range ex {
			if w.ActiveAt(t) && w.Applies(in.Spec.SLO.Name, in.Labels.Map()) {
				return true
			}
		}
		return false
	}
}
