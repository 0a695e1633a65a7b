package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// heartbeatOutcome is what became of one heartbeat: in the log, and the
// outcome label of burnwatch_heartbeats_total. A standby counts none: it
// is not its business.
type heartbeatOutcome int

const (
	heartbeatSent          heartbeatOutcome = iota // the switch took it (a 2xx)
	heartbeatFailed                                // the switch did not take it, or did not answer in time
	heartbeatNotEvaluating                         // no cycle succeeded lately: not sent, so that the switch pages
)

var heartbeatOutcomes = [...]string{
	heartbeatSent:          "sent",
	heartbeatFailed:        "failed",
	heartbeatNotEvaluating: "skipped_not_evaluating",
}

func (o heartbeatOutcome) String() string {
	if int(o) < 0 || int(o) >= len(heartbeatOutcomes) {
		return "unknown"
	}
	return heartbeatOutcomes[o]
}

// Heartbeat timing, each with why.
const (
	// evaluatingCycles is how many evaluation intervals may pass since the
	// last successful cycle before burnwatch counts as not evaluating: one
	// slow cycle must not stop the heartbeat, a stuck or failing service
	// must, within a heartbeat or two.
	evaluatingCycles = 3
	// heartbeatCheckEvery is how often Run asks whether a heartbeat is
	// due by the service's clock.
	heartbeatCheckEvery = time.Second
	// heartbeatRetryFraction: a failed heartbeat is tried again after this
	// fraction of the interval, not a whole one, so that one lost ping
	// does not use up the switch's grace period.
	heartbeatRetryFraction = 4
)

// heartbeat sends the config's heartbeat: a ping of a dead man's switch
// URL, or an always-firing watchdog alert to an Alertmanager receiver.
type heartbeat struct {
	interval, timeout time.Duration
	// send delivers one heartbeat at now; the URL, which may hold a
	// secret, is only in its closure.
	send func(ctx context.Context, now time.Time) error

	mu   sync.Mutex
	next time.Time // when the next heartbeat is due; zero: now
}

// WatchdogKind is the kind of the alert a heartbeat posts to Alertmanager:
// its alertname is burnwatch:watchdog unless the receiver's alert_name
// renames it (to Watchdog, say, as kube-prometheus names its own).
const WatchdogKind = "watchdog"

// newHeartbeat makes the config's heartbeat, nil if it has none. A URL
// file is read now, so that a missing one fails the start or the reload.
func newHeartbeat(cfg *slo.Config, receivers map[string]notify.Receiver) (*heartbeat, error) {
	h := cfg.Heartbeat
	if h == nil {
		return nil, nil
	}
	hb := &heartbeat{interval: h.Interval.Std(), timeout: h.Timeout.Std()}
	if h.Receiver != "" {
		rcv := receivers[h.Receiver]
		if rcv == nil {
			return nil, fmt.Errorf("heartbeat: no receiver %q", h.Receiver)
		}
		var onset time.Time
		hb.send = func(ctx context.Context, now time.Time) error {
			if onset.IsZero() {
				onset = now
			}
			_, err := rcv.Notify(ctx, notify.Notification{
				AlertID: "burnwatch-watchdog", Kind: WatchdogKind, SLO: "burnwatch", Severity: "none",
				State: "firing", Time: now, Onset: onset,
				Summary: "burnwatch is alive and evaluating; this alert always fires, so that its absence pages",
			})
			return err
		}
		return hb, nil
	}
	url := h.URL
	if h.URLFile != "" {
		b, err := os.ReadFile(h.URLFile)
		if err != nil {
			return nil, fmt.Errorf("heartbeat: reading url_file: %w", err)
		}
		if url = strings.TrimSpace(string(b)); url == "" {
			return nil, fmt.Errorf("heartbeat: url_file %s is empty", h.URLFile)
		}
	}
	client := &http.Client{Timeout: hb.timeout}
	method := h.Method
	hb.send = func(ctx context.Context, _ time.Time) error {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return errors.New("heartbeat: the URL is not valid") // without the URL: it may hold a secret
		}
		req.Header.Set("User-Agent", "burnwatch")
		resp, err := client.Do(req)
		if err != nil {
			var uerr interface{ Unwrap() error }
			if errors.As(err, &uerr) {
				err = uerr.Unwrap() // a *url.Error names the URL
			}
			return fmt.Errorf("heartbeat: %w", err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("heartbeat: the switch answered %s", resp.Status)
		}
		return nil
	}
	return hb, nil
}

// Heartbeat sends the heartbeat if one is due by the service's clock:
// only on the leader (or a replica alone), and only while cycles succeed —
// a service whose last successful cycle is older than evaluatingCycles
// intervals sends none, so that the dead man's switch pages. Run calls it
// every second; tests call it with their own clock. It reports what it did,
// false if nothing was due.
func (s *Service) Heartbeat(ctx context.Context) (sent bool, err error) {
	in := s.cur.Load()
	hb := in.heartbeat
	if hb == nil || !s.Leading() {
		return false, nil
	}
	now := s.now()
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if now.Before(hb.next) {
		return false, nil
	}
	hb.next = now.Add(hb.interval)
	stale := evaluatingCycles * in.cfg.EvaluationInterval.Std()
	if last := s.LastCycle(); last.IsZero() || now.Sub(last) > stale {
		s.metrics.heartbeat(heartbeatNotEvaluating)
		s.log.Warn("heartbeat not sent: no cycle succeeded lately, so the dead man's switch will page",
			"outcome", heartbeatNotEvaluating, "last_successful_cycle", last)
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, hb.timeout)
	defer cancel()
	if err := hb.send(ctx, now); err != nil {
		hb.next = now.Add(hb.interval / heartbeatRetryFraction)
		s.metrics.heartbeat(heartbeatFailed)
		s.log.Warn("heartbeat failed; trying again soon", "outcome", heartbeatFailed, "in", hb.interval/heartbeatRetryFraction, "err", err)
		return false, err
	}
	s.metrics.heartbeat(heartbeatSent)
	s.log.Debug("heartbeat sent", "outcome", heartbeatSent)
	return true, nil
}

// runHeartbeat sends heartbeats as they come due until ctx ends.
func (s *Service) runHeartbeat(ctx context.Context) {
	every(ctx, heartbeatCheckEvery, nil, func() { s.Heartbeat(ctx) })
}
