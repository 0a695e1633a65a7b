package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/store"
)

// Delivery timing, each with why.
const (
	// deliverEvery is how often the senders look for notifications due
	// when nothing wakes them: right after a commit with notifications
	// they look at once, and a retry is looked at when it is due.
	deliverEvery = 15 * time.Second
	// deliverBatch bounds the notifications one pass sends.
	deliverBatch = 100
	// backoffBase and backoffMax bound the wait before retrying a failed
	// delivery: doubling from a second, at most five minutes, so a pager
	// that is down for an hour gets everything within minutes of its
	// return.
	backoffBase = time.Second
	backoffMax  = 5 * time.Minute
)

// senders deliver the outbox with a worker per receiver, as Alertmanager
// fans out per integration: a receiver that hangs or backs off delays no
// other.
type senders struct {
	db        *store.DB
	receivers func() map[string]notify.Receiver
	metrics   *Metrics
	log       *slog.Logger
	now       func() time.Time
	wake      <-chan struct{}
	// leading says whether this replica sends; standby is told of each
	// commit with notifications while it does not (leader.go).
	leading func() bool
	standby func()

	mu sync.Mutex
	// resent is when each receiver last had its firing alerts re-posted.
	resent map[string]int64
}

func newSenders(s *Service) *senders {
	return &senders{
		db:        s.db,
		receivers: func() map[string]notify.Receiver { return s.cur.Load().receivers },
		metrics:   s.metrics,
		log:       s.log,
		now:       s.now,
		wake:      s.committed,
		leading:   s.Leading,
		standby:   s.lead.wakeTrim,
		resent:    map[string]int64{},
	}
}

// run delivers until ctx ends: right after a commit with notifications,
// when a retry is due, and every deliverEvery, each receiver's worker is
// told to look.
func (ss *senders) run(ctx context.Context) {
	var wg sync.WaitGroup
	workers := map[string]chan struct{}{}
	defer func() {
		for _, w := range workers {
			close(w)
		}
		wg.Wait()
	}()
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		woken := false
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		case <-ss.wake:
			woken = true
		}
		if !ss.leading() {
			if woken {
				ss.standby()
			}
			ss.gauge(ctx)
			continue
		}
		for name := range ss.receivers() {
			w, ok := workers[name]
			if !ok {
				w = make(chan struct{}, 1)
				workers[name] = w
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range w {
						if err := ss.deliverTo(ctx, name); err != nil && ctx.Err() == nil {
							ss.log.Error("delivering notifications", "receiver", name, "err", err)
						}
					}
				}()
			}
			select {
			case w <- struct{}{}:
			default: // busy: it looks again when done
			}
		}
		ss.gauge(ctx)
		wait.Reset(ss.nextLook(ctx))
	}
}

// nextLook is how long to wait before looking again: until the earliest
// retry is due, at most deliverEvery. The workers look first; a retry
// they set is due at least a second on.
func (ss *senders) nextLook(ctx context.Context) time.Duration {
	d := deliverEvery
	if next, ok, err := ss.db.NextDue(ctx); err == nil && ok {
		d = min(d, max(time.Duration(next-ss.now().UnixMilli())*time.Millisecond, time.Second))
	}
	return d
}

// gauge sets the pending notifications and the age of the oldest per
// receiver, so that stuck paging can be alerted on.
func (ss *senders) gauge(ctx context.Context) {
	pending, err := ss.db.PendingOutbox(ctx)
	if err != nil {
		return
	}
	now := ss.now().UnixMilli()
	for name := range ss.receivers() {
		c := pending[name]
		ss.metrics.pending(name, c.N, c.Oldest, now)
	}
}

// Resender is a receiver that forgets a firing alert unless it is posted
// again within Resend (Alertmanager expires alerts that are not).
type Resender interface {
	Resend() time.Duration
}

// Deliver sends every notification due now, receiver after receiver: what
// the workers do, in the caller's goroutine. Tests call it with their own
// clock.
func (s *Service) Deliver(ctx context.Context) error {
	if !s.Leading() {
		return nil // a standby sends nothing
	}
	var errs []error
	for name := range s.cur.Load().receivers {
		errs = append(errs, s.senders.deliverTo(ctx, name))
	}
	due, err := s.db.DueOutbox(ctx, s.now().UnixMilli(), deliverBatch)
	if err != nil {
		return err
	}
	// Entries for receivers the running config no longer has.
	for _, e := range due {
		if _, ok := s.cur.Load().receivers[e.Receiver]; !ok {
			errs = append(errs, s.senders.deliverOne(ctx, nil, e, s.now().UnixMilli()))
		}
	}
	return errors.Join(errs...)
}

// deliverTo sends what is due for one receiver: each alert's
// notifications in order, a failed one retried with backoff, one refused
// for good dead-lettered, and a resolve whose trigger was never delivered
// not sent alone; then re-posts its firing alerts if it needs that.
func (ss *senders) deliverTo(ctx context.Context, name string) error {
	rcv := ss.receivers()[name]
	now := ss.now().UnixMilli()
	due, err := ss.db.DueOutboxFor(ctx, name, now, deliverBatch)
	if err != nil {
		return err
	}
	for _, e := range due {
		if !ss.leading() {
			return nil // lost the lease: the new leader sends the rest
		}
		if err := ss.deliverOne(ctx, rcv, e, now); err != nil {
			return err
		}
	}
	return ss.resend(ctx, name, rcv, now)
}

func (ss *senders) deliverOne(ctx context.Context, rcv notify.Receiver, e store.OutboxEntry, now int64) error {
	reason := ss.attempt(ctx, rcv, &e, now)
	if err := ss.db.UpdateOutbox(ctx, e, now); err != nil {
		return err
	}
	if reason >= 0 {
		ss.metrics.Notifications.WithLabelValues(e.Receiver, notify.Reason(reason).String()).Inc()
	}
	return nil
}

// resend posts a receiver's firing alerts again every Resend, for a
// receiver that needs it. A failure is only logged: the next round tries
// again.
func (ss *senders) resend(ctx context.Context, name string, rcv notify.Receiver, now int64) error {
	r, ok := rcv.(Resender)
	if !ok || r.Resend() <= 0 {
		return nil
	}
	ss.mu.Lock()
	due := now-ss.resent[name] >= r.Resend().Milliseconds()
	if due {
		ss.resent[name] = now
	}
	ss.mu.Unlock()
	if !due {
		return nil
	}
	firing, err := ss.db.FiringDelivered(ctx, name)
	if err != nil {
		return err
	}
	for _, e := range firing {
		var n notify.Notification
		if json.Unmarshal(e.Payload, &n) != nil {
			continue
		}
		if _, err := rcv.Notify(ctx, n); err != nil {
			ss.log.Warn("re-posting a firing alert failed; the next round tries again", "receiver", name, "alert_id", e.AlertID, "err", err)
		}
	}
	return nil
}

// attempt tries one delivery and updates e; it returns the reason of a
// final outcome, or −1 when the entry stays pending for a retry.
func (ss *senders) attempt(ctx context.Context, rcv notify.Receiver, e *store.OutboxEntry, now int64) int {
	log := ss.log.With("receiver", e.Receiver, "alert_id", e.AlertID, "firing", e.Firing, "attempt", e.Attempts+1)
	if rcv == nil {
		e.State, e.LastError = store.OutboxDead, "no receiver of this name in the running config"
		log.Error("notification dead-lettered", "reason", notify.DeadLettered, "err", e.LastError)
		return int(notify.DeadLettered)
	}
	if !e.Firing {
		sent, err := ss.db.TriggerSent(ctx, e.Receiver, e.AlertID, e.ID)
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
