// Package amtest starts a real Alertmanager for tests: Debian's
// prometheus-alertmanager (or an alertmanager on PATH) on 127.0.0.1, with
// clustering off, its state in the test's temporary directory, and one
// route that sends every alert to a webhook the test serves.
package amtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/testserver"
)

// Env is the environment variable that makes a missing Alertmanager a
// test failure instead of a skip, when set to "required". CI sets it.
const Env = testserver.Env

// Binaries is where Alertmanager is looked for, in order: the name of
// Debian's package, then the upstream one.
var Binaries = []string{"prometheus-alertmanager", "alertmanager"}

// Timing of the test server, each with why.
const (
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
	return testserver.LookPath(t, "prometheus-alertmanager", Binaries...)
}

// Start starts Alertmanager on 127.0.0.1 and a free port, routing every
// alert to webhookURL, waits until it is ready and returns its base URL.
// extra is appended to its configuration file: top-level sections such as
// inhibit_rules. Alertmanager is stopped when the test ends: start the
// webhook's server before calling Start, so that Alertmanager stops first.
func Start(t testing.TB, webhookURL string, extra ...string) (url string) {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	text := fmt.Sprintf(config, dur(GroupWait), dur(GroupInterval), dur(RepeatInterval), webhookURL)
	for _, e := range extra {
		text += e
	}
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, filepath.Join(dir, "alertmanager.log"), func(addr string) *exec.Cmd {
		return exec.Command(bin,
			"--config.file="+cfg,
			"--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			"--cluster.listen-address=", // no clustering: no gossip port, no settling wait
			"--log.level=debug",
		)
	})
}

// dur writes a duration as Alertmanager's config reads it.
func dur(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
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
