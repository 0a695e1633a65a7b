package service

import (
	"context"
	"encoding/json"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/store"
)

// item is a notification on its way through the pipeline: from the
// transition it tells of to an outbox entry for one receiver.
type item struct {
	transition burnrate.Transition
	index      int // the transition's place in the cycle's log
	n          notify.Notification
	receiver   string
	// held is why the notification is recorded but not sent (Silenced,
	// InMaintenance), and by is the silence or window; Sent otherwise.
	held notify.Reason
	by   string
}

// stage is one step of the pipeline: it takes the items, and returns
// those that go on, changed.
type stage interface {
	exec(ctx context.Context, items []item) ([]item, error)
}

// pipeline is the order in which a transition becomes notifications:
// enrich it into what a responder needs, hold it if a silence or a
// maintenance window covers it, route it to receivers, and write it to
// the outbox in the cycle's transaction. The sender (stage_send.go)
// delivers from the outbox.
func (s *Service) pipeline() []stage {
	return []stage{
		enrichStage{s},
		silenceStage{s},
		routeStage{s},
		outboxStage{s},
	}
}

// notify runs a transition through the pipeline.
func (s *Service) notify(ctx context.Context, t burnrate.Transition, index int) {
	items := []item{{transition: t, index: index}}
	for _, st := range s.pipeline() {
		var err error
		if items, err = st.exec(ctx, items); err != nil {
			s.log.Error("making the notifications of a transition", "alert_id", t.ID, "err", err)
			return
		}
	}
}

// outboxStage keeps each notification as an outbox entry, committed with
// its transition.
type outboxStage struct{ s *Service }

func (o outboxStage) exec(_ context.Context, items []item) ([]item, error) {
	s := o.s
	for _, it := range items {
		payload, err := json.Marshal(it.n)
		if err != nil {
			return nil, err
		}
		state := store.OutboxPending
		if it.held != notify.Sent {
			state = store.OutboxSilenced
			s.metrics.Notifications.WithLabelValues(it.receiver, it.held.String()).Inc()
			s.log.Info("notification not sent", "reason", it.held, "by", it.by, "receiver", it.receiver,
				"alert_id", it.n.AlertID, "slo", it.n.SLO, "labels", it.transition.Labels.String())
		}
		s.pending.outbox = append(s.pending.outbox, store.OutboxEntry{
			Receiver: it.receiver, AlertID: it.n.AlertID, Transition: it.index,
			Firing: it.n.Firing(), Payload: payload, State: state, LastError: it.by,
		})
	}
	return items, nil
}
