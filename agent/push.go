package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// PushOptions say where and how completed minutes are pushed.
type PushOptions struct {
	// URL is serve's events endpoint; a URL without a path gets
	// /api/v1/events.
	URL string
	// TokenFile holds the events bearer token; it is read before each
	// request, so a rotated token is picked up, and never logged.
	TokenFile string
	// SLO names the SLO the counts belong to (each event line names one).
	SLO string
	// DatabaseLabel is the label the database goes in ("database", the
	// default config's group_by).
	DatabaseLabel string
	// Labels are added to every event (further group_by labels such as
	// orchestra="eu-1").
	Labels map[string]string
	// BatchLines is the most event lines in one batch (DefaultBatchLines
	// when 0).
	BatchLines int
	Client     *http.Client // a client with a 30s timeout when nil
	// MinBackoff and MaxBackoff bound the wait between attempts while
	// serve is unreachable (1s and 1m when 0).
	MinBackoff, MaxBackoff time.Duration
}

// DefaultBatchLines keeps a batch around 300 KB, far below serve's
// default 10 MB body limit.
const DefaultBatchLines = 2000

// eventsPath is serve's events endpoint.
const eventsPath = "/api/v1/events"

// endpoint returns the URL posted to.
func (o *PushOptions) endpoint() string {
	u := strings.TrimRight(o.URL, "/")
	if i := strings.Index(u, "://"); i >= 0 && !strings.Contains(u[i+3:], "/") {
		return u + eventsPath
	}
	return u
}

// pushLine is one line of a batch, in the format of POST /api/v1/events.
type pushLine struct {
	Time   string             `json:"time"`
	SLO    string             `json:"slo"`
	Labels map[string]string  `json:"labels"`
	Total  float64            `json:"total"`
	Errors map[string]float64 `json:"errors,omitempty"`
}

// encodeBatches writes closed minutes as NDJSON bodies of at most
// BatchLines lines each.
func (o *PushOptions) encodeBatches(ms []MinuteCounts) ([][]byte, error) {
	per := o.BatchLines
	if per <= 0 {
		per = DefaultBatchLines
	}
	var out [][]byte
	var buf bytes.Buffer
	n := 0
	for _, m := range ms {
		labels := make(map[string]string, len(o.Labels)+1)
		for k, v := range o.Labels {
			labels[k] = v
		}
		labels[o.DatabaseLabel] = m.Database
		b, err := json.Marshal(pushLine{
			Time:   time.UnixMilli(m.Minute).UTC().Format(time.RFC3339),
			SLO:    o.SLO,
			Labels: labels,
			Total:  m.Total,
			Errors: m.Errors,
		})
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		if n++; n == per {
			out = append(out, bytes.Clone(buf.Bytes()))
			buf.Reset()
			n = 0
		}
	}
	if n > 0 {
		out = append(out, bytes.Clone(buf.Bytes()))
	}
	return out, nil
}

// PushOutcome says what became of one attempt to send a batch; it is the
// outcome label of burnwatch_agent_push_requests_total.
type PushOutcome int

const (
	// PushSent: serve answered 202; the batch is stored there (or was
	// already, under its idempotency key).
	PushSent PushOutcome = iota
	// PushRetry: serve was unreachable, failed (5xx), throttled (429) or
	// refused the token (401, 403: an operator can fix it); the batch is
	// sent again after a backoff, with the same key.
	PushRetry
	// PushRefused: serve refused the batch itself (another 4xx, such as a
	// line naming an SLO the running config does not have); sending it
	// again cannot succeed, so it is set aside in the spool's dead/.
	PushRefused
)

func (o PushOutcome) String() string {
	switch o {
	case PushSent:
		return "sent"
	case PushRetry:
		return "retry"
	case PushRefused:
		return "refused"
	}
	return "unknown"
}

// pusher sends the spool's committed batches to serve, oldest first, one
// at a time, so that serve receives the minutes in order.
type pusher struct {
	o         *PushOptions
	spool     *spool
	committed func() uint64
	key       func(seq uint64) string
	log       *slog.Logger
	m         *metrics
	sleep     func(ctx context.Context, d time.Duration) bool
}

// run sends until ctx ends; wake says that a batch was committed.
func (p *pusher) run(ctx context.Context, wake <-chan struct{}) {
	wait := time.Duration(0)
	for {
		seq, body, ok, err := p.spool.oldest(p.committed())
		if err != nil {
			p.log.Error("reading the spool", "err", err)
			ok = false
		}
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-wake:
				continue
			}
		}
		outcome, retryAfter, err := p.send(ctx, seq, body)
		p.m.pushes.WithLabelValues(outcome.String()).Inc()
		switch outcome {
		case PushSent:
			wait = 0
			if err := p.spool.remove(seq); err != nil {
				p.log.Error("removing a sent batch", "batch", seq, "err", err)
			}
			p.log.Debug("batch pushed", "batch", seq, "bytes", len(body))
		case PushRefused:
			wait = 0
			p.log.Error("serve refused a batch; it is kept in the spool's dead/ directory and not sent again", "batch", seq, "err", err)
			if err := p.spool.dead(seq); err != nil {
				p.log.Error("setting a refused batch aside", "batch", seq, "err", err)
			}
		case PushRetry:
			if ctx.Err() != nil {
				return
			}
			wait = p.backoff(wait, retryAfter)
			p.log.Warn("pushing a batch failed; it stays in the spool and is sent again", "batch", seq, "in", wait, "err", err)
			if !p.sleep(ctx, wait) {
				return
			}
		}
	}
}

// backoff doubles the last wait within [MinBackoff, MaxBackoff], or takes
// the server's Retry-After when it says more.
func (p *pusher) backoff(last, retryAfter time.Duration) time.Duration {
	lo, hi := p.o.MinBackoff, p.o.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	w := max(lo, min(2*last, hi))
	if retryAfter > w {
		w = min(retryAfter, hi)
	}
	return w
}

// send posts one batch with its idempotency key.
func (p *pusher) send(ctx context.Context, seq uint64, body []byte) (PushOutcome, time.Duration, error) {
	tok, err := os.ReadFile(p.o.TokenFile)
	if err != nil {
		return PushRetry, 0, fmt.Errorf("reading the events token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.o.endpoint(), bytes.NewReader(body))
	if err != nil {
		return PushRefused, 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	req.Header.Set("Idempotency-Key", p.key(seq))
	client := p.o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return PushRetry, 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	retryAfter := time.Duration(0)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	switch {
	case resp.StatusCode == http.StatusAccepted:
		return PushSent, 0, nil
	case resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden,
		resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500:
		return PushRetry, retryAfter, fmt.Errorf("serve answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	default:
		return PushRefused, 0, fmt.Errorf("serve answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
