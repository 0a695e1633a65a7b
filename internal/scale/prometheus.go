package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// prometheusReadyTimeout bounds Prometheus's start: opening the blocks of
// 30 days of a large fleet takes some seconds.
const prometheusReadyTimeout = 5 * time.Minute

// promServer is the Prometheus the harness runs over the history.
type promServer struct {
	*process
	url string
}

// startPrometheus runs bin over dataDir on a free loopback port, scraping
// target every scrape interval with honor_labels, and waits until it is
// ready.
//
// Its compaction is off (minimum and maximum block duration 2h, as under
// a Thanos sidecar): the blocks the harness wrote are served as written,
// and Prometheus spends no CPU merging them while it is measured. The
// retention keeps everything; queries may run for 10 minutes, enough to
// read every sample of a large history once.
func startPrometheus(ctx context.Context, bin, dir, dataDir, target string, scrape time.Duration) (*promServer, error) {
	cfg := filepath.Join(dir, "prometheus.yml")
	s := strconv.FormatInt(int64(scrape/time.Second), 10) + "s"
	conf := "global:\n  scrape_interval: " + s + "\n  scrape_timeout: " + s + "\n" +
		"scrape_configs:\n  - job_name: fleet\n    honor_labels: true\n" +
		"    static_configs: [{targets: [\"" + target + "\"]}]\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // another process may take the free port first
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		p, err := startProcess("prometheus", filepath.Join(dir, "prometheus.log"), bin,
			"--config.file="+cfg,
			"--storage.tsdb.path="+dataDir,
			"--storage.tsdb.retention.time=10y",
			"--storage.tsdb.min-block-duration=2h",
			"--storage.tsdb.max-block-duration=2h",
			"--query.timeout=10m",
			"--web.listen-address="+addr,
		)
		if err != nil {
			return nil, err
		}
		srv := &promServer{p, "http://" + addr}
		if _, lastErr = p.waitHTTP(ctx, srv.url+"/-/ready", prometheusReadyTimeout); lastErr == nil {
			return srv, nil
		}
		p.Stop()
	}
	return nil, lastErr
}

// query runs an instant PromQL query at ts and returns the first value of
// its result (0 for an empty one) and how long the request took.
func (p *promServer) query(ctx context.Context, q string, ts time.Time) (float64, time.Duration, error) {
	form := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)}}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	took := time.Since(start)
	if err != nil {
		return 0, took, fmt.Errorf("query %s: %w", q, err)
	}
	if body.Status != "success" {
		return 0, took, fmt.Errorf("query %s: %s", q, body.Error)
	}
	if len(body.Data.Result) == 0 {
		return 0, took, nil
	}
	v, _ := body.Data.Result[0].Value[1].(string)
	f, err := strconv.ParseFloat(v, 64)
	return f, took, err
}

// prometheusVersion is the first line of `prometheus --version`.
func prometheusVersion(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}
