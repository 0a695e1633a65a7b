// Package promtest starts a real Prometheus for tests, serving a recorded
// OpenMetrics file: promtool turns the file into TSDB blocks, and
// Prometheus serves them on 127.0.0.1. It uses the binaries of Debian's
// prometheus package (or any on PATH).
package promtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/testserver"
)

// Env is the environment variable that makes a missing Prometheus a test
// failure instead of a skip, when set to "required". CI sets it.
const Env = testserver.Env

const (
	// createTimeout bounds promtool's conversion of a recording.
	createTimeout = 2 * time.Minute
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
	return testserver.LookPath(t, "prometheus", "prometheus"), testserver.LookPath(t, "prometheus", "promtool")
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
	return StartConfig(t, omFile, config)
}

// StartConfig is Start with the server's own config file's text: external
// labels that mark a cluster's Prometheus, or remote_read sections that
// make it a query layer over others. omFile "" starts it without data.
func StartConfig(t testing.TB, omFile, configYAML string) (url string) {
	t.Helper()
	prometheus, promtool := Binaries(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if omFile != "" {
		ctx, cancel := context.WithTimeout(context.Background(), createTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", omFile, data).CombinedOutput()
		if err != nil {
			t.Fatalf("promtest: promtool tsdb create-blocks-from openmetrics %s: %v\n%s", omFile, err, out)
		}
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(configYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, filepath.Join(dir, "prometheus.log"), func(addr string) *exec.Cmd {
		return exec.Command(prometheus,
			"--config.file="+cfg,
			"--storage.tsdb.path="+data,
			"--storage.tsdb.retention.time="+retention,
			"--web.listen-address="+addr,
		)
	})
}
