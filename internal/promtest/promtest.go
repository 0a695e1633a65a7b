// Package promtest starts a real Prometheus for tests, serving a recorded
// OpenMetrics file: promtool turns the file into TSDB blocks, and
// Prometheus serves them on 127.0.0.1. It uses the binaries of Debian's
// prometheus package (or any on PATH).
package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Env is the environment variable that makes a missing Prometheus a test
// failure instead of a skip, when set to "required". CI sets it.
const Env = "BURNWATCH_INTEGRATION"

const (
	// createTimeout bounds promtool's conversion of a recording.
	createTimeout = 2 * time.Minute
	// readyTimeout bounds the wait for /-/ready: loading a few blocks
	// takes a second or two.
	readyTimeout = 60 * time.Second
	// stopTimeout is how long Prometheus may take to stop on SIGTERM
	// before it is killed.
	stopTimeout = 10 * time.Second
	// startTries covers the race between finding a free port and
	// Prometheus binding it.
	startTries = 3
	// retention keeps every block: Prometheus deletes blocks older than
	// the retention, counted back from the newest block.
	retention = "10y"
)

// config scrapes nothing, so the server holds only the recording.
const config = "global:\n  scrape_interval: 1m\n"

// Binaries returns the paths of prometheus and promtool. When either is
// missing it skips the test, or fails it when Env is "required".
func Binaries(t testing.TB) (prometheus, promtool string) {
	t.Helper()
	var missing []string
	find := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
		}
		return p
	}
	prometheus, promtool = find("prometheus"), find("promtool")
	if len(missing) > 0 {
		msg := fmt.Sprintf("promtest: %v not found on PATH; install Debian's prometheus package to run this test", missing)
		if os.Getenv(Env) == "required" {
			t.Fatal(msg + " (" + Env + "=required)")
		}
		t.Skip(msg)
	}
	return prometheus, promtool
}

// Start turns the OpenMetrics file into TSDB blocks with `promtool tsdb
// create-blocks-from openmetrics`, starts Prometheus over them on
// 127.0.0.1 and a free port, waits until it is ready, and returns its base
// URL. Prometheus is stopped when the test ends.
//
// The server scrapes nothing and keeps blocks for ten years counted back
// from the newest sample, so any recording is served whole; to read it as
// recent data, Shift it to end now first.
func Start(t testing.TB, omFile string) (url string) {
	t.Helper()
	prometheus, promtool := Binaries(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", omFile, data).CombinedOutput()
	if err != nil {
		t.Fatalf("promtest: promtool tsdb create-blocks-from openmetrics %s: %v\n%s", omFile, err, out)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	for try := 1; ; try++ {
		url, err := start(t, prometheus, cfg, data, filepath.Join(dir, "prometheus.log"))
		if err == nil {
			return url
		}
		if try == startTries || !errors.Is(err, errExited) {
			t.Fatalf("promtest: %v", err)
		}
		t.Logf("promtest: %v; trying another port", err)
	}
}

var errExited = errors.New("prometheus exited")

// start runs Prometheus once and waits until it is ready; errExited means
// it stopped on its own, perhaps because another process took the port.
func start(t testing.TB, prometheus, cfg, data, logFile string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return "", err
	}
	defer log.Close() // the child has its own descriptor
	cmd := exec.Command(prometheus,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time="+retention,
		"--web.listen-address="+addr,
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", prometheus, err)
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
				t.Cleanup(stop)
				return url, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("prometheus at %s not ready after %s: %s", url, readyTimeout, tail(logFile))
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
