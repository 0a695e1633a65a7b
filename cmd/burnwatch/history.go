package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/burnwatch/burnwatch/service"
)

// stateFlags are where the report and export commands find the state:
// serve's directory, read beside it, or a running serve to ask, with the
// credentials its API takes (docs/serve.md, "Access").
type stateFlags struct {
	config, storage, server *string
	// With --server: a bearer token of serve's api.token_files, or a
	// basic-auth user of its web configuration file; the CA that signed
	// its certificate, when not one the system trusts.
	tokenFile, user, passwordFile, caFile *string
}

func addStateFlags(fs *flag.FlagSet) stateFlags {
	return stateFlags{
		config:       fs.String("config", "", "the config file serve runs with (default: the embedded default config)"),
		storage:      fs.String("storage.path", "./data", "the directory of burnwatch serve's state, read beside a running serve"),
		server:       fs.String("server", "", "ask a running burnwatch serve at this URL instead, such as http://127.0.0.1:9099"),
		tokenFile:    fs.String("bearer-token-file", "", "with --server: a file holding a bearer token of serve's API (one of its api.token_files, or its storage path's api.token)"),
		user:         fs.String("basic-auth.username", "", "with --server: a basic-auth user of serve's --web.config.file"),
		passwordFile: fs.String("basic-auth.password-file", "", "with --server: the file holding that user's password"),
		caFile:       fs.String("tls.ca-file", "", "with --server https://…: the CA certificate that signed serve's, when the system does not trust it"),
	}
}

// client is how the CLI asks a running serve: with the credentials and
// the CA the flags name, read now.
func (f stateFlags) client() (*client, error) {
	c := &client{server: strings.TrimSuffix(*f.server, "/"), http: &http.Client{}}
	if *f.tokenFile != "" && *f.user != "" {
		return nil, usageError{errors.New("give --bearer-token-file or --basic-auth.username, not both")}
	}
	if *f.tokenFile != "" {
		tok, err := readSecretFile("--bearer-token-file", *f.tokenFile)
		if err != nil {
			return nil, err
		}
		c.auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if *f.user != "" {
		if *f.passwordFile == "" {
			return nil, usageError{errors.New("--basic-auth.username needs --basic-auth.password-file")}
		}
		pw, err := readSecretFile("--basic-auth.password-file", *f.passwordFile)
		if err != nil {
			return nil, err
		}
		user := *f.user
		c.auth = func(r *http.Request) { r.SetBasicAuth(user, pw) }
	}
	if *f.caFile != "" {
		pem, err := os.ReadFile(*f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls.ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls.ca-file %s holds no PEM certificate", *f.caFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		c.http.Transport = tr
	}
	return c, nil
}

// readSecretFile reads a token or password from a file, trimmed; an empty
// one is an error. Neither the secret nor the file's content is ever in
// an error.
func readSecretFile(flag, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s %s is empty", flag, path)
	}
	return s, nil
}

// client asks a running serve.
type client struct {
	server string
	http   *http.Client
	auth   func(*http.Request) // nil without credentials
}

// open opens the state serve keeps in storage for reading, beside that
// serve if it runs.
func (f stateFlags) open(ctx context.Context, stderr io.Writer) (*service.Service, error) {
	storage := *f.storage
	if _, err := os.Stat(filepath.Join(storage, "burnwatch.db")); err != nil {
		return nil, fmt.Errorf("no burnwatch state in %s (--storage.path): %w; point it at the directory burnwatch serve keeps, or ask a running serve with --server", storage, err)
	}
	return service.New(ctx, service.Options{
		ConfigPath:  *f.config,
		StoragePath: storage,
		ReadOnly:    true,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

// fetch copies what the running serve answers at path?q to w.
func (c *client) fetch(ctx context.Context, path string, q url.Values, w io.Writer) error {
	server := c.server
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+path+"?"+q.Encode(), nil)
	if err != nil {
		return usageError{err}
	}
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s: %w", server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized && c.auth == nil {
			hint = " (give --bearer-token-file, or --basic-auth.username and --basic-auth.password-file)"
		}
		return fmt.Errorf("%s answered %s: %s%s", server, resp.Status, strings.TrimSpace(string(b)), hint)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("reading the answer of %s: %w", server, err)
	}
	return nil
}

// outFile creates DIR/name, or returns stdout when dir is empty. done
// closes the file and says where it went.
func outFile(dir, name string, stdout, stderr io.Writer) (w io.Writer, done func() error, err error) {
	if dir == "" {
		return stdout, func() error { return nil }, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error {
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", path)
		return nil
	}, nil
}

// stringList is a flag that may be given many times.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

var errNoWindow = errors.New("--from and --to are required: the incident's window, such as --from 2026-11-05T02:00:00Z --to 2026-11-05T02:30:00Z")
