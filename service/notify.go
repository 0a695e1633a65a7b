package service

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/silence"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// Delivery timing, each with why.
const (
	// deliverEvery is how often the sender looks for notifications due,
	// besides right after each commit.
	deliverEvery = time.Second
	// deliverBatch bounds the notifications one pass sends.
	deliverBatch = 100
	// backoffBase and backoffMax bound the wait before retrying a failed
	// delivery: doubling from a second, at most five minutes, so a pager
	// that is down for an hour gets everything within minutes of its
	// return.
	backoffBase = time.Second
	backoffMax  = 5 * time.Minute
)

// defaultReceiver receives every alert when the config routes none: the
// console, so that a new install shows what it would page.
const defaultReceiver = "console"

// notification enriches a transition into what receivers deliver.
func (s *Service) notification(t burnrate.Transition) notify.Notification {
	n := notify.Notification{
		AlertID:         t.ID,
		Kind:            t.Alert,
		SLO:             t.SLO,
		Labels:          t.Labels.Map(),
		Severity:        string(t.Severity),
		State:           t.State.String(),
		Time:            t.Time,
		Onset:           t.Time,
		BudgetRemaining: t.BudgetRemaining,
		Surging:         t.Surging,
		Fleet:           t.Fleet,
		PlaybookID:      t.Playbook,
	}
	if t.State == burnrate.Resolved {
		if onset, ok := s.onsets[t.ID]; ok {
			n.Onset = onset
		}
	}
	for _, r := range t.BurnRates {
		n.BurnRates = append(n.BurnRates, notify.BurnRate{Window: model.Duration(r.Window).String(), Rate: r.Rate})
	}
	for _, c := range t.Codes {
		n.Codes = append(n.Codes, notify.Code{Code: c.Code, Class: c.Class, Count: c.Count})
	}
	for _, l := range t.Instances {
		n.Instances = append(n.Instances, l.Map())
	}
	if t.Playbook != "" {
		n.PlaybookURL = playbooks.URL(s.cfg.Playbooks.BaseURL, t.Playbook)
	}
	n.DashboardURL = s.dashboardURL(n.Labels)
	n.Summary = summary(n, t.Labels.String(), s.cfg)
	return n
}

// summary is the line a human reads at 3 a.m.
func summary(n notify.Notification, inst string, cfg *slo.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] ", strings.ToUpper(n.Severity))
	if !n.Firing() {
		b.WriteString("RESOLVED: ")
	}
	switch n.Kind {
	case burnrate.UserFaultSurgeAlert:
		fmt.Fprintf(&b, "%s: user faults surging on %d of %d instances", n.SLO, n.Surging, n.Fleet)
	case burnrate.NoDataAlert:
		fmt.Fprintf(&b, "%s: no data from source %s for %s", n.SLO, n.Labels["source"], cfg.NoData.After)
	default:
		fmt.Fprintf(&b, "%s %s: error budget burning", n.SLO, inst)
		for i, r := range n.BurnRates {
			if i > 0 {
				b.WriteString(" /")
			}
			fmt.Fprintf(&b, " %.3g× over %s", r.Rate, r.Window)
		}
		fmt.Fprintf(&b, "; %.1f%% of the budget left", 100*n.BudgetRemaining)
	}
	if len(n.Codes) > 0 {
		fmt.Fprintf(&b, " (mostly %s)", n.Codes[0].Code)
	}
	return notify.Truncate(b.String(), 1024)
}

// dashboardURL fills the configured dashboard template with the
// instance's labels.
func (s *Service) dashboardURL(labels map[string]string) string {
	t := s.dashboard
	if t == nil {
		return ""
	}
	var b strings.Builder
	if err := t.Execute(&b, labels); err != nil {
		return ""
	}
	return b.String()
}

// route returns the outbox entries of a transition, one per receiver its
// routes name, written with it in the cycle's commit.
func (s *Service) route(t burnrate.Transition, index int) []store.OutboxEntry {
	if t.State == burnrate.Firing {
		s.onsets[t.ID] = t.Time
	}
	names := s.cfg.Receivers(t.Alert, t.SLO, t.Severity, t.Labels.Map())
	if len(s.cfg.Routes) == 0 {
		names = []string{defaultReceiver}
	}
	if len(names) == 0 {
		return nil
	}
	n := s.notification(t)
	payload, err := json.Marshal(n)
	if err != nil {
		s.log.Error("encoding a notification", "err", err)
		return nil
	}
	// A trigger inside a silence or a maintenance window is recorded, not
	// sent. A resolve is not judged: it goes if its trigger went, so that
	// an incident a silence began during is still closed.
	state, reason, why := store.OutboxPending, notify.Sent, ""
	if t.State == burnrate.Firing {
		lset := t.Labels.Map()
		lset[silence.LabelSLO], lset[silence.LabelAlert], lset[silence.LabelSeverity] = t.SLO, t.Alert, string(t.Severity)
		switch d, id := s.silences.Decide(t.Time, lset); d {
		case silence.Silenced:
			state, reason, why = store.OutboxSilenced, notify.Silenced, id
		case silence.InMaintenance:
			state, reason, why = store.OutboxSilenced, notify.InMaintenance, id
		}
	}
	var out []store.OutboxEntry
	for _, name := range names {
		out = append(out, store.OutboxEntry{
			Receiver: name, AlertID: t.ID, Transition: index,
			Firing: t.State == burnrate.Firing, Payload: payload, State: state, LastError: why,
		})
		if state == store.OutboxSilenced {
			s.metrics.Notifications.WithLabelValues(name, reason.String()).Inc()
			s.log.Info("notification not sent", "reason", reason, "by", why, "receiver", name, "alert_id", t.ID, "slo", t.SLO, "labels", t.Labels.String())
		}
	}
	return out
}

