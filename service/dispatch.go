package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"text/template"
	"time"

	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// build makes what a config needs to run: its sources' readers, its
// receivers (reading their secrets now, so that a bad key fails the start
// or the reload, not the first page), its silences, its playbooks, and the
// notification pipeline built once over them.
func (s *Service) build(ctx context.Context, cfg *slo.Config) (*installation, error) {
	books, err := playbooks.Open(cfg.Playbooks.Dir)
	if err != nil {
		return nil, fmt.Errorf("loading playbooks: %w", err)
	}
	in := &installation{cfg: cfg, playbooks: books, playbooksHTTP: playbooks.Handler(books)}
	var dashboard *template.Template
	if !s.o.ReadOnly {
		// A reader sends nothing, and need not read the receivers' secrets.
		if in.readers, err = s.newReaders(cfg); err != nil {
			return nil, err
		}
		if in.receivers, dashboard, err = s.buildReceivers(cfg); err != nil {
			return nil, err
		}
		if in.heartbeat, err = newHeartbeat(cfg, in.receivers); err != nil {
			return nil, err
		}
	}
	if in.silences, err = s.loadSilences(ctx, cfg); err != nil {
		return nil, err
	}
	in.enrich = enrichStage{cfg: cfg, dashboard: dashboard}
	in.stages = pipeline(in.enrich, in.silences, s.metrics, s.log)
	return in, nil
}

// item is a notification on its way through the pipeline: from the
// transition it tells of to an outbox entry for one receiver.
type item struct {
	notice engine.Notice
	n      notify.Notification
	// receiver is set by the route stage.
	receiver string
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
// maintenance window covers it, and route it to receivers. The items
// that come out are written to the outbox in the cycle's transaction; the
// senders deliver from there.
func pipeline(enrich enrichStage, silences *silence.Set, m *Metrics, log *slog.Logger) []stage {
	return []stage{
		enrich,
		silenceStage{silences: silences},
		routeStage{cfg: enrich.cfg},
		heldStage{metrics: m, log: log},
	}
}

// notify runs the notices through the pipeline and adds the outbox
// entries they make to the pending cycle. On the writer.
func (s *Service) notify(ctx context.Context, in *installation, notices []engine.Notice) {
	start := time.Now()
	defer s.metrics.stage(stageNotify, start)
	for _, nt := range notices {
		items := []item{{notice: nt}}
		for _, st := range in.stages {
			var err error
			if items, err = st.exec(ctx, items); err != nil {
				s.log.Error("making the notifications of a transition", "alert_id", nt.Transition.ID, "err", err)
				items = nil
				break
			}
		}
		for _, it := range items {
			payload, err := json.Marshal(it.n)
			if err != nil {
				s.log.Error("encoding a notification", "alert_id", it.n.AlertID, "err", err)
				continue
			}
			state := store.OutboxPending
			if it.held != notify.Sent {
				state = store.OutboxSilenced
			}
			s.eng.AddOutbox(store.OutboxEntry{
				Receiver: it.receiver, AlertID: it.n.AlertID, Transition: it.notice.Index,
				Firing: it.n.Firing(), Payload: payload, State: state, LastError: it.by,
			})
		}
	}
}

// heldStage counts and logs the notifications a silence or a maintenance
// window holds: they are recorded, not sent.
type heldStage struct {
	metrics *Metrics
	log     *slog.Logger
}

func (h heldStage) exec(_ context.Context, items []item) ([]item, error) {
	for _, it := range items {
		if it.held != notify.Sent {
			h.metrics.Notifications.WithLabelValues(it.receiver, it.held.String()).Inc()
			h.log.Info("notification not sent", "reason", it.held, "by", it.by, "receiver", it.receiver,
				"alert_id", it.n.AlertID, "slo", it.n.SLO, "labels", it.notice.Transition.Labels.String())
		}
	}
	return items, nil
}

// releaseHeld pages the alerts whose triggers a silence or maintenance
// window held, now that nothing holds them and they still fire: an outage
// that began inside a silence must not go unpaged once it is over. On the
// writer.
func (s *Service) releaseHeld(ctx context.Context, in *installation, now time.Time) error {
	held, err := s.db.HeldTriggers(ctx)
	if err != nil {
		return err
	}
	for _, e := range held {
		if !s.eng.Firing(e.AlertID) || pendingFor(s.eng.PendingOutbox(), e.Receiver, e.AlertID) {
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
		if d, _ := in.silences.Decide(now, lset); d != silence.Send {
			continue
		}
		s.log.Info("the silence is over and the alert still fires: paging it", "receiver", e.Receiver, "alert_id", e.AlertID, "slo", n.SLO)
		s.eng.AddOutbox(store.OutboxEntry{
			Receiver: e.Receiver, AlertID: e.AlertID, Transition: store.NoTransition, Firing: true, Payload: e.Payload,
		})
	}
	return nil
}

// pendingFor reports whether the entries hold a notification of the alert
// for the receiver.
func pendingFor(entries []store.OutboxEntry, receiver, alertID string) bool {
	for _, e := range entries {
		if e.Receiver == receiver && e.AlertID == alertID {
			return true
		}
	}
	return false
}
