package source

// The HTTP side of the Prometheus source, shared by remote read and the
// query API: TLS, credentials, the record of each try, and retries.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

func (c TLSConfig) config() (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // the operator's explicit choice
		MinVersion:         tls.VersionTLS12,
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: %s holds no PEM certificate", c.CAFile)
		}
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file, tls.key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// promSecret is a credential kept in a file. Its errors name the field
// and the file, never the content.
type promSecret struct {
	field, path string
}

func (s *promSecret) read() (string, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.field, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: %s is empty", s.field, s.path)
	}
	return v, nil
}

// promAuth adds the configured headers and credentials to every
// request.
type promAuth struct {
	next     http.RoundTripper
	headers  map[string]string
	bearer   *promSecret
	user     string
	password *promSecret
}

func (t *promAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not change the request it is given.
	req = req.Clone(req.Context())
	a, _ := req.Context().Value(promAttemptKey{}).(*promAttempt)
	for k, v := range t.headers {
		a.sent(v)
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	switch {
	case t.bearer != nil:
		token, err := t.bearer.read()
		if err != nil {
			promCloseBody(req)
			return nil, err
		}
		a.sent(token)
		req.Header.Set("Authorization", "Bearer "+token)
	case t.password != nil:
		password, err := t.password.read()
		if err != nil {
			promCloseBody(req)
			return nil, err
		}
		a.sent(password)
		req.SetBasicAuth(t.user, password)
	}
	if u := req.URL.User; u != nil {
		if pw, ok := u.Password(); ok {
			a.sent(pw)
		}
	}
	a.sent(req.Header.Get("Authorization"))
	resp, err := t.next.RoundTrip(req)
	if a != nil && resp != nil {
		a.status = resp.StatusCode
		a.retryAfter = promRetryAfter(resp.Header.Get("Retry-After"))
	}
	return resp, err
}

// promRetryAfter reads a Retry-After header, seconds or an HTTP date; 0
// when there is none.
func promRetryAfter(h string) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// promCloseBody closes a request's body, as a RoundTripper must even when it
// fails.
func promCloseBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// promAttempt records the HTTP answer to one try of a request, for the
// decision to retry (the v1 client's errors do not carry the status), and
// the secrets sent with it, to keep them out of errors that quote the
// answer.
type promAttempt struct {
	status     int
	retryAfter time.Duration
	secrets    []string
}

type promAttemptKey struct{}

func (a *promAttempt) sent(secret string) {
	if a != nil && secret != "" {
		a.secrets = append(a.secrets, secret)
	}
}

// redact replaces every secret sent with the request in s: a careless
// server may echo a request's credentials in its error.
func (a *promAttempt) redact(s string) string {
	for _, secret := range a.secrets {
		s = strings.ReplaceAll(s, secret, "<secret>")
	}
	return s
}

// promHTTPError is an answer with an HTTP status other than 2xx.
type promHTTPError struct {
	status string // "400 Bad Request"
	msg    string // the start of the answer's body, secrets removed
}

func (e *promHTTPError) Error() string {
	if e.msg == "" {
		return "server answered " + e.status
	}
	return "server answered " + e.status + ": " + e.msg
}

// promBadAnswer is a successful answer that cannot be decoded: trying
// again will not change it.
type promBadAnswer struct{ err error }

func (e *promBadAnswer) Error() string { return e.err.Error() }
func (e *promBadAnswer) Unwrap() error { return e.err }

// promNoRemoteRead is the answer of a server that does not serve remote
// read: 404, 405 or 501, or a response type other than remote read's.
type promNoRemoteRead struct{ answer string }

func (e *promNoRemoteRead) Error() string {
	return "the server does not serve remote read (" + e.answer + "); api: query reads through the query API"
}

// promRetryable reports whether a request that failed with err, after an
// answer with HTTP status (0: none), may succeed if tried again: when it
// got no answer (a network error, a timeout) or one cut short, a 5xx or a
// 429. Any other answer, such as 400 for a bad query, 401, or one that
// cannot be decoded, will not change.
func promRetryable(err error, status int) bool {
	var bad *promBadAnswer
	var none *promNoRemoteRead
	if errors.As(err, &bad) || errors.As(err, &none) {
		return false
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return true
	case status >= 300:
		return false
	}
	var apiErr *v1.Error
	if !errors.As(err, &apiErr) {
		return true
	}
	if status != 0 {
		return false
	}
	return apiErr.Type == v1.ErrServer || apiErr.Type == v1.ErrTimeout
}

// call runs one request, trying again with exponential backoff as long as
// promRetryable says so, up to the configured retries and within ctx. Each
// try is bounded by the timeout.
func (p *Prometheus) call(ctx context.Context, what string, do func(context.Context, *promAttempt) error) error {
	wait := p.backoff
	for try := 0; ; try++ {
		a := &promAttempt{}
		tctx, cancel := context.WithTimeout(context.WithValue(ctx, promAttemptKey{}, a), p.timeout)
		err := do(tctx, a)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s from %s: %w", what, p.name, context.Cause(ctx))
		case try >= p.retries || !promRetryable(err, a.status):
			if try > 0 {
				return fmt.Errorf("%s from %s (%d tries): %w", what, p.name, try+1, err)
			}
			return fmt.Errorf("%s from %s: %w", what, p.name, err)
		}
		// Equal jitter: half the wait, plus up to as much again, so
		// that many readers do not retry in step.
		d := min(max(wait/2+rand.N(wait/2+1), a.retryAfter), promMaxBackoff)
		p.log().Warn("prometheus request failed; retrying",
			"server", p.name, "request", what, "try", try+1, "status", a.status, "wait", d, "err", err)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s from %s: %w (after: %v)", what, p.name, context.Cause(ctx), err)
		case <-t.C:
		}
		wait = min(2*wait, promMaxBackoff)
	}
}
