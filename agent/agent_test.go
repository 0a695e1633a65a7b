package agent

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// logStart is the first query's time in the test logs.
var logStart = time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)

// newTestAgent opens an agent on dir and logPath with a fixed clock well
// after the log's queries, its metrics in a registry of its own.
func newTestAgent(t *testing.T, dir, logPath string, push *PushOptions) (*Agent, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := New(Options{QueryLog: logPath, Dir: dir, Push: push, Registerer: reg,
		Now: func() time.Time { return logStart.Add(24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(a.Collector())
	t.Cleanup(func() { a.Close() })
	return a, reg
}

// scrape reads /metrics as Prometheus would and parses it back with the
// Prometheus text parser, returning the exporter's counters by database.
func scrape(t *testing.T, reg *prometheus.Registry) (map[string]Counts, string) {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the exporter's output does not parse: %v\n%s", err, body)
	}
	got := map[string]Counts{}
	for _, m := range fams[QueriesMetric].GetMetric() {
		db := labelValue(m.GetLabel(), "database")
		c := got[db]
		c.Total = m.GetCounter().GetValue()
		got[db] = c
	}
	for _, m := range fams[ErrorsMetric].GetMetric() {
		db := labelValue(m.GetLabel(), "database")
		c := got[db]
		if c.Errors == nil {
			c.Errors = map[string]float64{}
		}
		c.Errors[labelValue(m.GetLabel(), CodeLabel)] = m.GetCounter().GetValue()
		got[db] = c
	}
	if fams[QueriesMetric].GetType().String() != "COUNTER" || fams[ErrorsMetric].GetType().String() != "COUNTER" {
		t.Errorf("the exporter's metrics are not counters:\n%s", body)
	}
	return got, string(body)
}

func TestExporterOutputParsesBackToTheLogsCounts(t *testing.T) {
	dir := t.TempDir()
	l := newTestLog(t, filepath.Join(dir, "query.log"), logStart, 1)
	l.write(300)
	a, reg := newTestAgent(t, filepath.Join(dir, "agent"), l.path, nil)
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	got, body := scrape(t, reg)
	if want := l.totals(); !reflect.DeepEqual(got, want) {
		t.Errorf("scraped\n%v\nwant\n%v", got, want)
	}
	for _, name := range []string{"burnwatch_agent_log_lines_total", "burnwatch_agent_checkpoints_total", "burnwatch_agent_log_rotations_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("the agent's own %s is not served", name)
		}
	}
}

func TestCountsGoOnFromTheCheckpointAfterARestart(t *testing.T) {
	dir := t.TempDir()
	l := newTestLog(t, filepath.Join(dir, "query.log"), logStart, 2)
	l.write(100)
	a, _ := newTestAgent(t, filepath.Join(dir, "agent"), l.path, nil)
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// While the agent is down: more queries, a rotation in the middle of
	// a minute, more queries.
	l.write(50)
	l.rotate()
	l.write(70)
	a2, reg := newTestAgent(t, filepath.Join(dir, "agent"), l.path, nil)
	if err := a2.Step(); err != nil {
		t.Fatal(err)
	}
	if got, _ := scrape(t, reg); !reflect.DeepEqual(got, l.totals()) {
		t.Errorf("after a restart scraped\n%v\nwant every query once\n%v", got, l.totals())
	}
}

func TestMinutesAreSpooledWhenCompleteAndLateEntriesFollow(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "query.log")
	now := time.Date(2026, 11, 5, 10, 2, 5, 0, time.UTC)
	push := &PushOptions{URL: "http://127.0.0.1:1", TokenFile: "unused", SLO: "cypher-availability"}
	a, err := New(Options{QueryLog: logPath, Dir: filepath.Join(dir, "agent"), Push: push, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	line := func(ts, db, code string) string {
		m := map[string]any{"time": ts, "type": "query", "event": "success", "database": db}
		if code != "" {
			m["event"], m["errorInfo"] = "fail", map[string]string{"GQLSTATUS": code}
		}
		return jsonLine(t, m)
	}
	os.WriteFile(logPath, []byte(
		line("2026-11-05 10:00:10.000+0000", "db-1", "")+
			line("2026-11-05 10:00:50.000+0000", "db-1", "42N62")+
			line("2026-11-05 10:01:30.000+0000", "db-2", "")+
			line("2026-11-05 10:02:01.000+0000", "db-1", "")), 0o644)
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	// At 10:02:05 with a 10s grace, minute 10:00 is complete, 10:01 is too
	// (it ended at 10:02:00, 5s ago: still in the grace), 10:02 is not.
	if got := spooled(t, a); !reflect.DeepEqual(got, []string{
		`{"time":"2026-11-05T10:00:00Z","slo":"cypher-availability","labels":{"database":"db-1"},"total":2,"errors":{"42N62":1}}`,
	}) {
		t.Errorf("at 10:02:05 spooled %q", got)
	}
	now = now.Add(10 * time.Second)
	// A late entry of minute 10:00, written after it was spooled.
	f, _ := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(line("2026-11-05 10:00:59.000+0000", "db-1", "51N66"))
	f.Close()
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	if got := spooled(t, a); !reflect.DeepEqual(got[1:], []string{
		`{"time":"2026-11-05T10:00:00Z","slo":"cypher-availability","labels":{"database":"db-1"},"total":1,"errors":{"51N66":1}}`,
		`{"time":"2026-11-05T10:01:00Z","slo":"cypher-availability","labels":{"database":"db-2"},"total":1}`,
	}) {
		t.Errorf("at 10:02:15 spooled %q: want the late entry as a further line of its minute, then 10:01", got)
	}
}

// spooled returns every line of the spool's committed batches, in order.
func spooled(t *testing.T, a *Agent) []string {
	t.Helper()
	var lines []string
	for _, seq := range a.spool.seqs {
		b, err := os.ReadFile(filepath.Join(a.spool.dir, spoolName(seq)))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	return lines
}

func TestNoTenantDataLeavesTheAgent(t *testing.T) {
	dir := t.TempDir()
	l := newTestLog(t, filepath.Join(dir, "query.log"), logStart, 3)
	l.write(200)
	push := &PushOptions{URL: "http://127.0.0.1:1", TokenFile: "unused", SLO: "cypher-availability"}
	a, reg := newTestAgent(t, filepath.Join(dir, "agent"), l.path, push)
	if err := a.Step(); err != nil {
		t.Fatal(err)
	}
	_, body := scrape(t, reg)
	if !strings.Contains(body, "db-1") {
		t.Fatalf("nothing was counted, so the test proves nothing:\n%s", body)
	}
	out := body
	// Everything the agent writes: its state, its spool (what it pushes).
	filepath.Walk(filepath.Join(dir, "agent"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			out += string(b)
		}
		return nil
	})
	if len(spooled(t, a)) == 0 {
		t.Fatalf("nothing was spooled, so the test proves nothing")
	}
	for _, leak := range []string{secret, "password", "MATCH", "user-", "statusDescription", "10.1.2.3"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q left the agent", leak)
		}
	}
}

// labelValue returns the value of a metric's label.
func labelValue[L interface {
	GetName() string
	GetValue() string
}](ls []L, name string) string {
	for _, l := range ls {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
