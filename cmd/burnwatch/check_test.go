package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/service"
)

// TestCheckRefusesWhatServeRefuses writes configs whose secret files serve
// refuses when it starts, and runs both `burnwatch check` and
// service.New on each: check must fail where serve fails, naming the file,
// line and field, and pass the config serve starts with.
func TestCheckRefusesWhatServeRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	goodKey := write("pd-good.key", strings.Repeat("a", 32)+"\n")
	shortKey := write("pd-short.key", strings.Repeat("a", 31)+"\n")
	emptySecret := write("hook-empty.secret", "\n")
	goodSecret := write("hook.secret", "s3cret\n")
	config := func(pdKey, hookSecret string) string {
		return `slos:
  - name: a
    objective: 99.9
    sli: {total: x_total, errors: y_total}
receivers:
  - name: oncall
    pagerduty: {routing_key_file: ` + pdKey + `}
  - name: hook
    webhook: {url: "https://hooks.example/x", secret_file: ` + hookSecret + `}
routes:
  - match: {severity: page}
    receiver: oncall
  - receiver: hook
`
	}
	for _, tc := range []struct {
		name, config string
		want         []string // problems check prints; none: both accept it
	}{
		{"a config serve starts with passes", config(goodKey, goodSecret), nil},
		{"a routing key of 31 characters fails", config(shortKey, goodSecret),
			[]string{":7: receivers[0].pagerduty.routing_key_file: " + shortKey + " holds a key of 31 characters; a PagerDuty routing (integration) key has 32"}},
		{"a missing routing key file fails", config(filepath.Join(dir, "nope.key"), goodSecret),
			[]string{":7: receivers[0].pagerduty.routing_key_file: reading the routing key: open " + filepath.Join(dir, "nope.key") + ": no such file or directory"}},
		{"an empty webhook secret fails", config(goodKey, emptySecret),
			[]string{":9: receivers[1].webhook.secret_file: " + emptySecret + " is empty; the webhook's secret must not be"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := write("burnwatch.yaml", tc.config)
			code, stdout, stderr := runCmd(t, "", "check", file)
			svc, serveErr := service.New(context.Background(), service.Options{ConfigPath: file, StoragePath: t.TempDir()})
			if serveErr == nil {
				svc.Close()
			}
			if (code == 0) != (serveErr == nil) {
				t.Fatalf("check exit %d (%s) but serve: %v", code, stderr, serveErr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, file+w+"\n") {
					t.Errorf("missing %q in:\n%s", file+w, stderr)
				}
			}
			if tc.want == nil && !strings.Contains(stdout, "oncall       pagerduty, routing key from file "+goodKey) {
				t.Errorf("the receivers it read are not shown:\n%s", stdout)
			}
		})
	}
}

// TestCheckTakesFilesAsPromtoolDoes: `burnwatch check FILE...` checks each
// file, as `promtool check config FILE` does; --config still works; the
// exit status fails when any file does.
func TestCheckTakesFilesAsPromtoolDoes(t *testing.T) {
	good, bad := "../../testdata/config/example.yaml", "../../testdata/config/objective.bad.yaml"
	code, stdout, stderr := runCmd(t, "", "check", good, "../../testdata/config/classify.yaml")
	if code != 0 || !strings.Contains(stdout, good+": 2 SLO(s), valid") || !strings.Contains(stdout, "classify.yaml: 1 SLO(s), valid") {
		t.Errorf("two good files: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "", "check", good, bad)
	if code != 1 || !strings.Contains(stdout, good+": 2 SLO(s), valid") || !strings.Contains(stderr, bad+":9: slos[0].objective") || !strings.Contains(stderr, "1 of 2 config(s) failed") {
		t.Errorf("a good and a bad file: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runCmd(t, "", "check", bad, "--config", good)
	if code != 1 || !strings.Contains(stderr, "1 of 2 config(s) failed") {
		t.Errorf("a file and --config after it: exit %d\n%s", code, stderr)
	}
	code, stdout, _ = runCmd(t, "", "check", "--config", good)
	if code != 0 || !strings.Contains(stdout, good+": 2 SLO(s), valid") {
		t.Errorf("--config: exit %d\n%s", code, stdout)
	}
}
