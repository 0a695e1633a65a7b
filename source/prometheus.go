package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Defaults of PrometheusConfig.
const (
	DefaultPrometheusTimeout = 30 * time.Second // one request, including the server's evaluation
	DefaultPrometheusRetries = 3                // tries after the first, for network errors, 5xx and 429
	DefaultPrometheusChunk   = time.Hour        // the span of one range read
)

const (
	// promFirstBackoff is the wait before the first retry; it doubles with
	// every retry, so 3 retries wait about 0.5s, 1s and 2s.
	promFirstBackoff = 500 * time.Millisecond
	// promMaxBackoff caps a wait, including one that a server's Retry-After
	// asks for: a read that waits longer than this is better failed and
	// picked up by the next cycle.
	promMaxBackoff = 30 * time.Second
	// promMinChunk keeps a range read at least a second long: read spans are
	// sent in whole seconds.
	promMinChunk = time.Second
)

// PrometheusConfig is how to reach a server that speaks the Prometheus
// HTTP API: Prometheus itself, Thanos, Mimir or VictoriaMetrics. Start
// from DefaultPrometheusConfig, decode over it, then Validate.
type PrometheusConfig struct {
	// URL is the API's base, without /api/v1: http://prometheus:9090, or
	// http://mimir/prometheus.
	URL string `yaml:"url"`
	// BearerTokenFile holds a token sent as "Authorization: Bearer". The
	// file is read again for every request, so a rotated token is used
	// as soon as it is written.
	BearerTokenFile string            `yaml:"bearer_token_file,omitempty"`
	BasicAuth       BasicAuth         `yaml:"basic_auth,omitempty"`
	Headers         map[string]string `yaml:"headers,omitempty"` // e.g. X-Scope-OrgID for a Mimir tenant
	TLS             TLSConfig         `yaml:"tls,omitempty"`
	// Timeout bounds one request, and the server's evaluation of it.
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// Retries is how many times a request that failed with a network
	// error, a 5xx or a 429 is tried again; 0 tries once.
	Retries int `yaml:"retries"`
	// Chunk is the span of one range read: a long range is read a chunk
	// at a time, so no request returns more than a chunk of samples.
	Chunk model.Duration `yaml:"chunk,omitempty"`
}

