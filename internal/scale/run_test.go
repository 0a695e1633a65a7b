package scale

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/testserver"
)

// TestHarnessEndToEnd runs the whole harness at a tiny size — 20
// databases × 1 day, two 5s cycles — against a real Prometheus and the
// burnwatch of this checkout, and checks that every stage produced its
// figures: the history read back whole, ready, cycles measured, the
// injected failure paged. It asserts no timing.
func TestHarnessEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and burnwatch for about two minutes")
	}
	prometheus := testserver.LookPath(t, "prometheus", "prometheus")
	wd, _ := os.Getwd()
	src, err := FindModule(wd)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{
		Databases: 20, Days: 1, Seed: 3,
		CacheDir: t.TempDir(), CacheMaxAge: time.Hour,
		Cycles: 2, Interval: 5 * time.Second,
		ReadyTimeout: 3 * time.Minute, PageTimeout: 4 * time.Minute,
		Fail: 1, Baseline: 2 * time.Second, Reference: true, Rules: true,
		Source: src, Prometheus: prometheus,
		WorkDir: t.TempDir(),
		Log:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	var table bytes.Buffer
	if res != nil {
		res.WriteTable(&table)
	}
	t.Logf("harness output:\n%s", table.String())
	if err != nil || len(res.Errors) > 0 {
		t.Fatalf("run failed: %v %v\nlog:\n%s", err, res.Errors, logs.String())
	}

	if want := int64(3 * 20 * 24 * 240); res.History.Samples < want {
		t.Errorf("the history holds %d samples, want at least a day's %d", res.History.Samples, want)
	}
	if res.Reference.Counted != res.History.Samples {
		t.Errorf("Prometheus counted %d samples of the history, want the %d written", res.Reference.Counted, res.History.Samples)
	}
	if res.Reference.RulesSeconds == nil {
		t.Error("the recording rules were not measured")
	}
	if res.History.SeriesAcrossEnd != 60 {
		t.Errorf("%d series across the history's end, want 60", res.History.SeriesAcrossEnd)
	}
	if res.FirstStart.ReadySeconds == nil {
		t.Error("no time to ready")
	}
	if s := res.Steady; s == nil || s.Cycles < 2 || s.Instances != 20 || s.WallPerCycle == nil || s.RSSBytes == 0 {
		t.Errorf("steady cycles not measured: %+v", s)
	}
	if p := res.Page; p == nil || p.DelaySeconds == nil || p.Paged != 1 {
		t.Errorf("the injected failure did not page: %+v", p)
	}
	for _, want := range []string{"first start: time to ready", "delay to the page", "stage read"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %q", want)
		}
	}
}
