package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/service"
)

// replayInto loads the recorded outage into a fresh state directory with
// replay --storage.path, and returns the directory and what it printed.
func replayInto(t *testing.T) (dir, stdout string) {
	t.Helper()
	dir = t.TempDir()
	code, out, stderr := runCmd(t, "", "replay", "--data", "../../testdata/replay/outage.om", "--storage.path", dir)
	if code != 0 {
		t.Fatalf("replay --storage.path: exit %d: %s", code, stderr)
	}
	return dir, out
}

func TestReplayIntoAStatePrintsWhatReplayPrints(t *testing.T) {
	_, stored := replayInto(t)
	code, plain, stderr := runCmd(t, "", "replay", "--data", "../../testdata/replay/outage.om")
	if code != 0 {
		t.Fatal(stderr)
	}
	if stored != plain || plain == "" {
		t.Errorf("with --storage.path replay printed\n%s\nwithout\n%s", stored, plain)
	}
	// A second load into the same state would count the outage twice.
	dir, _ := replayInto(t)
	code, _, stderr = runCmd(t, "", "replay", "--data", "../../testdata/replay/outage.om", "--storage.path", dir)
	if code == 0 || !strings.Contains(stderr, "empty --storage.path") {
		t.Errorf("a second load: exit %d: %s", code, stderr)
	}
}

func TestExportFromAState(t *testing.T) {
	dir, _ := replayInto(t)
	window := []string{"--storage.path", dir, "--from", "2026-11-05T02:00:00Z", "--to", "2026-11-05T02:20:00Z", "--margin", "10m"}

	t.Run("json holds the minutes, which sum to the impact", func(t *testing.T) {
		code, out, stderr := runCmd(t, "", append([]string{"export"}, window...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var doc struct {
			Instances []struct {
				Labels  map[string]string
				Minutes []struct{ Valid, Bad float64 }
				Impact  struct{ Bad float64 }
			}
			Timeline []struct{ Event string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%.500s", err, out)
		}
		if len(doc.Instances) != 1 || len(doc.Instances[0].Minutes) != 40 {
			t.Fatalf("%+v, want db-1 with 40 minutes", doc.Instances)
		}
		bad := 0.0
		for _, m := range doc.Instances[0].Minutes {
			bad += m.Bad
		}
		if bad != 20_000 || doc.Instances[0].Impact.Bad != 20_000 {
			t.Errorf("the minutes' failures add up to %v, the impact says %v; want 20000", bad, doc.Instances[0].Impact.Bad)
		}
		if len(doc.Timeline) != 2 || doc.Timeline[0].Event != "fired" {
			t.Errorf("timeline %+v, want the page and the ticket firing at 02:01", doc.Timeline)
		}
	})
	t.Run("csv with --out writes the minutes and the timeline", func(t *testing.T) {
		out := t.TempDir()
		code, _, stderr := runCmd(t, "", append([]string{"export", "--format", "csv", "--out", out}, window...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		rows := readCSV(t, filepath.Join(out, "burnwatch-export-20261105T0200Z-minutes.csv"))
		if len(rows) != 41 || strings.Join(rows[0][:5], ",") != "slo,labels,time,valid,bad" || rows[0][5] != "burn_5m" {
			t.Errorf("%d rows, header %v; want a header and 40 minutes", len(rows), rows[0])
		}
		if tl := readCSV(t, filepath.Join(out, "burnwatch-export-20261105T0200Z-timeline.csv")); len(tl) != 3 || tl[1][1] != "fired" {
			t.Errorf("timeline %v", tl)
		}
	})
	t.Run("md is a postmortem's impact and timeline", func(t *testing.T) {
		code, out, stderr := runCmd(t, "", append([]string{"export", "--format", "md"}, window...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, want := range []string{"## Impact", `{database="db-1"} | 20000 | 20000 |`, "## Timeline", "| fired | page burn-rate"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in\n%s", want, out)
			}
		}
	})
	t.Run("mistakes are told", func(t *testing.T) {
		for _, c := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"no window", []string{"export", "--storage.path", dir}, 2, "--from and --to are required"},
			{"a bad time", []string{"export", "--storage.path", dir, "--from", "yesterday", "--to", "2026-11-05"}, 2, `--from "yesterday": want RFC 3339`},
			{"a bad format", append([]string{"export", "--format", "xml"}, window...), 2, `format "xml" is not an export format`},
			{"a bad match", append([]string{"export", "--match", "db-1"}, window...), 2, `match "db-1": want label=value`},
			{"no state there", []string{"export", "--storage.path", t.TempDir(), "--from", "2026-11-05", "--to", "2026-11-06"}, 1, "no burnwatch state in"},
			{"an SLO that is not", append([]string{"export", "--slo", "nope"}, window...), 1, `no SLO is named "nope"`},
		} {
			code, _, stderr := runCmd(t, "", c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("%s: exit %d, %q; want exit %d and %q", c.name, code, stderr, c.code, c.want)
			}
		}
	})
}

func TestReportFromAState(t *testing.T) {
	dir, _ := replayInto(t)
	code, out, stderr := runCmd(t, "", "report", "--storage.path", dir, "--from", "2026-11-05", "--to", "2026-11-06", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		SLOs []struct {
			BurnedMinutes float64 `json:"burned_minutes"`
			Codes         []struct{ Count float64 }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.SLOs) != 1 {
		t.Fatalf("%v: %.300s", err, out)
	}
	// 20 minutes of full outage for the one database, in a day.
	if s := r.SLOs[0]; s.BurnedMinutes != 20 || len(s.Codes) != 1 || s.Codes[0].Count != 20_000 {
		t.Errorf("the day's report: %+v", s)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestExportAndReportAskARunningServe: --server gets what reading the
// state gives.
func TestExportAndReportAskARunningServe(t *testing.T) {
	dir, _ := replayInto(t)
	svc, err := service.New(context.Background(), service.Options{StoragePath: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if err := svc.EnsureTokens(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()
	window := []string{"--from", "2026-11-05T02:00:00Z", "--to", "2026-11-05T02:20:00Z", "--format", "csv"}
	// serve's API wants credentials: without them, a 401 and what to give.
	code, _, stderr := runCmd(t, "", append([]string{"export", "--server", srv.URL}, window...)...)
	if code != 1 || !strings.Contains(stderr, "401 Unauthorized") || !strings.Contains(stderr, "--bearer-token-file") {
		t.Errorf("export --server without a token: exit %d %s", code, stderr)
	}
	auth := []string{"--bearer-token-file", svc.APITokenFile()}
	_, asked, stderr := runCmd(t, "", append(append([]string{"export", "--server", srv.URL}, auth...), window...)...)
	// The running serve holds the lock; the state is read beside it.
	_, read, stderr2 := runCmd(t, "", append([]string{"export", "--storage.path", dir}, window...)...)
	if asked != read || !strings.Contains(asked, "2026-11-05T02:01:00Z,1000,1000") {
		t.Errorf("asked:\n%.300s\n%s\nread:\n%.300s\n%s", asked, stderr, read, stderr2)
	}
	code, rep, stderr := runCmd(t, "", append([]string{"report", "--server", srv.URL, "--from", "2026-11-05", "--to", "2026-11-06", "--format", "csv"}, auth...)...)
	if code != 0 || !strings.HasPrefix(rep, "slo,labels,sli_week") || !strings.Contains(rep, `{database=""db-1""}`) {
		t.Errorf("report --server: exit %d %s\n%s", code, stderr, rep)
	}
}
