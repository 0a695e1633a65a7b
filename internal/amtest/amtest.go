// Package amtest starts a real Alertmanager for tests: Debian's
// prometheus-alertmanager (or an alertmanager on PATH) on 127.0.0.1, with
// clustering off, its state in the test's temporary directory, and one
// route that sends every alert to a webhook the test serves.
package amtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Env is the environment variable that makes a missing Alertmanager a
// test failure instead of a skip, when set to "required". CI sets it.
const Env = "BURNWATCH_INTEGRATION"

// Binaries is where Alertmanager is looked for, in order: the name of
// Debian's package, then the upstream one.
var Binaries = []string{"prometheus-alertmanager", "alertmanager"}

// Timing of the test server, each with why.
const (
	// readyTimeout bounds the wait for /-/ready; Alertmanager with
	// clustering off is ready well within a second.
	readyTimeout = 20 * time.Second
	// stopTimeout is how long Alertmanager may take to stop on SIGTERM
	// before it is killed.
	stopTimeout = 5 * time.Second
	// startTries covers the race between finding a free port and
	// Alertmanager binding it.
	startTries = 3
	// GroupWait and GroupInterval are the route's: short, so that a
	// firing alert reaches the webhook within GroupWait of its post and
	// its resolve within GroupInterval. RepeatInterval is long, so that a
	// test sees each notification once.
	GroupWait      = 100 * time.Millisecond
	GroupInterval  = 200 * time.Millisecond
	RepeatInterval = time.Hour
)

// config routes every alert, each in its own group ("..." groups by all
// labels), to the webhook, and asks for resolves too.
const config = `route:
  receiver: test
  group_by: ['...']
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
  - name: test
    webhook_configs:
      - url: %q
        send_resolved: true
`

// Binary returns the path of Alertmanager. When it is missing it skips
// the test, or fails it when Env is "required".
func Binary(t testing.TB) string {
	t.Helper()
	for _, name := range Binaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("amtest: none of %v found on PATH; install Debian's prometheus-alertmanager package to run this test", Binaries)
	if os.Getenv(Env) == "required" {
		t.Fatal(msg + " (" + Env + "=required)")
	}
	t.Skip(msg)
	return ""
}

// Start starts Alertmanager on 127.0.0.1 and a free port, routing every
// alert to webhookURL, waits until it is ready and returns its base URL.
// Alertmanager is stopped when the test ends: start the webhook's server
// before calling Start, so that Alertmanager stops first.
func Start(t testing.TB, webhookURL string) (url string) {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	text := fmt.Sprintf(config, dur(GroupWait), dur(GroupInterval), dur(RepeatInterval), webhookURL)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for try := 1; ; try++ {
		url, err := start(t, bin, cfg, dir)
		if err == nil {
			return url
		}
		if try == startTries || !errors.Is(err, errExited) {
			t.Fatalf("amtest: %v", err)
		}
		t.Logf("amtest: %v; trying another port", err)
	}
}

// dur writes a duration as Alertmanager's config reads it.
func dur(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

var errExited = errors.New("alertmanager exited")

// start runs Alertmanager once and waits until it is ready; errExited
// means it stopped on its own, perhaps because another process took the
// port.
func start(t testing.TB, bin, cfg, dir string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	logFile := filepath.Join(dir, "alertmanager.log")
	log, err := os.Create(logFile)
	if err != nil {
		return "", err
	}
	defer log.Close() // the child has its own descriptor
	storage := filepath.Join(dir, "data")
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.path="+storage,
		"--web.listen-address="+addr,
		"--cluster.listen-address=", // no clustering: no gossip port, no settling wait
		"--log.level=debug",
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-exited
		}
	}
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("%w before it was ready (%s): %s", errExited, cmd.ProcessState, tail(logFile))
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := client.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("amtest: alertmanager's log:\n%s", tail(logFile))
					}
				})
				return url, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("alertmanager at %s not ready after %s: %s", url, readyTimeout, tail(logFile))
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// tail returns the end of a log file, for an error message.
func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}

// Message is the body Alertmanager's webhook receiver posts (version 4).
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"` // firing or resolved
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a webhook Message.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Webhook serves a webhook for Alertmanager on 127.0.0.1 and returns its
// URL and the messages it receives, in order. The server closes when the
// test ends.
func Webhook(t testing.TB) (url string, messages <-chan Message) {
	t.Helper()
	ch := make(chan Message, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("amtest: decoding a webhook message: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case ch <- m:
		default:
			t.Errorf("amtest: more than %d webhook messages unread", cap(ch))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}
