package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Config is a webhook receiver's part of the configuration:
//
//	webhook:
//	  url: https://tickets.example/hooks/burnwatch
//	  secret_file: /run/secrets/burnwatch-webhook   # the HMAC key, trimmed; required
//	  timeout: 10s                                  # one POST; default 10s
//	  headers: {X-Team: dbaas}                      # sent with every POST
type Config struct {
	// URL receives the POSTs.
	URL string `yaml:"url"`
	// SecretFile holds the shared secret that signs each body.
	SecretFile string `yaml:"secret_file"`
	// Timeout bounds one POST; zero means DefaultTimeout.
	Timeout time.Duration `yaml:"timeout,omitempty"`
	// Headers are added to every POST, for a gateway in front of the
	// receiver. They may not replace the ones burnwatch sets.
	Headers map[string]string `yaml:"headers,omitempty"`
}

// reserved are the headers burnwatch sets itself.
var reserved = []string{"Content-Type", "Content-Length", "Host", "User-Agent", SignatureHeader, TimestampHeader}

// Validate returns every problem of the config, each naming its field. It
// reads no file: New does, and says what is wrong with one. Header values
// are never repeated, as they may be credentials.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		bad("url", "missing; want the http or https URL that receives the notifications")
	} else if u, err := url.Parse(c.URL); err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // without the URL, which may hold a token
		}
		bad("url", "not a URL: %v", err)
	} else {
		switch {
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			bad("url", "not an absolute http or https URL such as https://tickets.example/hooks/burnwatch")
		case u.User != nil:
			bad("url", "carries credentials; put an Authorization header in headers")
		}
	}
	if c.SecretFile == "" {
		bad("secret_file", "missing; the webhook's body is signed with the secret in this file")
	}
	if c.Timeout < 0 {
		bad("timeout", "%s is negative", c.Timeout)
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case !validHeaderName(k):
			bad("headers", "%q is not a header name", k)
		case isReserved(k):
			bad("headers."+k, "burnwatch sets this header itself; reserved: %s", strings.Join(reserved, ", "))
		case strings.ContainsAny(c.Headers[k], "\r\n\x00"):
			bad("headers."+k, "the value has a line break or NUL")
		}
	}
	return errors.Join(errs...)
}

// Check returns what Validate returns and, when that is nil, what New
// would refuse of the secret file: one that cannot be read or is empty.
// It is what `burnwatch check` runs, so that a config it passes is one
// serve starts with. It never quotes the secret.
func (c Config) Check() error {
	if err := c.Validate(); err != nil {
		return err
	}
	if _, err := readSecret(c.SecretFile); err != nil {
		return fmt.Errorf("secret_file: %w", err)
	}
	return nil
}

func isReserved(name string) bool {
	for _, r := range reserved {
		if http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(r) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether s is an HTTP token (RFC 9110, 5.6.2).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
