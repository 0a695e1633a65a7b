// Package pagerduty delivers notifications to PagerDuty through the
// Events API v2 (github.com/PagerDuty/go-pagerduty): a firing alert
// triggers an incident, its resolve resolves it, and the alert's stable
// ID is the dedup key that ties the two together across restarts.
//
// The client is always built with pagerduty.NewClient and
// WithV2EventsAPIEndpoint, and events go through the client's
// ManageEventWithContext, which posts to the endpoint + "/v2/enqueue";
// the package-level ManageEvent functions ignore the endpoint and always
// reach the real service.
package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"

	"github.com/burnwatch/burnwatch/notify"
)

// Receiver delivers notifications to one PagerDuty integration.
type Receiver struct {
	// Log receives a debug line for every delivery and a warning for a
	// link left out; nil is slog.Default(). Set it before use, or with
	// WithLogger.
	Log *slog.Logger

	name      string
	key       *routingKey // never empty
	where     string      // the endpoint, for messages
	client    *pagerduty.Client
	severity  map[string]string
	component string
	// now is the clock a Retry-After date is read against.
	now func() time.Time
}

var _ notify.Receiver = (*Receiver)(nil)

// Option changes a Receiver from its defaults.
type Option func(*Receiver)

// WithLogger logs deliveries (at debug level) and warnings to l, the
// service's logger with its format and level, instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(r *Receiver) { r.Log = l } }

// New returns the receiver name for c, reading its routing key now so
// that a missing or malformed key fails at start, not at the first page.
func New(name string, c Config, opts ...Option) (*Receiver, error) {
	if name == "" {
		return nil, errors.New("pagerduty receiver: no name")
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("pagerduty receiver %q: %w", name, err)
	}
	key, err := c.readKey()
	if err != nil {
		return nil, fmt.Errorf("pagerduty receiver %q: %w", name, err)
	}
	endpoint := strings.TrimSuffix(c.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	component := c.Component
	if component == "" {
		component = DefaultComponent
	}
	u, _ := url.Parse(endpoint) // Validate parsed it
	// The routing key travels in each event's body; the client's token is
	// for the REST API, which this receiver never calls.
	client := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(endpoint))
	client.HTTPClient = recorder{&http.Client{Timeout: timeout}}
	r := &Receiver{
		name:      name,
		key:       key,
		where:     u.Redacted(),
		client:    client,
		severity:  c.severities(),
		component: component,
		now:       time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Name is the receiver's name in the config.
func (r *Receiver) Name() string { return r.name }

// String names the receiver and its endpoint, without the routing key.
func (r *Receiver) String() string { return fmt.Sprintf("pagerduty(%s, %s)", r.name, r.where) }

// GoString is String, so that %#v shows no key either.
func (r *Receiver) GoString() string { return r.String() }

// LogValue is String, so that a logged receiver shows no key.
func (r *Receiver) LogValue() slog.Value { return slog.StringValue(r.String()) }

func (r *Receiver) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Notify sends n as one event: a trigger when it fires, a resolve when it
// resolves. It returns (false, nil) once PagerDuty accepted the event
// (202); (true, err) for a 429 (err is a *RateLimitError, a
// notify.RetryAfter), a 408, a 5xx or no answer at all; (false, err) for
// a 400, which PagerDuty would refuse again, and for a notification no
// event can be made of.
func (r *Receiver) Notify(ctx context.Context, n notify.Notification) (retry bool, err error) {
	ev, err := r.event(n)
	if err != nil {
		return false, fmt.Errorf("pagerduty receiver %q: alert %s: %w", r.name, n.AlertID, err)
	}
	what := fmt.Sprintf("pagerduty receiver %q: %s of alert %s", r.name, ev.Action, ev.DedupKey)
	x := &exchange{}
	_, err = r.client.ManageEventWithContext(context.WithValue(ctx, exchangeKey{}, x), ev)
	log := r.log().With("receiver", r.name, "action", ev.Action, "dedup_key", ev.DedupKey)
	switch {
	case x.err != nil:
		// No answer: refused, reset, timed out or cancelled. The event may
		// or may not have arrived; sending it again is safe, since PagerDuty
		// deduplicates on dedup_key.
		log.Debug("pagerduty event not delivered", "reason", "no_answer", "error", x.err)
		return true, fmt.Errorf("%s: %w", what, x.err)
	case x.status >= 200 && x.status < 300:
		// Accepted, even if the answer's body would not decode: sending it
		// again would change nothing.
		log.Debug("pagerduty event accepted", "status", x.status)
		return false, nil
	case x.status == 0:
		// The request was never made (the client could not encode it):
		// trying again would fail the same way.
		if err == nil {
			err = errors.New("go-pagerduty made no request")
		}
		return false, fmt.Errorf("%s: %w", what, err)
	}
	se := r.statusError(x)
	log.Debug("pagerduty event refused", "status", x.status, "pagerduty_status", se.Status, "message", se.Message, "errors", se.Errors)
	switch {
	case x.status == http.StatusTooManyRequests:
		return true, fmt.Errorf("%s: %w", what, &RateLimitError{StatusError: se, Wait: retryAfter(x.retryAfter, r.now())})
	case x.status == http.StatusRequestTimeout, x.status >= 500:
		return true, fmt.Errorf("%s: %w", what, se)
	}
	return false, fmt.Errorf("%s: %w", what, se)
}

// routingKey is the secret: it formats, logs and marshals as [redacted].
// A Receiver holds it by pointer, which fmt prints as an address even in
// a %+v or %#v of a Receiver value (where fmt calls no method of an
// unexported field).
type routingKey struct{ s string }

const redacted = "[redacted]"

func (*routingKey) String() string               { return redacted }
func (*routingKey) GoString() string             { return redacted }
func (*routingKey) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (*routingKey) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (*routingKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// redact replaces the key wherever s quotes it.
func (k *routingKey) redact(s string) string { return strings.ReplaceAll(s, k.s, redacted) }

func (k *routingKey) redactAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = k.redact(s)
	}
	return out
}
