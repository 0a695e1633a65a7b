package pagerduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/PagerDuty/go-pagerduty"
)

// What go-pagerduty passes on of a failed event is too little to decide
// on: its client (checkResponse, getErrorFromResponse) turns every non-2xx
// answer into a pagerduty.APIError that keeps the StatusCode but decodes
// the body as the REST API's {"error": {...}}, which the Events API never
// sends, so PagerDuty's message is lost; it drops the response, and with
// it Retry-After; and it formats a transport error with %v, so that
// errors.Is no longer sees context.Canceled. The recorder, the client's
// HTTPClient, keeps all three for the call whose context carries an
// exchange, so that concurrent calls never see each other's answers.

const (
	// defaultRetryAfter is the wait a 429 without a usable Retry-After asks
	// for: PagerDuty's Events API limits each routing key per minute, so
	// half a minute usually finds the limit lifted.
	defaultRetryAfter = 30 * time.Second
	// maxRetryAfter caps the wait a Retry-After asks for: a bogus header
	// must not park a page for a day.
	maxRetryAfter = time.Hour
	// maxErrorBody is how much of a refusal's body is read.
	maxErrorBody = 64 << 10
	// maxErrorText is how much of a body that is not PagerDuty's JSON goes
	// into an error (an HTML page from a proxy, say).
	maxErrorText = 200
)

// exchange is what the recorder saw of one call: PagerDuty's answer or
// the transport's error.
type exchange struct {
	status     int
	retryAfter string
	body       []byte // of a non-2xx answer, up to maxErrorBody
	err        error
}

type exchangeKey struct{}

// recorder is a pagerduty.HTTPClient that notes the exchange of each
// request whose context carries one.
type recorder struct{ c *http.Client }

func (r recorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.c.Do(req)
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x == nil {
		return resp, err
	}
	if err != nil {
		x.err = err
		return resp, err
	}
	x.status = resp.StatusCode
	x.retryAfter = resp.Header.Get("Retry-After")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		x.body = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, nil
}

// StatusError is an event PagerDuty did not accept: its HTTP status and,
// when its answer was the Events API's JSON, the status, message and
// errors it gave. The routing key, should an answer quote it, is
// redacted.
type StatusError struct {
	StatusCode int
	Status     string   // PagerDuty's "status", such as "invalid event"
	Message    string   // PagerDuty's "message", or the start of a body that was not JSON
	Errors     []string // PagerDuty's "errors": what was wrong with the event
}

func (e *StatusError) Error() string {
	parts := []string{fmt.Sprintf("PagerDuty answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))}
	for _, s := range []string{e.Status, e.Message, strings.Join(e.Errors, "; ")} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// RateLimitError is a 429: PagerDuty asks to wait before the next event.
// It is a notify.RetryAfter.
type RateLimitError struct {
	*StatusError
	// Wait is what Retry-After asked for (seconds or a date, at most an
	// hour), or 30s when it asked for nothing usable.
	Wait time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v; retry after %v", e.StatusError, e.Wait)
}

// Unwrap returns the StatusError, for errors.As.
func (e *RateLimitError) Unwrap() error { return e.StatusError }

// RetryAfter is Wait.
func (e *RateLimitError) RetryAfter() time.Duration { return e.Wait }

// statusError reads PagerDuty's refusal from the recorded answer.
func (r *Receiver) statusError(x *exchange) *StatusError {
	se := &StatusError{StatusCode: x.status}
	var o pagerduty.EventsAPIV2ErrorObject
	if err := json.Unmarshal(x.body, &o); err == nil && (o.Status != "" || o.Message != "" || len(o.Errors) > 0) {
		se.Status, se.Message, se.Errors = r.key.redact(o.Status), r.key.redact(o.Message), r.key.redactAll(o.Errors)
		return se
	}
	// Redacted before it is cut, so that no part of a key survives.
	text := r.key.redact(strings.Join(strings.Fields(string(x.body)), " "))
	if len(text) > maxErrorText {
		text = strings.ToValidUTF8(text[:maxErrorText], "") + "…"
	}
	se.Message = text
	return se
}

// retryAfter reads a Retry-After header, in seconds or as an HTTP date
// (RFC 9110, 10.2.3), capped at maxRetryAfter; defaultRetryAfter when it
// is absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return defaultRetryAfter
	}
	var d time.Duration
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s < 0 {
			return defaultRetryAfter
		}
		d = time.Duration(min(s, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = max(t.Sub(now), 0)
	} else {
		return defaultRetryAfter
	}
	return min(d, maxRetryAfter)
}
