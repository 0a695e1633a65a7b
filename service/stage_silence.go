package service

import (
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/store"
)

// silenceStage holds a trigger that a silence or a maintenance window
// covers: it is recorded, not sent. A resolve is not judged: it goes if
// its trigger went, so that an incident begun before a silence is closed.
type silenceStage struct{ s *Service }

func (st silenceStage) exec(_ context.Context, items []item) ([]item, error) {
	for i := range items {
		t := items[i].transition
		if t.State != burnrate.Firing {
			continue
		}
		lset := t.Labels.Map()
		lset[silence.LabelSLO], lset[silence.LabelAlert], lset[silence.LabelSeverity] = t.SLO, t.Alert, string(t.Severity)
		switch d, by := st.s.silences.Decide(t.Time, lset); d {
		case silence.Silenced:
			items[i].held, items[i].by = notify.Silenced, by
		case silence.InMaintenance:
			items[i].held, items[i].by = notify.InMaintenance, by
		}
	}
	return items, nil
}

// releaseHeld pages the alerts whose triggers a silence or maintenance
// window held, now that nothing holds them and they still fire: an outage
// that began inside a silence must not go unpaged once it is over.
func (s *Service) releaseHeld(ctx context.Context, now time.Time) error {
	held, err := s.db.HeldTriggers(ctx)
	if err != nil {
		return err
	}
	for _, e := range held {
		if _, firing := s.onsets[e.AlertID]; !firing || s.pendingFor(e.Receiver, e.AlertID) {
			continue
		}
		var n notify.Notification
		if err := json.Unmarshal(e.Payload, &n); err != nil {
			continue
		}
		lset := maps.Clone(n.Labels)
		if lset == nil {
			lset = map[string]string{}
		}
		lset[silence.LabelSLO], lset[silence.LabelAlert], lset[silence.LabelSeverity] = n.SLO, n.Kind, n.Severity
		if d, _ := s.silences.Decide(now, lset); d != silence.Send {
			continue
		}
		s.log.Info("the silence is over and the alert still fires: paging it", "receiver", e.Receiver, "alert_id", e.AlertID, "slo", n.SLO)
		s.pending.outbox = append(s.pending.outbox, store.OutboxEntry{
			Receiver: e.Receiver, AlertID: e.AlertID, Transition: store.NoTransition, Firing: true, Payload: e.Payload,
		})
	}
	return nil
}

// pendingFor reports whether the cycle already has a notification of the
// alert for the receiver.
func (s *Service) pendingFor(receiver, alertID string) bool {
	for _, e := range s.pending.outbox {
		if e.Receiver == receiver && e.AlertID == alertID {
			return true
		}
	}
	return false
}
