package notify

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxMessage bounds how much of a refusal's body goes into an error.
const maxMessage = 512

// Classify reads an HTTP receiver's response: nil for a 2xx; otherwise an
// error with the status and the receiver's message (read by message, or
// the start of the body when nil), and whether to try again.
//
//	2xx                 delivered
//	408, 429, 5xx       retry (a timeout, the rate limit, a server in trouble)
//	other 4xx, 3xx      no retry: the same request fails the same way
//
// A 429 or 503 with Retry-After returns a RetryAfter.
func Classify(resp *http.Response, now time.Time, message func([]byte) string) (retry bool, err error) {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return false, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := string(b)
	if message != nil {
		msg = message(b)
	}
	err = &StatusError{Code: resp.StatusCode, Message: Truncate(strings.TrimSpace(msg), maxMessage)}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable:
		if d, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			err = &RetryAfterError{Err: err, After: d}
		}
		return true, err
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		return true, err
	}
	return false, err
}

// StatusError is a response other than a 2xx.
type StatusError struct {
	Code    int
	Message string // the receiver's reason, as it wrote it
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date.
func ParseRetryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// RetryAfterError is a refusal that says when to try again.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

var _ RetryAfter = (*RetryAfterError)(nil)

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}
func (e *RetryAfterError) Unwrap() error             { return e.Err }
func (e *RetryAfterError) RetryAfter() time.Duration { return e.After }
