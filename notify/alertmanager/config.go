package alertmanager

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Config is an Alertmanager receiver's part of the configuration:
//
//	alertmanager:
//	  url: http://alertmanager.monitoring:9093   # base URL, with --web.route-prefix if any
//	  timeout: 10s                               # one POST; default 10s
//	  resend: 1m                                 # re-post a firing alert this often; default 1m
//	  bearer_token_file: /run/secrets/am-token   # or basic_auth: {username, password_file}
type Config struct {
	// URL is Alertmanager's base URL; alerts go to URL + /api/v2/alerts.
	URL string `yaml:"url"`
	// Timeout bounds one POST; zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// Resend is how often a firing alert must be re-posted so that
	// Alertmanager does not expire it; zero means DefaultResend. The
	// caller does the re-posting: Receiver.Resend returns the value in
	// force.
	Resend time.Duration `yaml:"resend,omitempty"`
	// BasicAuth and BearerTokenFile authenticate to an Alertmanager behind
	// a proxy (or its --web.config.file); at most one of them.
	BasicAuth       *BasicAuth `yaml:"basic_auth,omitempty"`
	BearerTokenFile string     `yaml:"bearer_token_file,omitempty"`
	// AlertName maps burnwatch's alert kinds (burn-rate, user-fault-surge,
	// no-data, and watchdog, the heartbeat's) to the alertname label, entry
	// by entry over the default, "burnwatch:" + the kind.
	AlertName map[string]string `yaml:"alert_name,omitempty"`
	// Severity maps burnwatch's severities (page, ticket) to the severity
	// label, entry by entry over DefaultSeverity: Alertmanager's
	// conventional critical and warning.
	Severity map[string]string `yaml:"severity,omitempty"`
}

// DefaultSeverity maps burnwatch's severities to the severity label's
// conventional values in Alertmanager routes and inhibit rules: a page is
// critical, a ticket a warning.
var DefaultSeverity = map[string]string{"page": "critical", "ticket": "warning"}

// Kinds are burnwatch's alert kinds, the keys of AlertName; watchdog is
// the always-firing alert of a heartbeat sent to Alertmanager.
var Kinds = []string{"burn-rate", "user-fault-surge", "no-data", "watchdog"}

// burnwatchSeverities are the keys of Severity.
var burnwatchSeverities = []string{"page", "ticket"}

// alertNames returns the alertname of each kind: the default overridden
// by c.AlertName.
func (c Config) alertNames() map[string]string {
	m := make(map[string]string, len(Kinds))
	for _, k := range Kinds {
		m[k] = alertNameScope + k
	}
	maps.Copy(m, c.AlertName)
	return m
}

// severities returns DefaultSeverity overridden by c.Severity.
func (c Config) severities() map[string]string {
	m := maps.Clone(DefaultSeverity)
	maps.Copy(m, c.Severity)
	return m
}

// BasicAuth is a user name and a file holding the password, trimmed.
type BasicAuth struct {
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// Validate returns every problem of the config, each naming its field. It
// reads no file: New does, and says what is wrong with one.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		bad("url", "missing; want Alertmanager's base URL such as http://alertmanager:9093")
	} else if u, err := url.Parse(c.URL); err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, which may hold a password
		}
		bad("url", "not a URL: %v", err)
	} else {
		switch {
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			bad("url", "%q is not an absolute http or https URL such as http://alertmanager:9093", u.Redacted())
		case u.User != nil:
			bad("url", "%q carries credentials; use basic_auth or bearer_token_file", u.Redacted())
		case u.RawQuery != "" || u.Fragment != "":
			bad("url", "%q has a query or fragment; want the base URL only", u.Redacted())
		}
	}
	if c.Timeout < 0 {
		bad("timeout", "%s is negative", c.Timeout)
	}
	if c.Resend < 0 {
		bad("resend", "%s is negative", c.Resend)
	}
	for _, m := range []struct {
		field string
		keys  []string
		m     map[string]string
	}{{"alert_name", Kinds, c.AlertName}, {"severity", burnwatchSeverities, c.Severity}} {
		for _, k := range slices.Sorted(maps.Keys(m.m)) {
			v := m.m[k]
			switch {
			case !slices.Contains(m.keys, k):
				bad(m.field, "%q is not one of %s", k, strings.Join(m.keys, ", "))
			case strings.TrimSpace(v) == "" || !utf8.ValidString(v):
				bad(m.field+"."+k, "%q is not a label value: give a non-empty one", v)
			}
		}
	}
	if c.BasicAuth != nil {
		if c.BearerTokenFile != "" {
			bad("bearer_token_file", "set together with basic_auth; use one")
		}
		if c.BasicAuth.Username == "" {
			bad("basic_auth.username", "missing")
		}
		if c.BasicAuth.PasswordFile == "" {
			bad("basic_auth.password_file", "missing; the password is read from a file")
		}
	}
	return errors.Join(errs...)
}

// Check returns what Validate returns and, when that is nil, what New
// would refuse of the credential files: one that cannot be read or is
// empty. It is what `burnwatch check` runs, so that a config it passes is
// one serve starts with. It never quotes a credential.
func (c Config) Check() error {
	if err := c.Validate(); err != nil {
		return err
	}
	var errs []error
	if c.BasicAuth != nil {
		if _, err := readSecret(c.BasicAuth.PasswordFile); err != nil {
			errs = append(errs, fmt.Errorf("basic_auth.password_file: %w", err))
		}
	}
	if c.BearerTokenFile != "" {
		if _, err := readSecret(c.BearerTokenFile); err != nil {
			errs = append(errs, fmt.Errorf("bearer_token_file: %w", err))
		}
	}
	return errors.Join(errs...)
}
