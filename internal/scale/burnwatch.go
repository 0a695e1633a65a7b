package scale

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// module is the module whose cmd/burnwatch the harness builds.
const module = "github.com/burnwatch/burnwatch"

// FindModule returns the directory of the burnwatch module holding dir, or
// an error if dir is outside it.
func FindModule(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module "+module {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the %s module; run from its checkout or give -burnwatch", dir, module)
		}
	}
}

// buildBurnwatch builds cmd/burnwatch of the checkout at src into dir.
func buildBurnwatch(ctx context.Context, src, dir string) (string, error) {
	bin := filepath.Join(dir, "burnwatch")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/burnwatch")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/burnwatch in %s: %w\n%s", src, err, out)
	}
	return bin, nil
}

// serveConfig is burnwatch's config: the default SLO over the Prometheus
// the harness runs, pages to the webhook's /page and everything else to
// its /ticket.
func serveConfig(promURL, hookURL, secretFile string, interval time.Duration) string {
	return fmt.Sprintf(`version: 1
evaluation_interval: %s
sources:
  - name: prom
    prometheus: {url: %q, timeout: 2m}
slos:
  - name: cypher-availability
    description: Cypher queries succeed
    objective: 99.9
    window: 30d
    sli:
      total: %s
      errors: %s
      code_label: code
    group_by: [database]
    alerting:
      policy: workbook
      page: {playbook: database-unavailable}
      ticket: {playbook: error-budget-slow-burn}
receivers:
  - name: pager
    webhook: {url: %q, secret_file: %q}
  - name: tickets
    webhook: {url: %q, secret_file: %q}
routes:
  - match: {severity: page}
    receiver: pager
  - receiver: tickets
`, interval, promURL, QueriesMetric, ErrorsMetric, hookURL+"/page", secretFile, hookURL+"/ticket", secretFile)
}

// burnwatchServer is the `burnwatch serve` under measurement.
type burnwatchServer struct {
	*process
	url     string
	storage string
}

// startBurnwatch writes the config into dir and starts `bin serve` on a
// free loopback port, its state in dir/state. It does not wait for it.
func startBurnwatch(bin, dir, promURL, hookURL string, interval time.Duration) (*burnwatchServer, error) {
	secret := filepath.Join(dir, "hook.secret")
	if err := os.WriteFile(secret, []byte("scale-harness\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "burnwatch.yaml")
	if err := os.WriteFile(cfg, []byte(serveConfig(promURL, hookURL, secret, interval)), 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command(bin, "check", "--config", cfg).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("burnwatch check --config %s: %w\n%s", cfg, err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	storage := filepath.Join(dir, "state")
	p, err := startProcess("burnwatch", filepath.Join(dir, "burnwatch.log"), bin, "serve",
		"--config", cfg, "--web.listen-address", addr, "--storage.path", storage)
	if err != nil {
		return nil, err
	}
	return &burnwatchServer{p, "http://" + addr, storage}, nil
}

// waitReady polls /readyz until it answers 200, or timeout passes, and
// returns how long that took since start. On a timeout the error wraps
// errNotReady.
func (b *burnwatchServer) waitReady(ctx context.Context, start time.Time, timeout time.Duration) (time.Duration, error) {
	_, err := b.waitHTTP(ctx, b.url+"/readyz", timeout-time.Since(start))
	took := time.Since(start)
	if err != nil && !errors.Is(err, errExited) && ctx.Err() == nil {
		return took, fmt.Errorf("%w after %s", errNotReady, took.Round(time.Second))
	}
	return took, err
}

var errNotReady = errors.New("burnwatch was not ready")
