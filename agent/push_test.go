package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/service"
	"github.com/burnwatch/burnwatch/slo"
)

// liveServe is a burnwatch serve on loopback with the embedded default
// config and a virtual clock, which the test can stop and start again on
// the same address and state.
type liveServe struct {
	t     *testing.T
	dir   string
	addr  string
	clock time.Time
	svc   *service.Service
	srv   *http.Server
}

func (s *liveServe) start() {
	s.t.Helper()
	svc, err := service.New(context.Background(), service.Options{
		StoragePath: s.dir,
		Logger:      slog.New(slog.DiscardHandler),
		Now:         func() time.Time { return s.clock },
		Console:     io.Discard,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := svc.EnsureEventsToken(); err != nil {
		s.t.Fatal(err)
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.svc, s.srv = svc, &http.Server{Handler: svc.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
}

func (s *liveServe) stop() {
	s.t.Helper()
	s.srv.Close()
	if err := s.svc.Close(); err != nil {
		s.t.Fatal(err)
	}
	s.svc = nil
}

// counted runs a cycle and returns what serve counted per database over
// the SLO's period: total, user and platform events.
func (s *liveServe) counted() map[string][3]float64 {
	s.t.Helper()
	if err := s.svc.Cycle(context.Background()); err != nil {
		s.t.Fatal(err)
	}
	d, ok := s.svc.SLO("cypher-availability")
	if !ok {
		s.t.Fatal("no SLO cypher-availability")
	}
	out := map[string][3]float64{}
	for _, in := range d.All {
		out[in.Labels["database"]] = [3]float64{float64(in.Events.Total), float64(in.Events.User), float64(in.Events.Platform)}
	}
	return out
}

// expected is what serve should count of the model: totals, and failures
// split by the default classifier.
func expected(t *testing.T, l *testLog) map[string][3]float64 {
	t.Helper()
	cfg, err := slo.LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfg.Classifier()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]float64{}
	for db, n := range l.totals() {
		e := [3]float64{n.Total, 0, 0}
		for code, k := range n.Errors {
			if c.Classify(code, labels.EmptyLabels()).Class == classify.User {
				e[1] += k
			} else {
				e[2] += k
			}
		}
		out[db] = e
	}
	return out
}

// waitFor polls cond until it holds or the test's time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPushToARealServeStoppedAndRestartedInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	s := &liveServe{t: t, dir: filepath.Join(dir, "serve"), clock: logStart.Add(3 * time.Hour)}
	s.start()
	defer func() {
		if s.svc != nil {
			s.stop()
		}
	}()
	l := newTestLog(t, filepath.Join(dir, "query.log"), logStart, 4)
	l.write(400)

	a, err := New(Options{
		QueryLog: l.path, Dir: filepath.Join(dir, "agent"),
		Push: &PushOptions{URL: "http://" + s.addr, TokenFile: s.svc.EventsTokenFile(), SLO: "cypher-availability",
			BatchLines: 7, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		Now:  func() time.Time { return logStart.Add(2 * time.Hour) },
		Poll: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	defer func() { cancel(); <-ran }()
	empty := func() bool { n, _ := a.spool.size(); return n == 0 && a.committed.Load() > 1 }
	waitFor(t, "the first minutes to be pushed", empty)

	// serve goes away; the agent goes on reading and spools.
	s.stop()
	l.write(300)
	l.rotate()
	l.write(300)
	waitFor(t, "the spool to hold the minutes serve missed", func() bool { n, _ := a.spool.size(); return n > 3 })

	// serve comes back on the same address and state: the spool drains.
	s.start()
	waitFor(t, "the spool to drain", empty)
	if got, want := s.counted(), expected(t, l); !equalCounts(got, want) {
		t.Errorf("serve counted\n%v\nwant every query once\n%v", got, want)
	}
	if n := testutil.ToFloat64(a.m.pushes.WithLabelValues("retry")); n == 0 {
		t.Errorf("no push was retried, so serve's absence was not tested")
	}
}

func equalCounts(a, b map[string][3]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