// BasicAuth is HTTP basic authentication with the password in a file,
// read again for every request.
type BasicAuth struct {
	Username     string `yaml:"username,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
}

func (b BasicAuth) set() bool { return b.Username != "" || b.PasswordFile != "" }

// TLSConfig configures HTTPS connections to the server.
type TLSConfig struct {
	CAFile             string `yaml:"ca_file,omitempty"`   // PEM certificates to trust instead of the system's
	CertFile           string `yaml:"cert_file,omitempty"` // client certificate (PEM), with KeyFile
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"` // the name to verify the server's certificate against
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// DefaultPrometheusConfig returns a config with every default set.
func DefaultPrometheusConfig() PrometheusConfig {
	return PrometheusConfig{
		Timeout: model.Duration(DefaultPrometheusTimeout),
		Retries: DefaultPrometheusRetries,
		Chunk:   model.Duration(DefaultPrometheusChunk),
	}
}

// Validate returns every problem of the config, each naming its field. It
// reads no file; NewPrometheus does.
func (c PrometheusConfig) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		add("url", "is required, e.g. http://prometheus:9090")
	} else if u, err := url.Parse(c.URL); err != nil {
		// The url.Error would quote the whole URL, password and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		add("url", "is not a URL: %v", err)
	} else if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		add("url", "must be http:// or https:// and a host, e.g. http://prometheus:9090")
	}
	if c.Timeout < 0 {
		add("timeout", "must be positive")
	}
	if c.Chunk != 0 && time.Duration(c.Chunk) < promMinChunk {
		add("chunk", "must be at least %s", model.Duration(promMinChunk))
	}
	if c.Retries < 0 {
		add("retries", "must be 0 or more")
	}
	if c.BearerTokenFile != "" && c.BasicAuth.set() {
		add("bearer_token_file", "and basic_auth are mutually exclusive; set one")
	}
	if c.BasicAuth.set() {
		if c.BasicAuth.Username == "" {
			add("basic_auth.username", "is required with basic_auth")
		}
		if c.BasicAuth.PasswordFile == "" {
			add("basic_auth.password_file", "is required with basic_auth")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		field := "headers." + name
		switch {
		case !promHeaderName(name):
			add(field, "is not a valid HTTP header name")
		case strings.ContainsAny(c.Headers[name], "\r\n\x00"):
			add(field, "has a line break or NUL in its value")
		case http.CanonicalHeaderKey(name) == "Authorization" && (c.BearerTokenFile != "" || c.BasicAuth.set()):
			add(field, "conflicts with bearer_token_file or basic_auth")
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		add("tls", "cert_file and key_file go together; set both or neither")
	}
	return errors.Join(errs...)
}

// promHeaderName reports whether s is an HTTP token (RFC 9110, 5.6.2).
func promHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// Prometheus reads raw counter samples from a server that speaks the
// Prometheus HTTP API. It is safe for concurrent use.
type Prometheus struct {
	// Logger receives retries and the server's warnings; nil logs to
	// slog.Default(). Set it before the first read. Secrets are never
	// logged.
	Logger *slog.Logger

	api       v1.API
	transport *http.Transport
	name      string // the URL without its password, for errors and logs
	timeout   time.Duration
	retries   int
	chunk     int64         // ms
	backoff   time.Duration // the first retry's wait; tests shorten it
	promql    parser.Parser
}

// NewPrometheus checks the config, reads its secret files and TLS
// material, and returns a client. A secret file that is missing or holds
// only white space is an error. A zero Timeout or Chunk takes its default.
func NewPrometheus(cfg PrometheusConfig) (*Prometheus, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = model.Duration(DefaultPrometheusTimeout)
	}
	if cfg.Chunk == 0 {
		cfg.Chunk = model.Duration(DefaultPrometheusChunk)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tlsConfig, err := cfg.TLS.config()
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tlsConfig,
	}
	auth := &promAuth{
		next:    transport,
		headers: cfg.Headers,
		user:    cfg.BasicAuth.Username,
	}
	if cfg.BearerTokenFile != "" {
		auth.bearer = &promSecret{field: "bearer_token_file", path: cfg.BearerTokenFile}
	}
	if cfg.BasicAuth.set() {
		auth.password = &promSecret{field: "basic_auth.password_file", path: cfg.BasicAuth.PasswordFile}
	}
	for _, s := range []*promSecret{auth.bearer, auth.password} {
		if s == nil {
			continue
		}
		if _, err := s.read(); err != nil {
			return nil, err
		}
	}
	client, err := api.NewClient(api.Config{Address: cfg.URL, RoundTripper: auth})
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	u, _ := url.Parse(cfg.URL) // Validate parsed it
	return &Prometheus{
		api:       v1.NewAPI(promStatusClient{client}),
		transport: transport,
		name:      u.Redacted(),
		timeout:   time.Duration(cfg.Timeout),
		retries:   cfg.Retries,
		chunk:     time.Duration(cfg.Chunk).Milliseconds(),
		backoff:   promFirstBackoff,
		promql:    parser.NewParser(parser.Options{}),
	}, nil
}

// Close closes idle connections.
func (p *Prometheus) Close() { p.transport.CloseIdleConnections() }

// String names the server, without a password.
func (p *Prometheus) String() string { return p.name }

func (p *Prometheus) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

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
	for k, v := range t.headers {
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
		req.Header.Set("Authorization", "Bearer "+token)
	case t.password != nil:
		password, err := t.password.read()
		if err != nil {
			promCloseBody(req)
			return nil, err
		}
		req.SetBasicAuth(t.user, password)
	}
	return t.next.RoundTrip(req)
}

// promCloseBody closes a request's body, as a RoundTripper must even when it
// fails.
func promCloseBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// promAttempt records the HTTP answer to one try of a request, for the
// decision to retry: the v1 client's errors do not carry the status.
type promAttempt struct {
	status     int
	retryAfter time.Duration
}

