package main

import (
	"math"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/promtest"
	"github.com/burnwatch/burnwatch/source"
)

// TestReplayFromPrometheusMatchesTheFile loads scenario recordings, shifted
// to end a minute ago, into a real Prometheus (Debian's, started on
// loopback), and checks that `replay --prometheus` over the recording's
// range prints exactly what `replay --data` of the file prints.
func TestReplayFromPrometheusMatchesTheFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus servers")
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	for _, name := range []string{"outage", "two-instances", "counter-reset", "unknown-code", "fleet-syntax-surge"} {
		t.Run(name, func(t *testing.T) {
			om := promtest.Shift(t, "../../testdata/replay/"+name+".om", end)
			url := promtest.Start(t, om)
			first, last := span(t, om)

			code, want, stderr := runCmd(t, "", "replay", "--data", om)
			if code != 0 {
				t.Fatalf("replay --data exited %d: %s", code, stderr)
			}
			if want == "" && name != "tenant-syntax-storm" {
				t.Fatalf("the file replay printed nothing")
			}
			from := time.UnixMilli(first).UTC().Add(-time.Second).Format(time.RFC3339)
			to := time.UnixMilli(last).UTC().Format(time.RFC3339)
			code, got, stderr := runCmd(t, "", "replay", "--prometheus", url, "--from", from, "--to", to)
			if code != 0 {
				t.Fatalf("replay --prometheus exited %d: %s", code, stderr)
			}
			if got != want {
				t.Errorf("replay --prometheus printed:\n%s\nreplay --data printed:\n%s", got, want)
			}
		})
	}
}

// span returns the first and last sample times of a recording.
func span(t *testing.T, om string) (first, last int64) {
	t.Helper()
	r, err := source.Open(om, nil, source.OpenMetrics)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first, last = math.MaxInt64, math.MinInt64
	for r.Next() {
		ts, _ := r.At()
		first, last = min(first, ts), max(last, ts)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return first, last
}

// TestReplayFromPrometheusIncludesFrom checks that --from is inclusive:
// a replay from the time of the recording's first sample reads that
// sample, and prints what the file replay prints.
func TestReplayFromPrometheusIncludesFrom(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	for _, name := range []string{"outage", "counter-reset", "unknown-code"} {
		t.Run(name, func(t *testing.T) {
			om := promtest.Shift(t, "../../testdata/replay/"+name+".om", end)
			url := promtest.Start(t, om)
			first, last := span(t, om)
			if first%1000 != 0 {
				t.Fatalf("the first sample is at %d ms, not on a second that --from can name", first)
			}
			code, want, stderr := runCmd(t, "", "replay", "--data", om)
			if code != 0 {
				t.Fatalf("replay --data exited %d: %s", code, stderr)
			}
			from := time.UnixMilli(first).UTC().Format(time.RFC3339)
			to := time.UnixMilli(last).UTC().Format(time.RFC3339)
			code, got, stderr := runCmd(t, "", "replay", "--prometheus", url, "--from", from, "--to", to)
			if code != 0 {
				t.Fatalf("replay --prometheus exited %d: %s", code, stderr)
			}
			if got != want {
				t.Errorf("replay --prometheus --from %s printed:\n%s\nreplay --data printed:\n%s", from, got, want)
			}
		})
	}
}
