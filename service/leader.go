package service

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

// Election decides which of several replicas sends: both read, evaluate
// and keep their own state, and only the leader delivers notifications,
// heartbeats and scheduled reports. LeaseElection is the Kubernetes one.
type Election interface {
	// Run campaigns until ctx ends: started is called when this replica
	// becomes the leader, stopped when it no longer is (it lost the lease,
	// or could not renew it in time). Neither is called concurrently with
	// the other.
	Run(ctx context.Context, started func(), stopped func())
}

// What a replica keeps pending while it stands by, each with why.
const (
	// standbyResolveKeep is how long a standby keeps a resolve pending:
	// past that, the leader has delivered it, or has been failing to reach
	// the receiver for so long that BurnwatchNotificationsStuck paged
	// someone. A takeover re-sends what is kept, so keeping every resolve
	// would send a burst of stale ones ahead of new pages.
	standbyResolveKeep = time.Hour
	// standbyTrimEvery is how often a standby trims its outbox besides
	// after each commit that added to it, so that resolves age out.
	standbyTrimEvery = time.Minute
)

// leadership is whether this replica sends. Alone (no Election), it
// always does.
type leadership struct {
	elected bool // an Election runs: leadership is not a given
	leading atomic.Bool
	// since is when this replica last became the leader (ms, the service's
	// clock); math.MinInt64 alone, so that every schedule is its own.
	since atomic.Int64
	// trim wakes a standby's outbox trim after a commit added to it.
	trim chan struct{}
}

func (l *leadership) init(elected bool) {
	l.elected = elected
	l.trim = make(chan struct{}, 1)
	if !elected {
		l.leading.Store(true)
		l.since.Store(math.MinInt64)
	}
}

// Leading reports whether this replica sends: it holds the lease, or runs
// alone.
func (s *Service) Leading() bool { return s.lead.leading.Load() }

// ledAt reports whether this replica was already the leader at t and
// still is: a scheduled report due at t is the business of the replica
// that led then, so that a takeover after t does not send it again.
func (s *Service) ledAt(t time.Time) bool {
	return s.Leading() && s.lead.since.Load() <= t.UnixMilli()
}

// startLeading starts what runs beside the cycles for the leader: the
// election (with an Election), a standby's outbox trim, and the
// heartbeat. The function it returns stops them, releasing the lease.
func (s *Service) startLeading(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	run := func(fn func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(ctx)
		}()
	}
	run(s.runHeartbeat)
	if s.lead.elected {
		run(s.campaign)
		run(s.standBy)
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// standBy trims the outbox while this replica does not lead: after each
// commit that added to it, and every standbyTrimEvery.
func (s *Service) standBy(ctx context.Context) {
	every(ctx, standbyTrimEvery, s.lead.trim, func() {
		if s.Leading() {
			return
		}
		if err := s.trimStandby(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("trimming the standby's outbox", "err", err)
		}
	})
}

// every runs fn every period, and whenever wake (which may be nil) says,
// until ctx ends.
func every(ctx context.Context, period time.Duration, wake <-chan struct{}, fn func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		fn()
	}
}

// wakeTrim asks a standby to trim its outbox.
func (l *leadership) wakeTrim() {
	select {
	case l.trim <- struct{}{}:
	default:
	}
}

// campaign runs the election until ctx ends. On winning, the replica
// first takes over the outbox (takeOver), then sends.
func (s *Service) campaign(ctx context.Context) {
	started := func() {
		if err := s.takeOver(ctx); err != nil && ctx.Err() == nil {
			// Sending everything pending is safe (the receivers' identities
			// absorb repeats); only a stale resolve burst is at stake.
			s.log.Error("taking over the outbox failed; sending what is pending as it is", "err", err)
		}
		s.lead.since.Store(s.now().UnixMilli())
		s.lead.leading.Store(true)
		s.metrics.setLeader(true)
		s.log.Info("leading: this replica sends notifications, heartbeats and scheduled reports")
		select {
		case s.committed <- struct{}{}: // wake the senders
		default:
		}
	}
	stopped := func() {
		was := s.lead.leading.Swap(false)
		s.metrics.setLeader(false)
		if was {
			s.log.Warn("no longer leading: standing by, sending nothing")
		}
	}
	s.o.Election.Run(ctx, started, stopped)
}

// takeOver readies the outbox of a replica that just became the leader,
// so that nothing the old leader had not delivered is lost and nothing
// becomes two incidents (supersede, with standby false).
func (s *Service) takeOver(ctx context.Context) error {
	return s.do(ctx, func() error { return s.supersede(ctx, false) })
}

// trimStandby keeps a standby's outbox from growing: each alert's newest
// notification per receiver stays pending, ready for a takeover, the rest
// are superseded.
func (s *Service) trimStandby(ctx context.Context) error {
	return s.do(ctx, func() error { return s.supersede(ctx, true) })
}

// supersede applies the takeover rule to the pending outbox, on the
// writer (it asks the engine which alerts fire). For each receiver and
// alert only the newest pending notification is kept:
//
//   - an older one is superseded: the newest says where the alert stands,
//     and the old leader may have delivered the older ones already;
//   - a newest trigger of an alert that no longer fires is superseded: it
//     would page for an incident that is over (its resolve was held or
//     not routed);
//   - a newest trigger of an alert still firing is kept, and sent: a
//     repeat of what the old leader sent is absorbed by the receiver's
//     identity (PagerDuty's dedup key, Alertmanager's labels, the
//     webhook's alert_id, state and time), never a second incident;
//   - a newest resolve is kept, and sent even if this replica never
//     delivered its trigger (store.TriggerSent): the old leader may have.
//     On a standby, one older than standbyResolveKeep is superseded.
func (s *Service) supersede(ctx context.Context, standby bool) error {
	pending, err := s.db.PendingOutboxEntries(ctx)
	if err != nil {
		return err
	}
	type key struct{ receiver, alert string }
	newest := map[key]int64{}
	for _, e := range pending {
		newest[key{e.Receiver, e.AlertID}] = e.ID // ascending ids: the last wins
	}
	now := s.now().UnixMilli()
	why := map[int64]string{}
	for _, e := range pending {
		switch {
		case newest[key{e.Receiver, e.AlertID}] != e.ID:
			why[e.ID] = "a newer notification of the alert replaces it"
		case e.Firing && !s.eng.Firing(e.AlertID):
			why[e.ID] = "the alert no longer fires"
		case standby && !e.Firing && now-e.Created > standbyResolveKeep.Milliseconds():
			why[e.ID] = fmt.Sprintf("a resolve older than %s on a standby: the leader's to deliver", standbyResolveKeep)
		}
	}
	if err := s.db.Supersede(ctx, now, why); err != nil {
		return err
	}
	for _, e := range pending {
		if r, ok := why[e.ID]; ok {
			s.metrics.Notifications.WithLabelValues(e.Receiver, notify.Superseded.String()).Inc()
			if !standby {
				s.log.Info("notification not sent", "reason", notify.Superseded, "why", r, "receiver", e.Receiver, "alert_id", e.AlertID, "firing", e.Firing)
			}
		}
	}
	if !standby && len(pending) > len(why) {
		s.log.Info("took over the outbox", "sending", len(pending)-len(why), "superseded", len(why))
	}
	return nil
}
