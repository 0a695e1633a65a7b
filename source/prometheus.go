package source

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// Defaults of PrometheusConfig.
const (
	DefaultPrometheusTimeout = 30 * time.Second // one request, including the server's evaluation
	DefaultPrometheusRetries = 3                // tries after the first, for network errors, 5xx and 429
	// DefaultRemoteReadChunk is the span of one remote read: Prometheus's
	// TSDB cuts its blocks, and so its chunks, at multiples of 2h, and
	// slices aligned on them carry every chunk once.
	DefaultRemoteReadChunk = 2 * time.Hour
	// DefaultQueryChunk is the span of one read through the query API,
	// whose answer is decoded whole, as JSON: slower and larger than
	// remote read's chunks, which are decoded a series at a time.
	DefaultQueryChunk = time.Hour
)

// The ways of reading a Prometheus server, the values of
// PrometheusConfig.API.
const (
	// PrometheusAuto tries remote read and, if the server has none, uses
	// the query API from then on.
	PrometheusAuto = "auto"
	// PrometheusRemoteRead is Prometheus's remote read API (POST
	// /api/v1/read), streamed chunks preferred: the server sends its
	// chunks as they are stored.
	PrometheusRemoteRead = "remote_read"
	// PrometheusQuery is the HTTP query API: an instant query of a range
	// selector, its samples as JSON.
	PrometheusQuery = "query"
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
	// API is how samples are read: auto (empty is auto), remote_read or
	// query; see PrometheusAuto and the others.
	API string `yaml:"api,omitempty"`
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
	// Chunk is the span of one read: a long range is read in slices of
	// a chunk, aligned on multiples of it since 1970, so that no request
	// returns more than a chunk of samples. Zero takes the API's default,
	// DefaultRemoteReadChunk or DefaultQueryChunk.
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
		API:     PrometheusAuto,
		Timeout: model.Duration(DefaultPrometheusTimeout),
		Retries: DefaultPrometheusRetries,
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
	switch c.API {
	case "", PrometheusAuto, PrometheusRemoteRead, PrometheusQuery:
	default:
		add("api", "is %q; valid: %s, %s, %s", c.API, PrometheusAuto, PrometheusRemoteRead, PrometheusQuery)
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
// Prometheus APIs: remote read, or the HTTP query API where there is
// none. It is safe for concurrent use.
type Prometheus struct {
	// Logger receives retries, the server's warnings and the API chosen;
	// nil logs to slog.Default(). Set it before the first read. Secrets
	// are never logged.
	Logger *slog.Logger

	api       v1.API       // the query API
	client    *http.Client // remote read: auth, then transport
	transport *http.Transport
	readURL   string // the remote read endpoint, possibly with a password
	name      string // the URL without its password, for errors and logs
	timeout   time.Duration
	retries   int
	chunk     int64         // ms; 0: the API's default
	backoff   time.Duration // the first retry's wait; tests shorten it
	promql    parser.Parser

	// mode is the API in use: the configured one, or for auto what the
	// server was found to serve (promUndecided until its first answer).
	mode atomic.Int32
}

// promMode is a way of reading, as decided for a server.
type promMode int32

const (
	promUndecided promMode = iota // auto, before the server's first answer
	promRemoteRead
	promQuery
)

// NewPrometheus checks the config, reads its secret files and TLS
// material, and returns a client. A secret file that is missing or holds
// only white space is an error. A zero Timeout takes its default.
func NewPrometheus(cfg PrometheusConfig) (*Prometheus, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = model.Duration(DefaultPrometheusTimeout)
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
	p := &Prometheus{
		api:       v1.NewAPI(client),
		client:    &http.Client{Transport: auth},
		transport: transport,
		readURL:   u.JoinPath("api/v1/read").String(),
		name:      u.Redacted(),
		timeout:   time.Duration(cfg.Timeout),
		retries:   cfg.Retries,
		chunk:     time.Duration(cfg.Chunk).Milliseconds(),
		backoff:   promFirstBackoff,
		promql:    parser.NewParser(parser.Options{}),
	}
	switch cfg.API {
	case PrometheusRemoteRead:
		p.mode.Store(int32(promRemoteRead))
	case PrometheusQuery:
		p.mode.Store(int32(promQuery))
	}
	return p, nil
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
