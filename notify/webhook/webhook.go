// Package webhook delivers notifications, and the scheduled weekly
// report, as signed JSON to a URL of the operator's: a ticket system, a
// chat bridge, anything that takes a POST.
//
// # Request
//
// Each notification, and each weekly report, is one POST with
// Content-Type application/json and these headers:
//
//	X-Burnwatch-Signature: sha256=<hex of HMAC-SHA256(secret, body)>
//	X-Burnwatch-Timestamp: <sent_at as Unix seconds>
//
// The signature covers the exact bytes of the body, with the shared secret
// read from the secret file and trimmed of white space. A receiver checks
// it with Verify before it parses the body; to refuse a replayed request
// it also checks that sent_at, which the signature covers, is recent. The
// timestamp header repeats sent_at for a check before parsing; it is not
// signed itself.
//
// # Body
//
// The body is a Payload, version "1" (within a version, fields are only
// ever added):
//
//	{
//	  "version": "1",
//	  "alert_id": "8b711dc37281ebecf2df4a25abcc9687",
//	  "kind": "burn-rate",
//	  "slo": "cypher-availability",
//	  "labels": {"database": "db-2"},
//	  "severity": "page",
//	  "state": "firing",
//	  "time": "2026-11-05T02:01:00Z",
//	  "onset": "2026-11-05T02:01:00Z",
//	  "sent_at": "2026-11-05T02:01:30Z",
//	  "summary": "[PAGE] cypher-availability{database=\"db-2\"}: ...",
//	  "burn_rates": [{"window": "1h", "rate": 16.667}, {"window": "5m", "rate": 200}],
//	  "budget_remaining": 0.9234,
//	  "codes": [{"code": "Neo.DatabaseError.General.UnknownError", "class": "platform", "count": 998}],
//	  "playbook_id": "database-unavailable",
//	  "playbook_url": "http://burnwatch.example:9099/playbooks/database-unavailable",
//	  "dashboard_url": "https://grafana.example/d/neo4j?var-database=db-2"
//	}
//
// The fields are those of notify.Notification, in snake case; Payload
// documents each. A user-fault surge adds "instances", "surging" and
// "fleet". Delivery is at least once: a receiver that must act once per
// transition keys on (alert_id, state, time).
//
// # Weekly report
//
// A receiver named by the config's reports.receiver also gets the weekly
// report when its schedule comes due (PostReport), signed the same way.
// Its body is a ReportPayload, version "1" too, told apart from a
// notification by its kind:
//
//	{
//	  "version": "1",
//	  "kind": "weekly-report",
//	  "week": "2026-W47",
//	  "from": "2026-11-16T00:00:00Z",
//	  "to": "2026-11-23T00:00:00Z",
//	  "sent_at": "2026-11-23T08:00:31Z",
//	  "reports": [
//	    {"format": "md", "content_type": "text/markdown; charset=utf-8", "body": "# Weekly error budget — 2026-W47\n..."},
//	    {"format": "json", "content_type": "application/json", "body": {"title": "Weekly error budget — 2026-W47", "slos": [...]}}
//	  ]
//	}
//
// reports holds the report once per configured format, in the config's
// order: the file's text as a string, except for json, whose report is
// embedded as the JSON value it is (ReportBody.Content returns either as
// the file's bytes). The service tries a report three times within a
// minute and then gives up: it is not kept in the outbox. A report
// retried may arrive twice; a receiver that must act once keys on week.
//
// # Responses
//
// A 2xx is delivered. A 408, a 429 (after its Retry-After, if any), a 5xx
// or a network error is tried again; any other status is not, as the same
// request would fail the same way.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

// DefaultTimeout bounds one POST: a receiver that takes longer is better
// tried again than waited for.
const DefaultTimeout = 10 * time.Second

// Receiver posts signed notifications to one URL.
type Receiver struct {
	name  string
	url   string
	where string // scheme://host: what errors and logs name, as the path may hold a token
	// sign returns the signature header of a body. The secret lives only
	// in this closure, out of reach of fmt and slog.
	sign    func(body []byte) string
	headers http.Header
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger
}

var _ notify.Receiver = (*Receiver)(nil)

// Option changes a Receiver from its defaults.
type Option func(*Receiver)

