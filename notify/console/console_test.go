package console_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/internal/golden"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/console"
)

// cet is the zone the golden file is written in: a fixed one, so that the
// output does not depend on the machine's.
var cet = time.FixedZone("CET", 3600)

// demoPage is the page of the README's demo.
func demoPage() notify.Notification {
	at := time.Date(2026, 11, 5, 19, 36, 0, 0, time.UTC)
	return notify.Notification{
		AlertID: "8b711dc37281ebecf2df4a25abcc9687", Kind: "burn-rate", SLO: "cypher-availability",
		Labels: map[string]string{"database": "db-2"}, Severity: "page", State: "firing", Time: at, Onset: at,
		BurnRates:   []notify.BurnRate{{Window: "1h", Rate: 39.4}, {Window: "5m", Rate: 200}},
		Codes:       []notify.Code{{Code: "Neo.DatabaseError.General.UnknownError", Class: "platform", Count: 998}},
		PlaybookID:  "database-unavailable",
		PlaybookURL: "http://127.0.0.1:9099/playbooks/database-unavailable",
	}
}

func TestThePageReadsAsTheREADMEShowsIt(t *testing.T) {
	const want = `20:36:00  PAGE FIRING  burn-rate cypher-availability{database="db-2"}
          1h burns 39.4×, 5m burns 200×
          codes: Neo.DatabaseError.General.UnknownError (platform, 998)
          playbook: http://127.0.0.1:9099/playbooks/database-unavailable
`
	var out bytes.Buffer
	r := console.New(&out, cet)
	if retry, err := r.Notify(context.Background(), demoPage()); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestBlocksGolden(t *testing.T) {
	ticket := demoPage()
	ticket.Severity, ticket.AlertID = "ticket", "1f0e"
	ticket.BurnRates = []notify.BurnRate{{Window: "1d", Rate: 39.4}, {Window: "2h", Rate: 39.44}}
	ticket.PlaybookID, ticket.PlaybookURL = "error-budget-slow-burn", "http://127.0.0.1:9099/playbooks/error-budget-slow-burn"
	ticket.DashboardURL = "https://grafana.example/d/neo4j?var-database=db-2"

	at := demoPage().Time
	surge := notify.Notification{
		AlertID: "5c1e", Kind: "user-fault-surge", SLO: "cypher-availability", Severity: "ticket", State: "firing",
		Time: at.Add(3 * time.Minute), Onset: at.Add(3 * time.Minute), Surging: 12, Fleet: 40,
		Codes:      []notify.Code{{Code: "Neo.ClientError.Statement.SyntaxError", Class: "user", Count: 4200}, {Code: "42601", Class: "user", Count: 17.4}},
		PlaybookID: "user-fault-surge", PlaybookURL: "http://127.0.0.1:9099/playbooks/user-fault-surge",
	}
	for i := range 12 {
		surge.Instances = append(surge.Instances, map[string]string{"database": "db-" + string(rune('a'+i))})
	}
	noData := notify.Notification{
		AlertID: "9a9a", Kind: "no-data", SLO: "cypher-availability", Labels: map[string]string{"source": "prometheus"},
		Severity: "ticket", State: "firing", Time: at.Add(5 * time.Minute), PlaybookID: "burnwatch-no-data",
	}
	resolved := demoPage()
	resolved.State, resolved.Time = "resolved", at.Add(49*time.Minute+30*time.Second)
	resolved.BurnRates = []notify.BurnRate{{Window: "6h", Rate: 117.6}, {Window: "30m", Rate: 0}}

	var out bytes.Buffer
	r := console.New(&out, cet)
	for _, n := range []notify.Notification{demoPage(), ticket, surge, noData, resolved} {
		if _, err := r.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	golden.Check(t, filepath.Join("testdata", "blocks.golden"), out.Bytes())
}

// TestNumbersReadAsPeopleWriteThem: a burn rate of 1000 is "1000×", not
// "1e+03×" or "1000.0×", and a fractional count is not printed as noise.
func TestNumbersReadAsPeopleWriteThem(t *testing.T) {
	n := demoPage()
	n.BurnRates = []notify.BurnRate{{Window: "1h", Rate: 16.666666666666668}, {Window: "5m", Rate: 1000}}
	n.Codes[0].Count = 20500.000000000004
	got := string(console.Format(n, cet))
	for _, want := range []string{"1h burns 16.7×, 5m burns 1000×\n", "(platform, 20500)\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// TestTenantTextCannotForgeALineOrReachTheTerminal: a database named with
// a line break, an error code carrying ANSI escapes and a bidi override
// are shown escaped; the block keeps its own lines and nothing else.
func TestTenantTextCannotForgeALineOrReachTheTerminal(t *testing.T) {
	n := demoPage()
	n.Labels = map[string]string{"database": "db-2\n20:37:00  PAGE RESOLVED  burn-rate cypher-availability{database=\"db-2\"}"}
	n.Codes = []notify.Code{{Code: "Neo.X\n          playbook: http://evil.example/\x1b[2J\u202e", Class: "platform", Count: 3}}
	n.DashboardURL = "https://grafana.example/d/x?var-database=db-2\rRESOLVED"
	got := string(console.Format(n, cet))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want 5 (head, burn rates, codes, playbook, dashboard):\n%s", len(lines), got)
	}
	for _, bad := range []string{"\x1b", "\u202e", "\r", "evil.example/\n"} {
		if strings.Contains(got, bad) {
			t.Errorf("the block carries %q:\n%q", bad, got)
		}
	}
	for _, want := range []string{`\x1b[2J`, `\u202e`, `db-2\n20:37:00`, `db-2\rRESOLVED`} {
		if !strings.Contains(got, want) {
			t.Errorf("missing the escaped %s in:\n%s", want, got)
		}
	}
}

func TestNilLocationIsLocalTime(t *testing.T) {
	var out bytes.Buffer
	n := demoPage()
	console.New(&out, nil).Notify(context.Background(), n)
	if want := n.Time.Local().Format(time.TimeOnly) + "  PAGE FIRING"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("got %q, want it to start with %q", out.String(), want)
	}
}

// lineWriter fails the test if a write is not whole blocks.
type lineWriter struct {
	mu     sync.Mutex
	writes []string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestConcurrentNotificationsDoNotInterleave(t *testing.T) {
	w := &lineWriter{}
	r := console.New(w, cet, console.WithName("stdout"))
	if r.Name() != "stdout" {
		t.Errorf("Name() = %q, want stdout", r.Name())
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { r.Notify(context.Background(), demoPage()) })
	}
	wg.Wait()
	block := string(console.Format(demoPage(), cet))
	if len(w.writes) != 20 {
		t.Fatalf("%d writes, want 20", len(w.writes))
	}
	for _, s := range w.writes {
		if s != block {
			t.Fatalf("a write %q is not one whole block", s)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestAFailedWriteIsNotRetried(t *testing.T) {
	retry, err := console.New(failingWriter{}, cet).Notify(context.Background(), demoPage())
	if retry || err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("Notify = %v, %v; want a failure not retried", retry, err)
	}
}