type promAttemptKey struct{}

// promStatusClient records each response's status in the request context's
// promAttempt.
type promStatusClient struct{ api.Client }

func (c promStatusClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	resp, body, err := c.Client.Do(ctx, req)
	if a, ok := ctx.Value(promAttemptKey{}).(*promAttempt); ok && resp != nil {
		a.status = resp.StatusCode
		a.retryAfter = 0
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			a.retryAfter = time.Duration(s) * time.Second
		}
	}
	return resp, body, err
}

// promRetryable reports whether a request that failed with err, after an
// answer with HTTP status (0: none), may succeed if tried again: when it
// got no answer (a network error, a timeout), a 5xx or a 429. Any other
// answer, such as 400 for a bad query or 401, will not change.
func promRetryable(err error, status int) bool {
	var apiErr *v1.Error
	if !errors.As(err, &apiErr) {
		return true
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return true
	case status != 0:
		return false
	}
	return apiErr.Type == v1.ErrServer || apiErr.Type == v1.ErrTimeout
}

// call runs one request, trying again with exponential backoff as long as
// promRetryable says so, up to the configured retries and within ctx. Each
// try is bounded by the timeout.
func (p *Prometheus) call(ctx context.Context, what string, do func(context.Context) error) error {
	wait := p.backoff
	for try := 0; ; try++ {
		a := &promAttempt{}
		tctx, cancel := context.WithTimeout(context.WithValue(ctx, promAttemptKey{}, a), p.timeout)
		err := do(tctx)
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

// rangeRead returns the raw samples of the series a selector matches with
// time in (fromMs, toMs], one request.
//
// It is an instant query of the range-vector selector "selector[span]" at
// the end of the range. Range selectors include their start in Prometheus
// 2 and exclude it in Prometheus 3, and the query time is sent in seconds,
// so the query is evaluated at the range's end rounded up to a second
// over a span, in whole seconds, that reaches back to the range's start
// or before it; the samples are then cut to (fromMs, toMs] here, the same
// whatever the server's version.
func (p *Prometheus) rangeRead(ctx context.Context, selector string, fromMs, toMs int64) (model.Matrix, error) {
	at := promCeilSecond(toMs)
	span := promCeilSecond(at - fromMs)
	q := selector + "[" + model.Duration(time.Duration(span)*time.Millisecond).String() + "]"
	what := fmt.Sprintf("reading %s at %s", q, time.UnixMilli(at).UTC().Format(time.RFC3339))
	var v model.Value
	err := p.call(ctx, what, func(ctx context.Context) error {
		var (
			warnings v1.Warnings
			err      error
		)
		v, warnings, _, err = p.api.Query(ctx, q, time.UnixMilli(at), v1.WithTimeout(p.timeout))
		if len(warnings) > 0 {
			p.log().Warn("prometheus warns", "server", p.name, "query", q, "warnings", warnings)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s from %s: got a %s, want a matrix", what, p.name, v.Type())
	}
	for _, ss := range m {
		if len(ss.Histograms) > 0 {
			return nil, fmt.Errorf("%s from %s: %s holds native histograms, which are not counters burnwatch can read", what, p.name, ss.Metric)
		}
		i := 0
		for _, s := range ss.Values {
			if t := int64(s.Timestamp); fromMs < t && t <= toMs {
				ss.Values[i] = s
				i++
			}
		}
		ss.Values = ss.Values[:i]
	}
	return m, nil
}

// promCeilSecond rounds a time or span in milliseconds up to a whole second.
func promCeilSecond(ms int64) int64 {
	if r := ms % 1000; r > 0 {
		return ms - r + 1000
	}
	return ms
}

// series lists the series that the selectors match between fromMs and
// toMs, in label order, without duplicates. The listing may hold series
// without samples in the range; they yield nothing.
func (p *Prometheus) series(ctx context.Context, selectors []string, fromMs, toMs int64) ([]labels.Labels, error) {
	// Whole seconds on the wide side: a listing that holds too much costs
	// a read that yields nothing, one that holds too little loses data.
	start, end := time.UnixMilli(promCeilSecond(fromMs)-1000), time.UnixMilli(promCeilSecond(toMs))
	var sets []model.LabelSet
	err := p.call(ctx, fmt.Sprintf("listing series of %s", strings.Join(selectors, ", ")), func(ctx context.Context) error {
		var (
			warnings v1.Warnings
			err      error
		)
		sets, warnings, _, err = p.api.Series(ctx, selectors, start, end)
		if len(warnings) > 0 {
			p.log().Warn("prometheus warns", "server", p.name, "selectors", selectors, "warnings", warnings)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]labels.Labels, 0, len(sets))
	for _, set := range sets {
		out = append(out, promLabels(model.Metric(set)))
	}
	slices.SortFunc(out, labels.Compare)
	return slices.CompactFunc(out, labels.Equal), nil
}

func promLabels(m model.Metric) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for k, v := range m {
		b.Add(string(k), string(v))
	}
	b.Sort()
	return b.Labels()
}

// Samples reads every sample with time in (from, to] of every series that
// any of the selectors matches. Like a recording read with Reader, the
// samples come grouped by series, each series in time order; series come
// in label order, each once, as in a TSDB dump.
//
// Nothing is read until the first call to Next. A range no longer than a
// chunk is one read per selector, which holds every series' samples of
// that chunk: what a serving loop reads each cycle. A longer range, a
// backfill, first lists the series, then reads them one at a time, a
// chunk at a time, each read selecting the series by all its labels.
// Memory then holds the series' labels and one series' chunk, whatever
// the range, at the cost of one request per series and chunk: a 30-day
// backfill of 10,000 series in 1-hour chunks is 7.2 million requests, in
// 1-day chunks 300,000. Reading many series a chunk at a time instead
// would split each series across chunks, and holding them until the
// range is read would hold the whole range; a larger chunk is the knob.
// A series that first appears after the listing is left to the next read.
func (p *Prometheus) Samples(ctx context.Context, selectors []string, from, to time.Time) *PromSamples {
	return &PromSamples{p: p, ctx: ctx, selectors: selectors, fromMs: from.UnixMilli(), toMs: to.UnixMilli()}
}

// Read calls fn with the samples Samples yields, a run of one series at a
// time: every series comes in one or more consecutive runs, in time
// order, one run per chunk that holds its samples. fn may keep the
// slices. An error from fn stops the read and is returned.
func (p *Prometheus) Read(ctx context.Context, selector string, from, to time.Time, fn func(lset labels.Labels, ts []int64, vs []float64) error) error {
	s := p.Samples(ctx, []string{selector}, from, to)
	for {
		r, ok := s.nextRun()
		if !ok {
			return s.err
		}
		if err := fn(r.lset, r.ts, r.vs); err != nil {
			return err
		}
	}
}

// PromSamples iterates over samples read from a Prometheus server,
// grouped by series, each series in time order. It implements the same
// interface as Reader.
type PromSamples struct {
	p            *Prometheus
	ctx          context.Context
	selectors    []string
	fromMs, toMs int64
	started      bool

	runs   []promRun       // a short range: every series' run, read at once
	series []labels.Labels // a long range: the series yet to read, the first being read
	next   int64           // a long range: where the next chunk of series[0] starts (excluded)
	began  bool            // a long range: series[0] has yielded a run

	run promRun // the run being yielded
	i   int     // the current sample's index in run
	err error
}

// promRun is consecutive samples of one series.
type promRun struct {
	lset  labels.Labels
	ts    []int64
	vs    []float64
	first bool // the series' first run
}

// Next advances to the next sample. It returns false at the end or on an
// error, which Err returns.
func (s *PromSamples) Next() bool {
	if s.i+1 < len(s.run.ts) {
		s.i++
		return true
	}
	r, ok := s.nextRun()
	if !ok {
		s.run = promRun{}
		return false
	}
	s.run, s.i = r, 0
	return true
}

// NewSeries reports whether the current sample starts a different series
// from the one before it.
func (s *PromSamples) NewSeries() bool { return s.i == 0 && s.run.first }

// Labels returns the current series' labels.
func (s *PromSamples) Labels() labels.Labels { return s.run.lset }

// At returns the current sample's time in milliseconds and its value.
func (s *PromSamples) At() (int64, float64) { return s.run.ts[s.i], s.run.vs[s.i] }

// Err returns the error that stopped Next, if any.
func (s *PromSamples) Err() error { return s.err }

// Errorf returns an error naming the server, the current series and the
// sample's time.
func (s *PromSamples) Errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if s.i >= len(s.run.ts) {
		return fmt.Errorf("%s: %s", s.p.name, msg)
	}
	at := time.UnixMilli(s.run.ts[s.i]).UTC().Format(time.RFC3339Nano)
	return fmt.Errorf("%s: %s at %s: %s", s.p.name, s.run.lset, at, msg)
}

// nextRun reads until it has a run with samples; false at the end or on
// an error, kept in s.err.
func (s *PromSamples) nextRun() (promRun, bool) {
	if s.err != nil {
		return promRun{}, false
	}
	if !s.started {
		s.started = true
		if s.err = s.plan(); s.err != nil {
			return promRun{}, false
		}
	}
	if len(s.runs) > 0 {
		r := s.runs[0]
		s.runs[0] = promRun{}
		s.runs = s.runs[1:]
		return r, true
	}
	for len(s.series) > 0 {
		lset := s.series[0]
		from, to := s.next, min(s.next+s.p.chunk, s.toMs)
		ts, vs, err := s.readSeries(lset, from, to)
		if err != nil {
			s.err = err
			return promRun{}, false
		}
		r := promRun{lset: lset, ts: ts, vs: vs, first: !s.began}
		s.began = s.began || len(ts) > 0
		s.next = to
		if to >= s.toMs {
			s.series[0] = labels.EmptyLabels()
			s.series = s.series[1:]
			s.next, s.began = s.fromMs, false
		}
		if len(ts) > 0 {
			return r, true
		}
	}
	return promRun{}, false
}

// plan checks the selectors and either reads a short range whole or lists
// the series of a long one.
func (s *PromSamples) plan() error {
	for _, sel := range s.selectors {
		if _, err := s.p.promql.ParseMetricSelector(sel); err != nil {
			return fmt.Errorf("selector %q: %w", sel, err)
		}
	}
	if s.toMs <= s.fromMs || len(s.selectors) == 0 {
		return nil
	}
	if s.toMs-s.fromMs > s.p.chunk {
		var err error
		s.series, err = s.p.series(s.ctx, s.selectors, s.fromMs, s.toMs)
		s.next = s.fromMs
		return err
	}
	seen := map[string]bool{}
	for _, sel := range s.selectors {
		m, err := s.p.rangeRead(s.ctx, sel, s.fromMs, s.toMs)
		if err != nil {
			return err
		}
		for _, ss := range m {
			lset := promLabels(ss.Metric)
			key := lset.String()
			if seen[key] || len(ss.Values) == 0 {
				continue
			}
			seen[key] = true
			ts, vs := promSplit(ss.Values)
			s.runs = append(s.runs, promRun{lset: lset, ts: ts, vs: vs, first: true})
		}
	}
	slices.SortFunc(s.runs, func(a, b promRun) int { return labels.Compare(a.lset, b.lset) })
	return nil
}

// readSeries reads one chunk of one series. Its labels, as a selector,
// also match any series with more labels; those are left out.
func (s *PromSamples) readSeries(lset labels.Labels, fromMs, toMs int64) ([]int64, []float64, error) {
	m, err := s.p.rangeRead(s.ctx, lset.String(), fromMs, toMs)
	if err != nil {
		return nil, nil, err
	}
	for _, ss := range m {
		if labels.Equal(promLabels(ss.Metric), lset) {
			ts, vs := promSplit(ss.Values)
			return ts, vs, nil
		}
	}
	return nil, nil, nil
}

func promSplit(ps []model.SamplePair) ([]int64, []float64) {
	ts, vs := make([]int64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		ts[i], vs[i] = int64(p.Timestamp), float64(p.Value)
	}
	return ts, vs
}