// WithClient sends through c instead of a client of its own.
func WithClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithClock reads the time from now instead of time.Now: it is sent_at
// and the timestamp header, and reads a Retry-After date.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// WithLogger logs deliveries (at debug level) to l instead of
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(r *Receiver) { r.log = l } }

// New returns a receiver named name for the config c, reading the secret
// from its file now: a changed secret takes effect when the receiver is
// made again (on reload).
func New(name string, c Config, opts ...Option) (*Receiver, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("webhook receiver %q: %w", name, err)
	}
	secret, err := readSecret(c.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver %q: secret_file: %w", name, err)
	}
	u, _ := url.Parse(c.URL) // Validate parsed it
	r := &Receiver{
		name:    name,
		url:     c.URL,
		where:   u.Scheme + "://" + u.Host,
		sign:    func(body []byte) string { return Sign(secret, body) },
		headers: http.Header{},
		timeout: c.Timeout,
		client:  &http.Client{},
		now:     time.Now,
		log:     slog.Default(),
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	for k, v := range c.Headers {
		r.headers.Set(k, v)
	}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// readSecret reads the shared secret from a file, trimmed; an empty one
// is an error. Errors name the file, never its content.
func readSecret(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the secret: %w", err) // *PathError names the file
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty; the webhook's secret must not be", file)
	}
	return b, nil
}

// Name returns the receiver's name from the config.
func (r *Receiver) Name() string { return r.name }

// String names the receiver and the host it posts to, never the secret,
// the headers or the URL's path.
func (r *Receiver) String() string {
	return fmt.Sprintf("webhook receiver %q (%s)", r.name, r.where)
}

// LogValue is the receiver in structured logs: its name and host.
func (r *Receiver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", r.name), slog.String("host", r.where))
}

// Format prints the receiver as String does for every verb, so that not
// even %#v reaches the fields.
func (r *Receiver) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// Notify posts the notification, signed. It returns whether a failure is
// worth a retry: see the package's Responses.
func (r *Receiver) Notify(ctx context.Context, n notify.Notification) (retry bool, err error) {
	sent := r.sentAt()
	body, err := json.Marshal(payload(n, sent))
	if err != nil {
		return false, fmt.Errorf("webhook %q: encoding alert %s: %w", r.name, n.AlertID, err)
	}
	return r.post(ctx, request{
		body: body,
		sent: sent,
		noun: "notification",
		what: "alert " + n.AlertID,
		log:  r.log.With("receiver", r.name, "alert_id", n.AlertID, "state", n.State),
	})
}

// sentAt is now as a body's sent_at: UTC, to the second, as the
// timestamp header carries it.
func (r *Receiver) sentAt() time.Time { return r.now().UTC().Truncate(time.Second) }

// request is one body to post and what it is, for errors and logs.
type request struct {
	body []byte
	sent time.Time    // the body's sent_at
	noun string       // "notification" or "report": starts each log message
	what string       // "alert 8b71…", "report 2026-W47": named in errors
	log  *slog.Logger // with the body's identity
}

// post sends a body signed, with the receiver's headers, and reads the
// response as every HTTP receiver does (notify.Classify). Errors and logs
// name the host, never the URL's path, which may hold a token.
func (r *Receiver) post(ctx context.Context, q request) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(q.body))
	if err != nil {
		return false, fmt.Errorf("webhook %q: %w", r.name, err)
	}
	for k, v := range r.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "burnwatch")
	req.Header.Set(SignatureHeader, r.sign(q.body))
	req.Header.Set(TimestampHeader, strconv.FormatInt(q.sent.Unix(), 10))
	resp, err := r.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, whose path may hold a token
		}
		q.log.Debug("posting "+q.noun+" failed", "host", r.where, "err", err)
		return true, fmt.Errorf("webhook %q: posting %s to %s: %w", r.name, q.what, r.where, err)
	}
	defer resp.Body.Close()
	retry, err = classify(resp, r.now())
	if err != nil {
		q.log.Debug(q.noun+" refused", "status", resp.StatusCode, "retry", retry, "err", err)
		return retry, fmt.Errorf("webhook %q: posting %s to %s: %w", r.name, q.what, r.where, err)
	}
	q.log.Debug(q.noun+" posted", "status", resp.StatusCode)
	return false, nil
}