// deliver sends what the outbox holds, until ctx ends.
func (s *Service) deliver(ctx context.Context) {
	tick := time.NewTicker(deliverEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.committed:
		}
		if err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("delivering notifications", "err", err)
		}
	}
}

// Resender is a receiver that forgets a firing alert unless it is posted
// again within Resend (Alertmanager expires alerts that are not).
type Resender interface {
	Resend() time.Duration
}

// resend posts the firing alerts again to the receivers that need it,
// each every Resend. A failure is only logged: the next round tries again.
func (s *Service) resend(ctx context.Context, now int64) error {
	s.mu.RLock()
	receivers := s.receivers
	s.mu.RUnlock()
	for name, rcv := range receivers {
		r, ok := rcv.(Resender)
		if !ok || r.Resend() <= 0 || now-s.resent[name] < r.Resend().Milliseconds() {
			continue
		}
		s.resent[name] = now
		firing, err := s.db.FiringDelivered(ctx, name)
		if err != nil {
			return err
		}
		for _, e := range firing {
			var n notify.Notification
			if json.Unmarshal(e.Payload, &n) != nil {
				continue
			}
			if _, err := rcv.Notify(ctx, n); err != nil {
				s.log.Warn("re-posting a firing alert failed; the next round tries again", "receiver", name, "alert_id", e.AlertID, "err", err)
			}
		}
	}
	return nil
}

// Deliver sends every notification due now: each receiver gets an alert's
// notifications in order, a failed one is retried with backoff, one
// refused for good is dead-lettered, and a resolve whose trigger was never
// delivered is not sent alone.
func (s *Service) Deliver(ctx context.Context) (err error) {
	now := s.now().UnixMilli()
	due, err := s.db.DueOutbox(ctx, now, deliverBatch)
	if err != nil {
		return err
	}
	defer func() {
		if err == nil {
			err = s.resend(ctx, now)
		}
	}()
	for _, e := range due {
		s.mu.RLock()
		rcv := s.receivers[e.Receiver]
		s.mu.RUnlock()
		reason := s.attempt(ctx, rcv, &e, now)
		if err := s.db.UpdateOutbox(ctx, e, now); err != nil {
			return err
		}
		if reason >= 0 {
			s.metrics.Notifications.WithLabelValues(e.Receiver, notify.Reason(reason).String()).Inc()
		}
	}
	return nil
}

// attempt tries one delivery and updates e; it returns the reason of a
// final outcome, or −1 when the entry stays pending for a retry.
func (s *Service) attempt(ctx context.Context, rcv notify.Receiver, e *store.OutboxEntry, now int64) int {
	log := s.log.With("receiver", e.Receiver, "alert_id", e.AlertID, "firing", e.Firing, "attempt", e.Attempts+1)
	if rcv == nil {
		e.State, e.LastError = store.OutboxDead, "no receiver of this name in the running config"
		log.Error("notification dead-lettered", "reason", notify.DeadLettered, "err", e.LastError)
		return int(notify.DeadLettered)
	}
	if !e.Firing {
		sent, err := s.db.TriggerSent(ctx, e.Receiver, e.AlertID, e.ID)
		if err != nil {
			e.LastError = err.Error()
			return -1
		}
		if !sent {
			e.State = store.OutboxSkipped
			log.Info("resolve not sent: its trigger was never delivered", "reason", notify.Skipped)
			return int(notify.Skipped)
		}
	}
	var n notify.Notification
	if err := json.Unmarshal(e.Payload, &n); err != nil {
		e.State, e.LastError = store.OutboxDead, err.Error()
		return int(notify.DeadLettered)
	}
	retry, err := rcv.Notify(ctx, n)
	e.Attempts++
	switch {
	case err == nil:
		e.State, e.LastError = store.OutboxSent, ""
		log.Info("notification sent", "reason", notify.Sent)
		return int(notify.Sent)
	case retry:
		wait := backoff(e.Attempts)
		if ra, ok := err.(notify.RetryAfter); ok && ra.RetryAfter() > 0 {
			wait = ra.RetryAfter()
		}
		e.NextAttempt, e.LastError = now+wait.Milliseconds(), err.Error()
		log.Warn("notification failed; will retry", "err", err, "in", wait)
		return -1
	default:
		e.State, e.LastError = store.OutboxDead, err.Error()
		log.Error("notification dead-lettered", "reason", notify.DeadLettered, "err", err)
		return int(notify.DeadLettered)
	}
}

// backoff is the wait before attempt n+1: exponential from backoffBase,
// at most backoffMax, with ±20% jitter so that many alerts failing at once
// do not retry in step.
func backoff(attempts int) time.Duration {
	d := backoffMax
	if attempts < 20 {
		d = min(backoffBase<<(attempts-1), backoffMax)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
