package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/version"
)

func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &o, &e)
	return code, o.String(), e.String()
}

// TestCheckCatchesEveryBadConfig runs `burnwatch check` on each bad config:
// it must exit non-zero and print every error the file expects, naming
// the file as given, the line and the field. Those of config/check are
// configs that load, and that serve would refuse when it reads the files
// they name or mishandle without a word.
func TestCheckCatchesEveryBadConfig(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/config/*.bad.yaml")
	more, _ := filepath.Glob("../../testdata/config/check/*.bad.yaml")
	files = append(files, more...)
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
		{"replay without data", []string{"replay"}, "give either --data, the recorded file to replay, or --prometheus"},
		{"replay from Prometheus without --from", []string{"replay", "--prometheus", "http://127.0.0.1:1"}, "--prometheus needs --from"},
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

// TestReplaySummaryShowsWhatDidNotPage checks standard error: a single
// tenant's syntax storm alerts no one but is in the counts and the surge
// record, and a code no rule knows is listed for someone to classify.
func TestReplaySummaryShowsWhatDidNotPage(t *testing.T) {
	tests := []struct {
		scenario string
		want     []string
	}{
		{"tenant-syntax-storm", []string{
			"errors by class: platform 0, user 173100, ignore 0",
			`cypher-availability{database="db-3"}  97500 of 1680000 (5.80%)`,
			`{database="db-3"}  2026-11-06T00:11:00Z to 2026-11-06T03:11:00Z, peak 100.0× baseline`,
		}},
		{"unknown-code", []string{
			"unclassified codes, counted as platform failures",
			"E_STORAGE_QUOTA  7500 errors in 1 series",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, "", "replay", "--data", "../../testdata/replay/"+tt.scenario+".om")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("missing %q in:\n%s", w, stderr)
				}
			}
			if strings.Contains(stdout, "replayed") {
				t.Errorf("the summary went to standard output")
			}
		})
	}
}

func TestClassifyCommand(t *testing.T) {
	in := "Neo.ClientError.Statement.SyntaxError\nNeo.ClientError.Cluster.NotALeader\nNeo.ClientError.Security.AuthenticationRateLimit\nE_STORAGE_QUOTA\ncode=40P01,database=db-1\n"
	code, stdout, stderr := runCmd(t, in, "classify")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "Neo.ClientError.Statement.SyntaxError\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
		"Neo.ClientError.Cluster.NotALeader\tplatform\tneo4j:Neo.ClientError.Cluster.NotALeader\n" +
		"Neo.ClientError.Security.AuthenticationRateLimit\tuser\tneo4j:Neo.ClientError.Security.AuthenticationRateLimit\n" +
		"E_STORAGE_QUOTA\tplatform\tdefault\n" +
		"40P01\tuser\tsqlstate:40P01\n"
	if stdout != want {
		t.Errorf("got:\n%s\nwant:\n%s", stdout, want)
	}

	// A config's rules come first and name themselves by index; its pack
	// list leaves the others out.
	code, stdout, stderr = runCmd(t, in, "classify", "--config", "../../testdata/config/classify.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want = "Neo.ClientError.Statement.SyntaxError\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
		"Neo.ClientError.Cluster.NotALeader\tplatform\tneo4j:Neo.ClientError.Cluster.NotALeader\n" +
		"Neo.ClientError.Security.AuthenticationRateLimit\tplatform\tconfig:rules[0]\n" +
		"E_STORAGE_QUOTA\tplatform\tconfig:rules[1]\n" +
		"40P01\tplatform\tdefault\n"
	if stdout != want {
		t.Errorf("with the config, got:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestReportAsksTheServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/report" || r.URL.Query().Get("week") != "2026-W47" || r.URL.Query().Get("format") != "csv" {
			http.Error(w, `{"error":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		io.WriteString(w, "slo,labels\n")
	}))
	defer srv.Close()
	dir := t.TempDir()
	code, _, stderr := runCmd(t, "", "report", "--server", srv.URL, "--week", "2026-W47", "--format", "csv", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "burnwatch-2026-W47.csv"))
	if err != nil || string(b) != "slo,labels\n" {
		t.Errorf("wrote %q, %v", b, err)
	}
	code, _, stderr = runCmd(t, "", "report", "--server", srv.URL, "--week", "2026-W01")
	if code != 1 || !strings.Contains(stderr, "400 Bad Request") {
		t.Errorf("a refusal: exit %d, %q", code, stderr)
	}
}

// TestHelpExitsZero: --help (and -h) on any command prints its usage and
// exits 0, as promtool's and amtool's do; it is no usage error.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"serve", "--help"}, {"demo", "--help"}, {"replay", "--help"}, {"check", "--help"},
		{"classify", "-h"}, {"playbooks", "--help"}, {"playbooks", "lint", "--help"}, {"report", "--help"},
		{"export", "--help"}, {"version", "--help"},
	} {
		code, stdout, stderr := runCmd(t, "", args...)
		if code != 0 || !strings.Contains(stdout+stderr, "usage") && !strings.Contains(stdout+stderr, "Usage") {
			t.Errorf("%v: exit %d; want 0 and the usage:\n%s%s", args, code, stdout, stderr)
		}
	}
}

// TestVersionPrintsWhatTheBuildStamped: version and --version print the
// version, revision, branch and build date that `make build` stamps into
// github.com/prometheus/common/version, as Prometheus's --version does.
func TestVersionPrintsWhatTheBuildStamped(t *testing.T) {
	saved := []string{version.Version, version.Revision, version.Branch, version.BuildDate}
	t.Cleanup(func() {
		version.Version, version.Revision, version.Branch, version.BuildDate = saved[0], saved[1], saved[2], saved[3]
	})
	version.Version, version.Revision, version.Branch, version.BuildDate = "1.4.0", "39eaf2823f38", "main", "20261105-02:00:00"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, stderr := runCmd(t, "", args...)
		want := "burnwatch, version 1.4.0 (branch: main, revision: 39eaf2823f38)\n  build user:"
		if code != 0 || !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "build date:       20261105-02:00:00\n") {
			t.Errorf("%v: exit %d\n%s%s\nwant it to start with %q and give the build date", args, code, stdout, stderr, want)
		}
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Version", "Revision", "Branch", "BuildDate"} {
		if !strings.Contains(string(mk), "-X $(VERSION_PKG)."+v+"=") {
			t.Errorf("the Makefile's build does not stamp version.%s", v)
		}
	}
}

// TestServeLogsEverythingInItsFormat: with --log.format json, what logs
// to slog.Default() (the PagerDuty receiver's warnings, made without a
// logger) comes out as JSON on standard error too, not through the
// standard log package.
func TestServeLogsEverythingInItsFormat(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve", "--web.listen-address", "127.0.0.1:0", "--storage.path", t.TempDir(), "--log.format", "json"}, nil, io.Discard, &stderr)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "burnwatch serving") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	slog.Default().Warn("pagerduty link left out: not an absolute http(s) URL", "receiver", "oncall")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), `{"time":`) || !strings.Contains(stderr.String(), `"level":"WARN","msg":"pagerduty link left out`) {
		t.Errorf("the default logger's warning is not JSON on standard error:\n%s", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAReplayThatReadsNothingSaysSo: a recording whose series no SLO
// selects, or that has none, is an error: "0 transitions" would read as a
// healthy fleet.
func TestAReplayThatReadsNothingSaysSo(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"series no SLO selects", "# TYPE other counter\nother_total{a=\"1\"} 1 1700000000\nother_total{a=\"1\"} 2 1700000060\n# EOF\n",
			"burnwatch replay: none of the 1 series of standard input matches an SLO's selectors, so nothing was evaluated (cypher-availability reads neo4j_queries_total and neo4j_query_errors_total, from (embedded default config))"},
		{"no series at all", "# EOF\n", "burnwatch replay: standard input has no samples: nothing to evaluate"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, tt.in, "replay", "--data", "-")
			if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, stderr, tt.want)
			}
		})
	}
}

// TestClassifyReportsABadLineAndGoesOn: a line it cannot read is reported
// on standard error with its number, the lines after it are classified,
// and the exit status says something was skipped. Series are read as
// /metrics prints them, and HTTP status classes and lowercased codes (as
// Datadog sends them) are known.
func TestClassifyReportsABadLineAndGoesOn(t *testing.T) {
	in := "Neo.ClientError.Statement.SyntaxError\n" +
		"code=1,database\n" +
		`neo4j_query_errors_total{code="Neo.ClientError.Cluster.NotALeader",database="db-1"} 12` + "\n" +
		"neo.clienterror.statement.syntaxerror\n" +
		"5xx\n"
	code, stdout, stderr := runCmd(t, in, "classify")
	want := "Neo.ClientError.Statement.SyntaxError\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
		"Neo.ClientError.Cluster.NotALeader\tplatform\tneo4j:Neo.ClientError.Cluster.NotALeader\n" +
		"neo.clienterror.statement.syntaxerror\tuser\tneo4j:Neo.ClientError.Statement.SyntaxError\n" +
		"5xx\tplatform\thttp:5xx\n"
	if code != 1 || stdout != want {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 and:\n%s", code, stdout, want)
	}
	if wantErr := "line 2: \"database\" is not a label=value pair\nburnwatch classify: 1 line(s) could not be read and were skipped\n"; stderr != wantErr {
		t.Errorf("stderr %q, want %q", stderr, wantErr)
	}
}

// TestReplayTextReadsAsTheREADMEShowsIt: `make replay` prints the outage
// as the README shows it, numbers as people write them (16.7, not 16.67 or
// 1.667e+01).
func TestReplayTextReadsAsTheREADMEShowsIt(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "2026-11-05T") {
			want.WriteString(line + "\n")
		}
	}
	code, stdout, stderr := runCmd(t, "", "replay", "--data", "../../testdata/replay/outage.om", "--output", "text")
	if code != 0 || stdout != want.String() {
		t.Errorf("exit %d, printed:\n%s\nthe README shows:\n%s%s", code, stdout, want.String(), stderr)
	}
}
