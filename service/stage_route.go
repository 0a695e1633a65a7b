package service

import (
	"context"
)

// defaultReceiver receives every alert when the config routes none: the
// console, so that a new install shows what it would page.
const defaultReceiver = "console"

// routeStage makes one notification per receiver the config's routes
// name for the alert.
type routeStage struct{ s *Service }

func (r routeStage) exec(_ context.Context, items []item) ([]item, error) {
	cfg := r.s.cfg
	var out []item
	for _, it := range items {
		t := it.transition
		names := cfg.Receivers(t.Alert, t.SLO, t.Severity, t.Labels.Map())
		if len(cfg.Routes) == 0 {
			names = []string{defaultReceiver}
		}
		for _, name := range names {
			it.receiver = name
			out = append(out, it)
		}
	}
	return out, nil
}
