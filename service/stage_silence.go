package service

import (
	"context"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/silence"
)

// silenceStage holds a trigger that a silence or a maintenance window
// covers: it is recorded, not sent. A resolve is not judged: it goes if
// its trigger went, so that an incident begun before a silence is closed.
type silenceStage struct{ silences *silence.Set }

func (st silenceStage) exec(_ context.Context, items []item) ([]item, error) {
	for i := range items {
		t := items[i].notice.Transition
		if t.State != burnrate.Firing {
			continue
		}
		lset := t.Labels.Map()
		lset[silence.LabelSLO], lset[silence.LabelAlert], lset[silence.LabelSeverity] = t.SLO, t.Alert, string(t.Severity)
		switch d, by := st.silences.Decide(t.Time, lset); d {
		case silence.Silenced:
			items[i].held, items[i].by = notify.Silenced, by
		case silence.InMaintenance:
			items[i].held, items[i].by = notify.InMaintenance, by
		}
	}
	return items, nil
}
