package pagerduty

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// DefaultEndpoint is PagerDuty's Events API; go-pagerduty posts to it
	// + "/v2/enqueue".
	DefaultEndpoint = "https://events.pagerduty.com"
	// DefaultComponent is payload.component when the config names none.
	DefaultComponent = "burnwatch"
	// DefaultTimeout bounds one delivery: PagerDuty answers an enqueue in
	// well under a second, and a hung connection must not hold the outbox
	// for longer than a retry would take.
	DefaultTimeout = 10 * time.Second
	// routingKeyLen is the length of every Events API v2 integration
	// (routing) key; PagerDuty answers 400 to any other.
	routingKeyLen = 32
)

// DefaultSeverity maps burnwatch's severities to PagerDuty's: a page is
// critical, a ticket a warning. Config.Severity overrides it entry by
// entry.
var DefaultSeverity = map[string]string{"page": "critical", "ticket": "warning"}

// Severities lists PagerDuty's payload.severity values, loudest first.
var Severities = []string{"critical", "error", "warning", "info"}

// burnwatchSeverities are the severities an alert has (slo.Page, slo.Ticket).
var burnwatchSeverities = []string{"page", "ticket"}

// Config configures one PagerDuty receiver: an Events API v2 integration
// on a PagerDuty service. The routing key comes from a file or the
// environment, never from the config itself.
type Config struct {
	// RoutingKeyFile is a file holding the integration's routing key;
	// surrounding white space is trimmed.
	RoutingKeyFile string `yaml:"routing_key_file,omitempty"`
	// RoutingKeyEnv names an environment variable holding the routing key.
	RoutingKeyEnv string `yaml:"routing_key_env,omitempty"`
	// Endpoint is the Events API's base URL: DefaultEndpoint when empty; a
	// proxy or a test server otherwise.
	Endpoint string `yaml:"endpoint,omitempty"`
	// Severity maps burnwatch severities (page, ticket) to PagerDuty's
	// (critical, error, warning, info), over DefaultSeverity.
	Severity map[string]string `yaml:"severity,omitempty"`
	// Component is payload.component: DefaultComponent when empty.
	Component string `yaml:"component,omitempty"`
	// Timeout bounds one delivery: DefaultTimeout when zero.
	Timeout time.Duration `yaml:"timeout,omitempty"`
}

// FieldError is one problem in a Config. Field is the YAML key, relative
// to the receiver's pagerduty block (severity.page for a map entry), so
// that the config loader can point at its line.
type FieldError struct{ Field, Msg string }

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// envNameRE is a portable environment variable name (POSIX).
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// keyLikeRE matches what a routing key looks like (32 lower-case letters
// and digits): a routing_key_env that matches holds a key instead of
// naming a variable, and must never be echoed.
var keyLikeRE = regexp.MustCompile(`^[a-z0-9]{32}$`)

// Validate returns every problem of the config, each a FieldError naming
// its field, joined with errors.Join; nil when there is none. It reads no
// file or variable: New does.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	switch {
	case c.RoutingKeyFile == "" && c.RoutingKeyEnv == "":
		bad("routing_key_file", "the routing key is missing: give routing_key_file (a file holding the key) or routing_key_env (the name of an environment variable holding it)")
	case c.RoutingKeyFile != "" && c.RoutingKeyEnv != "":
		bad("routing_key_env", "give one of routing_key_file and routing_key_env, not both")
	}
	if e := c.RoutingKeyEnv; e != "" {
		switch {
		case keyLikeRE.MatchString(e):
			// Not echoed: it is most likely the key itself.
			bad("routing_key_env", "looks like a routing key: it must name an environment variable that holds the key, such as PAGERDUTY_ROUTING_KEY")
		case !envNameRE.MatchString(e):
			bad("routing_key_env", "must name an environment variable (letters, digits and _, not starting with a digit), such as PAGERDUTY_ROUTING_KEY")
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil:
			bad("endpoint", "%q is not a URL", c.Endpoint)
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			bad("endpoint", "%q is not a base URL such as %s", c.Endpoint, DefaultEndpoint)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("endpoint", "%q must have no query, fragment or user", u.Redacted())
		case strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v2/enqueue"):
			bad("endpoint", "%q is the enqueue URL: give the base URL, such as %s, without /v2/enqueue", c.Endpoint, DefaultEndpoint)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Severity)) {
		v := c.Severity[k]
		if !slices.Contains(burnwatchSeverities, k) {
			bad("severity", "%q is not a burnwatch severity; valid: %s", k, strings.Join(burnwatchSeverities, ", "))
		}
		if !slices.Contains(Severities, v) {
			bad("severity."+k, "%q is not a PagerDuty severity; valid: %s", v, strings.Join(Severities, ", "))
		}
	}
	if utf8.RuneCountInString(c.Component) > 255 {
		bad("component", "is %d characters; at most 255", utf8.RuneCountInString(c.Component))
	}
	if c.Timeout < 0 {
		bad("timeout", "%v must be positive, such as 10s (0 is the default, %v)", c.Timeout, DefaultTimeout)
	}
	return errors.Join(errs...)
}

// Check returns what Validate returns and, when that is nil, what New
// would refuse of the routing key: a file that cannot be read, a variable
// that is not set, a key that is empty or not 32 characters. It is what
// `burnwatch check` runs, so that a config it passes is one serve starts
// with. Like New's, its errors never quote the key.
func (c Config) Check() error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := c.readKey()
	return err
}

// severities returns DefaultSeverity overridden by c.Severity.
func (c Config) severities() map[string]string {
	m := make(map[string]string, len(DefaultSeverity)+len(c.Severity))
	maps.Copy(m, DefaultSeverity)
	maps.Copy(m, c.Severity)
	return m
}

// readKey reads the routing key from the file or the variable the config
// names, trimmed. Its errors are FieldErrors that name where the key was
// looked for and, for a key of the wrong length, its length: never the key.
func (c Config) readKey() (*routingKey, error) {
	var raw, field, where string
	if c.RoutingKeyFile != "" {
		field = "routing_key_file"
		b, err := os.ReadFile(c.RoutingKeyFile)
		if err != nil {
			return nil, FieldError{field, fmt.Sprintf("reading the routing key: %v", err)}
		}
		raw, where = string(b), c.RoutingKeyFile
	} else {
		field = "routing_key_env"
		v, ok := os.LookupEnv(c.RoutingKeyEnv)
		if !ok {
			return nil, FieldError{field, fmt.Sprintf("the environment variable %s is not set", c.RoutingKeyEnv)}
		}
		raw, where = v, "the environment variable "+c.RoutingKeyEnv
	}
	key := strings.TrimSpace(raw)
	if key == "" {
		return nil, FieldError{field, where + " holds no routing key"}
	}
	if n := utf8.RuneCountInString(key); n != routingKeyLen {
		return nil, FieldError{field, fmt.Sprintf("%s holds a key of %d characters; a PagerDuty routing (integration) key has %d", where, n, routingKeyLen)}
	}
	return &routingKey{key}, nil
}
