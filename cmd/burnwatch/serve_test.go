package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/service"
)

// webPassword's bcrypt hash is exporter-toolkit's own test hash.
const (
	webUser     = "ana"
	webPassword = "fakepassword"
	webHash     = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "burnwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTakesTLSAndBasicAuthFromAWebConfigFile: serve reads
// --web.config.file as Prometheus does (exporter-toolkit): TLS, and basic
// auth over every request, health and metrics included. A basic-auth user
// may use the API and push events; the CLI's --server asks with one.
func TestServeTakesTLSAndBasicAuthFromAWebConfigFile(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, fmt.Appendf(nil, "tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  %s: %s\n", certFile, keyFile, webUser, webHash), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(webPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up := make(chan string, 1)
	var svc *service.Service
	done := make(chan error, 1)
	go func() {
		done <- runService(ctx, service.Options{
			StoragePath: filepath.Join(dir, "data"), WebConfigFile: webConfig,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}, "127.0.0.1:0", slog.New(slog.NewTextHandler(io.Discard, nil)), func(s *service.Service, addr net.Addr) {
			svc = s
			up <- addr.String()
		})
	}()
	var addr string
	select {
	case addr = <-up:
	case err := <-done:
		t.Fatalf("serve stopped: %v", err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	pem, _ := os.ReadFile(certFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + addr
	send := func(method, path, body string, header http.Header) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header = header
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	basic := func() http.Header {
		r, _ := http.NewRequest(http.MethodGet, base, nil)
		r.SetBasicAuth(webUser, webPassword)
		return r.Header
	}
	apiToken, _ := os.ReadFile(svc.APITokenFile())
	bearer := http.Header{"Authorization": {"Bearer " + strings.TrimSpace(string(apiToken))}}

	for _, path := range []string{"/healthz", "/metrics", "/api/v1/slos"} {
		if got := send(http.MethodGet, path, "", http.Header{}); got != http.StatusUnauthorized {
			t.Errorf("GET %s without basic auth: %d, want 401: basic auth covers every request", path, got)
		}
		if got := send(http.MethodGet, path, "", basic()); got != http.StatusOK {
			t.Errorf("GET %s with basic auth: %d", path, got)
		}
	}
	if got := send(http.MethodGet, "/api/v1/slos", "", bearer); got != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/slos with a bearer token alone: %d, want 401", got)
	}
	h := basic()
	h.Set("Content-Type", "application/json")
	silence := fmt.Sprintf(`{"matchers":[{"name":"database","value":"db-1"}],"end":%q,"author":"ana","comment":"CHG-1"}`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if got := send(http.MethodPost, "/api/v1/silences", silence, h); got != http.StatusCreated {
		t.Errorf("POST a silence with basic auth: %d", got)
	}
	event := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":1}`, time.Now().UTC().Format(time.RFC3339))
	if got := send(http.MethodPost, "/api/v1/events", event, basic()); got != http.StatusAccepted {
		t.Errorf("events pushed with basic auth, the only credential a request can carry then: %d", got)
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP to the TLS port answered 200")
		}
	}
	code, _, stderr := runCmd(t, "", "report", "--server", base, "--week", "2026-W45", "--format", "json",
		"--basic-auth.username", webUser, "--basic-auth.password-file", pwFile, "--tls.ca-file", certFile)
	if code != 0 {
		t.Errorf("report --server with basic auth and the CA: exit %d %s", code, stderr)
	}
}

// TestServeRefusesAWebConfigFileThatDoesNotLoad: a bad --web.config.file
// stops serve at start, as it stops Prometheus.
func TestServeRefusesAWebConfigFileThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	webConfig := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: /nonexistent.pem\n  key_file: /nonexistent.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "", "serve", "--web.config.file", webConfig, "--web.listen-address", "127.0.0.1:0", "--storage.path", filepath.Join(dir, "data"))
	if code == 0 || !strings.Contains(stderr, "--web.config.file") {
		t.Errorf("exit %d %s; want a failure naming --web.config.file", code, stderr)
	}
}

// TestTheDemoListensOnLoopbackOnly: make run's demo is reached from this
// machine only, unless told otherwise.
func TestTheDemoListensOnLoopbackOnly(t *testing.T) {
	_, stdout, stderr := runCmd(t, "", "demo", "--help")
	m := regexp.MustCompile(`web.listen-address string\s+[^\n]*\n?[^\n]*\(default "([^"]+)"\)`).FindStringSubmatch(stdout + stderr)
	if m == nil || !loopback(m[1]) {
		t.Errorf("the demo's default address: %q in\n%s%s", m, stdout, stderr)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	if run := regexp.MustCompile(`(?m)^run:\n\t(.*)$`).FindSubmatch(mk); run == nil || !strings.HasSuffix(string(run[1]), "burnwatch demo") {
		t.Errorf("make run runs %q, not the demo on its default address", run)
	}
	for addr, want := range map[string]bool{"127.0.0.1:9099": true, "[::1]:9099": true, "localhost:9099": true, ":9099": false, "0.0.0.0:9099": false, "10.0.0.1:9099": false} {
		if loopback(addr) != want {
			t.Errorf("loopback(%q) = %v", addr, !want)
		}
	}
}

// TestAnAPITokenFileServeCannotReadFailsCheckAndServe: an api.token_files
// entry that is missing or empty stops serve at start, and check says so
// first, naming the line.
func TestAnAPITokenFileServeCannotReadFailsCheckAndServe(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "burnwatch.yaml")
	if err := os.WriteFile(cfg, []byte("slos:\n  - name: a\n    objective: 99.9\n    sli: {total: x_total, errors: y_total}\napi:\n  token_files: ["+empty+"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "", "check", cfg)
	if code != 1 || !strings.Contains(stderr, cfg+":6: api.token_files[0]: "+empty+" is empty") {
		t.Errorf("check: exit %d %s", code, stderr)
	}
	code, _, stderr = runCmd(t, "", "serve", "--config", cfg, "--web.listen-address", "127.0.0.1:0", "--storage.path", filepath.Join(dir, "data"))
	if code == 0 || !strings.Contains(stderr, "api.token_files[0]") {
		t.Errorf("serve: exit %d %s", code, stderr)
	}
}
