package report_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/report"
)

// chromiumTimeout bounds each Chromium run; a cold start in CI takes a few
// seconds, a hang must not take the whole test binary's timeout.
const chromiumTimeout = 60 * time.Second

// chromiumFlags run Chromium headless without a sandbox (CI runs as root in a
// container), a GPU, or any network of its own: the report must render from
// the file alone.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
}

// chromium returns the browser's path, or skips the test when it is not
// installed, unless BURNWATCH_INTEGRATION=required makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("BURNWATCH_INTEGRATION") == "required" {
			t.Fatalf("chromium is required (BURNWATCH_INTEGRATION=required) but not found: %v", err)
		}
		t.Skipf("chromium not installed (apt-get install chromium), skipping the browser check: %v", err)
	}
	return path
}

// runChromium runs Chromium on the page with the extra flags and returns its
// standard output.
func runChromium(t *testing.T, bin, dir, page string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+filepath.Join(dir, "profile"))
	args = append(append(args, extra...), "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	t.Logf("chromium %s took %v", strings.Join(extra, " "), time.Since(start).Round(time.Millisecond))
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within %v; stderr:\n%s", chromiumTimeout, stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium %s: %v; stderr:\n%s", strings.Join(extra, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

var svgClass = regexp.MustCompile(`<svg\b[^>]*\bclass="([^"]*)"`)

func TestTheHTMLReportRendersInHeadlessChromiumWithItsCharts(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "r.html")
	var b bytes.Buffer
	r := handMade()
	if err := report.WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("it renders to a PNG", func(t *testing.T) {
		shot := filepath.Join(dir, "r.png")
		runChromium(t, bin, dir, page, "--screenshot="+shot, "--window-size=1200,2000")
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v", err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("the screenshot is not a PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2000 {
			t.Errorf("screenshot is %v, want 1200×2000", b.Size())
		}
		if dst := os.Getenv("BURNWATCH_REPORT_PNG"); dst != "" { // to look at it
			data, _ := os.ReadFile(shot)
			_ = os.WriteFile(dst, data, 0o644)
		}
	})

	t.Run("its DOM has every chart", func(t *testing.T) {
		dom := runChromium(t, bin, dir, page, "--dump-dom")
		count := map[string]int{}
		for _, m := range svgClass.FindAllSubmatch(dom, -1) {
			classes := strings.Fields(string(m[1]))
			has := func(c string) bool {
				for _, x := range classes {
					if x == c {
						return true
					}
				}
				return false
			}
			switch {
			case has("chart") && has("burndown"):
				count["svg.chart.burndown"]++
			case has("chart") && has("burnrate"):
				count["svg.chart.burnrate"]++
			case has("spark"):
				count["svg.spark"]++
			}
		}
		instances := 0
		for _, s := range r.SLOs {
			instances += len(s.Instances)
		}
		want := map[string]int{
			"svg.chart.burndown": len(r.SLOs),
			"svg.chart.burnrate": len(r.SLOs),
			// one per instance in the fleet table and one in its SLO's table
			"svg.spark": 2 * instances,
		}
		for sel, n := range want {
			if count[sel] != n {
				t.Errorf("the DOM has %d %s, want %d", count[sel], sel, n)
			}
		}
		if bytes.Contains(dom, []byte("<script")) {
			t.Errorf("the DOM has a script element")
		}
	})
}
