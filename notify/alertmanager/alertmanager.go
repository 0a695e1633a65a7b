// Package alertmanager delivers notifications to a Prometheus
// Alertmanager, for teams that route everything through it: each
// notification becomes one alert POSTed to <url>/api/v2/alerts, with the
// SLO, severity and instance as labels and the summary, the playbook
// (runbook_url) and the dashboard as annotations.
//
// Alertmanager forgets an alert whose endsAt passes without an update, so
// a firing alert is posted with endsAt a few resends ahead, and the caller
// posts it again every Resend while it fires; the resolve posts endsAt =
// the time of the transition, and Alertmanager sends its receivers the
// resolve.
//
// The request is built with net/http and encoding/json after the
// documented OpenAPI shape of API v2 (postableAlerts in
// api/v2/openapi.yaml of prometheus/alertmanager): the Alertmanager client
// library is not a dependency of burnwatch, and one POST of a JSON array
// does not need its generated client.
package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

// Defaults, each with why.
const (
	// DefaultTimeout bounds one POST: Alertmanager answers in
	// milliseconds, and a slow one is better retried than waited for.
	DefaultTimeout = 10 * time.Second
	// DefaultResend is how often a firing alert is re-posted, as
	// Prometheus does (its --rules.alert.resend-delay): often enough that
	// Alertmanager keeps it, rarely enough to be no load.
	DefaultResend = time.Minute
	// lifetimeResends is how many resends ahead a firing alert's endsAt
	// lies, as Prometheus sets it (4 × resend delay): three lost resends
	// are survived, and a burnwatch that stops for good lets Alertmanager
	// resolve the alert within minutes instead of never.
	lifetimeResends = 4
)

// Lifetime is how long Alertmanager keeps a firing alert posted by a
// receiver that re-posts it every resend: its endsAt lies that far ahead.
func Lifetime(resend time.Duration) time.Duration { return lifetimeResends * resend }

// apiPath is where API v2 takes alerts, below the base URL.
const apiPath = "/api/v2/alerts"

// Receiver posts notifications to one Alertmanager.
type Receiver struct {
	name     string
	endpoint string // <url>/api/v2/alerts
	timeout  time.Duration
	resend   time.Duration
	// authorize sets the Authorization header. The credentials live only
	// in this closure, out of reach of fmt and slog.
	authorize func(*http.Request)
	client    *http.Client
	now       func() time.Time
	log       *slog.Logger
	// alertName and severity map burnwatch's kinds and severities to the
	// alertname and severity labels.
	alertName map[string]string
	severity  map[string]string
}

var _ notify.Receiver = (*Receiver)(nil)

// Option changes a Receiver from its defaults.
type Option func(*Receiver)

// WithClient sends through c instead of a client of its own.
func WithClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithClock reads the time from now instead of time.Now: it sets a firing
// alert's endsAt and reads a Retry-After date.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// WithLogger logs deliveries (at debug level) to l instead of
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(r *Receiver) { r.log = l } }

// New returns a receiver named name for the config c, reading its
// credentials from their files now: a changed file takes effect when the
// receiver is made again (on reload).
func New(name string, c Config, opts ...Option) (*Receiver, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("alertmanager receiver %q: %w", name, err)
	}
	r := &Receiver{
		name:      name,
		endpoint:  strings.TrimRight(c.URL, "/") + apiPath,
		timeout:   c.Timeout,
		resend:    c.Resend,
		authorize: func(*http.Request) {},
		client:    &http.Client{},
		now:       time.Now,
		log:       slog.Default(),
		alertName: c.alertNames(),
		severity:  c.severities(),
	}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.resend == 0 {
		r.resend = DefaultResend
	}
	switch {
	case c.BasicAuth != nil:
		password, err := readSecret(c.BasicAuth.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("alertmanager receiver %q: basic_auth.password_file: %w", name, err)
		}
		user := c.BasicAuth.Username
		r.authorize = func(req *http.Request) { req.SetBasicAuth(user, password) }
	case c.BearerTokenFile != "":
		token, err := readSecret(c.BearerTokenFile)
		if err != nil {
			return nil, fmt.Errorf("alertmanager receiver %q: bearer_token_file: %w", name, err)
		}
		r.authorize = func(req *http.Request) { req.Header.Set("Authorization", "Bearer "+token) }
	}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// readSecret reads a credential from a file, trimmed; an empty one is an
// error. Errors name the file, never its content.
func readSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading credentials: %w", err) // *PathError names the file
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return s, nil
}

// Name returns the receiver's name from the config.
func (r *Receiver) Name() string { return r.name }

// Resend returns how often the caller must post a firing alert again so
// that Alertmanager does not resolve it on its own.
func (r *Receiver) Resend() time.Duration { return r.resend }

// String names the receiver and where it posts, never its credentials.
func (r *Receiver) String() string {
	return fmt.Sprintf("alertmanager receiver %q (%s)", r.name, r.endpoint)
}

// LogValue is the receiver in structured logs: its name and endpoint.
func (r *Receiver) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", r.name), slog.String("url", r.endpoint))
}

// Format prints the receiver as String does for every verb, so that not
// even %#v reaches the fields.
func (r *Receiver) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// Notify posts the notification as one alert. A 2xx is delivered; a
// 429, a 5xx or a network error is worth a retry (a 429's or 503's
// Retry-After is in the error, as a notify.RetryAfter); any other status,
// such as a 400 for an alert Alertmanager rejects, is not, and its
// message is in the error.
func (r *Receiver) Notify(ctx context.Context, n notify.Notification) (retry bool, err error) {
	body, err := json.Marshal([]postableAlert{r.alert(n)})
	if err != nil {
		return false, fmt.Errorf("alertmanager %q: encoding alert %s: %w", r.name, n.AlertID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("alertmanager %q: %w", r.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "burnwatch")
	r.authorize(req)
	log := r.log.With("receiver", r.name, "alert_id", n.AlertID, "state", n.State)
	resp, err := r.client.Do(req)
	if err != nil {
		log.Debug("posting alert failed", "err", err)
		return true, fmt.Errorf("alertmanager %q: posting alert %s: %w", r.name, n.AlertID, err)
	}
	defer resp.Body.Close()
	retry, err = classify(resp, r.now())
	if err != nil {
		log.Debug("alert refused", "status", resp.StatusCode, "retry", retry, "err", err)
		return retry, fmt.Errorf("alertmanager %q: posting alert %s to %s: %w", r.name, n.AlertID, r.endpoint, err)
	}
	log.Debug("alert posted", "status", resp.StatusCode)
	return false, nil
}
