package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/burnwatch/burnwatch/slo"
)

// Who may do what over HTTP (docs/serve.md, "Access"):
//
//   - /healthz, /readyz, /metrics and /playbooks/ are open to anyone who
//     reaches the port (probes, Prometheus, on-call following a page's
//     link), unless the web configuration file has basic_auth_users, which
//     then cover every request, as they do in Prometheus and Alertmanager;
//   - POST /api/v1/events needs its own bearer token (events.go);
//   - every other read (/api/v1/*, /debug/pprof/) needs credentials unless
//     the config's api.anonymous_reads says otherwise;
//   - whatever changes state (silences, /-/reload) needs credentials,
//     always, and may not come from another site: a browser's cross-origin
//     request is refused (403), and JSON bodies must say application/json
//     (415), so that no form on another site can post one.
//
// Credentials are a bearer token of one of api.token_files (read at every
// request, so that a rotated token works at once), a basic-auth user of
// the web configuration file, or a TLS client certificate it verified.

// requestKind is what a request asks, as far as access goes.
type requestKind int

const (
	openRequest     requestKind = iota // health, metrics, playbooks
	pushRequest                        // POST /api/v1/events, with its own token
	readRequest                        // any other GET or HEAD
	changingRequest                    // every other method
)

func kindOf(r *http.Request) requestKind {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	p := path.Clean("/" + r.URL.Path)
	switch {
	case safe && (p == "/healthz" || p == "/readyz" || p == "/metrics" || p == "/playbooks" || strings.HasPrefix(p, "/playbooks/")):
		return openRequest
	case r.Method == http.MethodPost && p == "/api/v1/events":
		return pushRequest
	case safe:
		return readRequest
	}
	return changingRequest
}

// access is the guard in front of every route.
type access struct {
	config func() *slo.Config
	// webConfig is the web configuration file's path, "" without one.
	webConfig string
	// tokens returns the API's bearer tokens, read now.
	tokens func() ([]string, error)
	csrf   *http.CrossOriginProtection
	log    *slog.Logger
}

// listenerAuthenticated marks a request's context when the listener
// authenticated it (a basic-auth user or a verified client certificate),
// for the events endpoint, which takes that in place of its own token.
type listenerAuthKey struct{}

func authenticatedByListener(ctx context.Context) bool {
	ok, _ := ctx.Value(listenerAuthKey{}).(bool)
	return ok
}

// guard serves next behind the access rules.
func (a *access) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := kindOf(r)
		if kind == openRequest {
			next.ServeHTTP(w, r)
			return
		}
		if kind != readRequest {
			if err := a.csrf.Check(r); err != nil {
				a.log.LogAttrs(r.Context(), slog.LevelInfo, "a cross-origin request was refused",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("origin", r.Header.Get("Origin")))
				respondError(w, http.StatusForbidden, "cross-origin requests may not change burnwatch's state")
				return
			}
		}
		byListener := a.byListener(r)
		if byListener {
			r = r.WithContext(context.WithValue(r.Context(), listenerAuthKey{}, true))
		}
		if kind == pushRequest || kind == readRequest && a.config().API.AnonymousReads {
			next.ServeHTTP(w, r)
			return
		}
		if !byListener && !a.bearer(r) {
			a.log.LogAttrs(r.Context(), slog.LevelDebug, "an unauthenticated request was refused",
				slog.String("method", r.Method), slog.String("path", r.URL.Path))
			w.Header().Set("WWW-Authenticate", `Bearer realm="burnwatch"`)
			respondError(w, http.StatusUnauthorized, "authentication is required: a bearer token of api.token_files, or the web configuration file's basic auth or client certificate")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// byListener reports whether the listener authenticated the request: it
// verified a client certificate, or the web configuration file has
// basic-auth users, whom exporter-toolkit makes every request name before
// it reaches burnwatch.
func (a *access) byListener(r *http.Request) bool {
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	return a.webConfig != "" && hasBasicAuthUsers(a.webConfig)
}

// hasBasicAuthUsers reports whether the web configuration file at path has
// basic-auth users. It is read at each request, as exporter-toolkit reads
// it, so that both see the same file.
func hasBasicAuthUsers(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var c struct {
		Users map[string]any `yaml:"basic_auth_users"`
	}
	return yaml.Unmarshal(b, &c) == nil && len(c.Users) > 0
}

// bearer reports whether the request carries one of the API's tokens. A
// token file that cannot be read is logged and matches nothing.
func (a *access) bearer(r *http.Request) bool {
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer ") {
		return false
	}
	tokens, err := a.tokens()
	if err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelError, "reading the API's tokens", slog.Any("err", err))
	}
	for _, tok := range tokens {
		if bearerMatches(r.Header.Get("Authorization"), tok) {
			return true
		}
	}
	return false
}

// bearerMatches reports whether an Authorization header carries the bearer
// token want. Both sides are hashed first, so the comparison takes the same
// time whatever the token's length and however much of it matches.
func bearerMatches(header, want string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	g := sha256.Sum256([]byte(strings.TrimSpace(got)))
	h := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], h[:]) == 1
}

// requireContentType refuses (415) a body whose Content-Type is none of
// types; absent counts as the first only when allowAbsent. Forms, which a
// page on another site can post without the browser asking first, say
// text/plain, multipart/form-data or application/x-www-form-urlencoded:
// none of these is accepted anywhere.
func requireContentType(w http.ResponseWriter, r *http.Request, allowAbsent bool, types ...string) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" && allowAbsent {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, t := range types {
			if mt == t {
				return true
			}
		}
	}
	respondError(w, http.StatusUnsupportedMediaType, "Content-Type %q: send %s", ct, strings.Join(types, " or "))
	return false
}

// errNoTokens is the error of an API whose token files all failed.
var errNoTokens = errors.New("no API token could be read")

// apiTokens reads the API's bearer tokens: those of the config's
// token_files, or the one the service made in its storage directory.
func (s *Service) apiTokens() ([]string, error) {
	files := s.config().API.TokenFiles
	if len(files) == 0 {
		tok, err := s.ensureToken(s.APITokenFile(), "an API token; API clients send it as a bearer token")
		if err != nil {
			return nil, err
		}
		return []string{tok}, nil
	}
	var toks []string
	var errs []error
	for _, f := range files {
		tok, err := readToken(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		toks = append(toks, tok)
	}
	if len(toks) == 0 {
		errs = append(errs, errNoTokens)
	}
	return toks, errors.Join(errs...)
}

// APITokenFile is the token file the service makes when the config names
// none: api.token in its storage directory.
func (s *Service) APITokenFile() string { return storageFile(s.o.StoragePath, "api.token") }

// checkAPITokens reads every token file the config names, so that a
// missing or empty one stops serve at start rather than refusing clients.
func (s *Service) checkAPITokens() error {
	for i, f := range s.config().API.TokenFiles {
		if _, err := readToken(f); err != nil {
			return fmt.Errorf("api.token_files[%d]: %w", i, err)
		}
	}
	_, err := s.apiTokens()
	return err
}
