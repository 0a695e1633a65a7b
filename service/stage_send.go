package service

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/burnwatch/burnwatch/notify"
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
		firing, err := s.db.FiringDelivered(ctx, name)
		if err != nil {
			return err
		}
		s.resent[name] = now
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
		if ra, ok := errors.AsType[notify.RetryAfter](err); ok && ra.RetryAfter() > 0 {
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
