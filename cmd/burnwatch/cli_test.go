package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

// TestCheckCatchesEveryBadConfig runs `burnwatch check` on each bad config:
// it must exit non-zero and print every error the file expects, naming
// the file as given, the line and the field.
func TestCheckCatchesEveryBadConfig(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/config/*.bad.yaml")
	if len(files) == 0 {
		t.Fatal("no bad configs")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCmd(t, "", "check", "--config", f)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			for _, line := range strings.Split(string(data), "\n") {
				want, ok := strings.CutPrefix(line, "# want: ")
				if !ok {
					continue
				}
				want = filepath.Dir(f) + "/" + want
				if !strings.Contains(stderr, want+"\n") {
					t.Errorf("missing %q in:\n%s", want, stderr)
				}
			}
		})
	}
}

func TestCheckAcceptsAGoodConfig(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", "check", "--config", "../../testdata/config/example.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"2 SLO(s), valid", "page   2% of budget in 1h (short 5m): burn rate > 14.4", "ticket 10% of budget in 1w (short 12h): burn rate > 0.4"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("missing %q in:\n%s", want, stdout)
		}
	}
}

func TestReplayStopsAtAMalformedLine(t *testing.T) {
	in := "# TYPE neo4j_queries counter\nneo4j_queries_total{database=\"a\"} 1 1700000000\nneo4j_queries_total{database=\"a\"} 2 17000000x0\n# EOF\n"
	code, stdout, stderr := runCmd(t, in, "replay", "--data", "-")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if stdout != "" {
		t.Errorf("printed transitions before failing: %q", stdout)
	}
	if want := "burnwatch replay: -:3: "; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want)
	}
}

func TestReplayRejectsSamplesOutOfOrder(t *testing.T) {
	in := "neo4j_queries_total{database=\"a\"} 1 1700000060\nneo4j_queries_total{database=\"a\"} 2 1700000000\n# EOF\n"
	code, _, stderr := runCmd(t, in, "replay", "--data", "-")
	if code != 1 || !strings.Contains(stderr, "-:2: sample at 1700000000000 is older than the one before it") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestReplayReadsStandardInput(t *testing.T) {
	om, err := os.ReadFile("../../testdata/replay/outage.om")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../testdata/replay/outage.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, string(om), "replay", "--data", "-")
	if code != 0 || stdout != string(want) {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "usage: burnwatch"},
		{"an unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"replay without data", []string{"replay"}, "--data is required"},
		{"an unknown output", []string{"replay", "--data", "x.om", "--output", "yaml"}, `unknown --output "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, "", tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.want)
			}
		})
	}
}
