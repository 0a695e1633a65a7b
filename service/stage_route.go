package service

import (
	"context"

	"github.com/burnwatch/burnwatch/slo"
)

// defaultReceiver receives every alert when the config routes none: the
// console, so that a new install shows what it would page.
const defaultReceiver = "console"

// routeStage makes one notification per receiver the config's routes
// name for the alert.
type routeStage struct{ cfg *slo.Config }

func (r routeStage) exec(_ context.Context, items []item) ([]item, error) {
	var out []item
	for _, it := range items {
		t := it.notice.Transition
		names := r.cfg.Receivers(t.Alert, t.SLO, t.Severity, t.Labels.Map())
		if len(r.cfg.Routes) == 0 {
			names = []string{defaultReceiver}
		}
		for _, name := range names {
			it.receiver = name
			out = append(out, it)
		}
	}
	return out, nil
}
