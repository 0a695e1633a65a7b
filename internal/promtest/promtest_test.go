package promtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const recording = `# HELP q Queries "run", with a \\ and a\nline break.
# TYPE q counter
q_total{db="a"} 1 1793836800
q_total{db="a"} 2.5 1793836860.25
q_total{db="b"} 7 1793836920
# EOF
`

func TestShiftMovesTheLatestSampleToEnd(t *testing.T) {
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := ShiftOpenMetrics(&b, []byte(recording), end); err != nil {
		t.Fatal(err)
	}
	// The latest sample was 1793836920 (2026-11-05T02:02:00Z).
	d := end.Unix() - 1793836920
	want := `# HELP q Queries "run", with a \\ and a\nline break.
# TYPE q counter
q_total{db="a"} 1 ` + itoa(1793836800+d) + `
q_total{db="a"} 2.5 ` + itoa(1793836860+d) + `.250
q_total{db="b"} 7 ` + itoa(1793836920+d) + `
# EOF
`
	// The writer escapes the quote in help text; both forms read the same.
	want = strings.Replace(want, `"run"`, `\"run\"`, 1)
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestShiftNeedsTimestamps(t *testing.T) {
	err := ShiftOpenMetrics(new(bytes.Buffer), []byte("q_total 1\n# EOF\n"), time.Now())
	if err == nil || !strings.Contains(err.Error(), "no timestamp") {
		t.Errorf("got %v, want an error about a missing timestamp", err)
	}
}

func TestSecondsWritesMilliseconds(t *testing.T) {
	for ms, want := range map[int64]string{0: "0", 1500: "1.500", 60000: "60", -1500: "-1.500", -500: "-0.500", 7: "0.007"} {
		if got := seconds(ms); got != want {
			t.Errorf("seconds(%d) = %q, want %q", ms, got, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// recorder is a testing.TB that records Skip and Fatal instead of
// stopping the test that uses it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}

func TestMissingBinariesSkipUnlessRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, tc := range []struct {
		name, env       string
		skipped, failed bool
	}{
		{"a missing server skips the test", "", true, false},
		{"a missing server fails the test when integration is required", "required", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(Env, tc.env)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Binaries(r)
			}()
			<-done
			if (r.skipped != "") != tc.skipped || (r.failed != "") != tc.failed {
				t.Errorf("skipped %q, failed %q", r.skipped, r.failed)
			}
			if msg := r.skipped + r.failed; !strings.Contains(msg, "prometheus") {
				t.Errorf("the reason %q does not name what is missing", msg)
			}
		})
	}
}

// TestStartServesTheRecording starts a real Prometheus over a recording
// shifted to end a minute ago, and queries a sample back.
func TestStartServesTheRecording(t *testing.T) {
	om := filepath.Join(t.TempDir(), "q.om")
	if err := os.WriteFile(om, []byte(recording), 0o644); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Truncate(time.Minute).Add(-time.Minute)
	base := Start(t, Shift(t, om, end))
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("url %q is not on loopback", base)
	}
	q := url.Values{"query": {`q_total{db="b"}`}, "time": {itoa(end.Unix())}}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" || len(body.Data.Result) != 1 || body.Data.Result[0].Value[1] != "7" {
		t.Errorf("got %+v, want db=b at 7", body)
	}
}
