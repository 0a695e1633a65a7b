package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestAgentChild is the agent run as a child process by
// TestKillAtRandomMomentsLosesAndRepeatsNothing; alone it does nothing.
func TestAgentChild(t *testing.T) {
	dir := os.Getenv("BURNWATCH_AGENT_CHILD")
	if dir == "" {
		t.Skip("run by TestKillAtRandomMomentsLosesAndRepeatsNothing")
	}
	a, err := New(Options{
		QueryLog: filepath.Join(dir, "query.log"), Dir: filepath.Join(dir, "agent"),
		Push: &PushOptions{URL: os.Getenv("BURNWATCH_AGENT_PUSH"), TokenFile: filepath.Join(dir, "token"),
			SLO: "cypher-availability", BatchLines: 5, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
		Poll:   2 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	a.Run(ctx)
}

// receiver is serve's events endpoint as the agent sees it: batches
// stored once per idempotency key. It records every batch it stored.
type receiver struct {
	mu     sync.Mutex
	bodies map[string]string
	// got sums what was stored: minute → database → counts.
	got map[int64]map[string]*Counts
	// reused lists keys sent again with another body: the agent would
	// have reused a key, and serve would refuse the batch.
	reused []string
	// n counts requests: every fifth fails before storing, as an
	// unreachable serve would. resent counts batches sent again under a
	// key already stored: a 202 the agent did not see before it was killed.
	n, resent int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	key := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n++; r.n%5 == 0 {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if prev, ok := r.bodies[key]; ok {
		if prev != string(body) {
			r.reused = append(r.reused, key)
		}
		r.resent++
		w.WriteHeader(http.StatusAccepted)
		return
	}
	r.bodies[key] = string(body)
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var l pushLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts, _ := time.Parse(time.RFC3339, l.Time)
		m := r.got[ts.UnixMilli()]
		if m == nil {
			m = map[string]*Counts{}
			r.got[ts.UnixMilli()] = m
		}
		c := m[l.Labels["database"]]
		if c == nil {
			c = &Counts{}
			m[l.Labels["database"]] = c
		}
		c.Total += l.Total
		for code, n := range l.Errors {
			if c.Errors == nil {
				c.Errors = map[string]float64{}
			}
			c.Errors[code] += n
		}
	}
	// Stored, and the answer takes a moment (longer for every third
	// batch): a kill now loses the 202, and the batch is sent again.
	if len(r.bodies)%3 == 0 {
		time.Sleep(100 * time.Millisecond)
	} else {
		time.Sleep(5 * time.Millisecond)
	}
	w.WriteHeader(http.StatusAccepted)
}

func (r *receiver) equals(model map[int64]map[string]*Counts) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return reflect.DeepEqual(r.got, model)
}

func TestKillAtRandomMomentsLosesAndRepeatsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the agent as a child process many times")
	}
	dir := t.TempDir()
	if d := os.Getenv("BURNWATCH_KEEP"); d != "" {
		dir = d
		os.RemoveAll(d)
		os.MkdirAll(d, 0o755)
	}
	os.WriteFile(filepath.Join(dir, "token"), []byte("t0ken\n"), 0o600)
	rcv := &receiver{bodies: map[string]string{}, got: map[int64]map[string]*Counts{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	l := newTestLog(t, filepath.Join(dir, "query.log"), logStart, 5)
	rnd := rand.New(rand.NewPCG(6, 7))

	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAgentChild$")
		cmd.Env = append(os.Environ(), "BURNWATCH_AGENT_CHILD="+dir, "BURNWATCH_AGENT_PUSH="+srv.URL)
		cmd.Stderr = os.Stderr
		cmd.Stdout = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	const rounds = 25
	for round := range rounds {
		l.write(20 + rnd.IntN(200))
		if rnd.IntN(3) == 0 {
			l.rotate() // in the middle of a minute, as often as not
			l.write(rnd.IntN(50))
		}
		cmd := start()
		if round == 0 {
			// The first start reads the live file from its start; the
			// files rotated before an agent ever ran are not its to read.
			// So the first run commits once before the first rotation.
			waitFor(t, "the first checkpoint", func() bool {
				_, err := os.Stat(filepath.Join(dir, "agent", stateFile))
				return err == nil
			})
		}
		// Lines keep coming while the agent runs, and it is killed at a
		// random moment: reading, spooling, committing or pushing.
		time.Sleep(time.Duration(rnd.IntN(200)) * time.Millisecond)
		l.write(rnd.IntN(100))
		time.Sleep(time.Duration(rnd.IntN(200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		cmd.Wait()
	}

	// A last run, left to finish.
	cmd := start()
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for !rcv.equals(l.model) {
		if time.Now().After(deadline) {
			rcv.mu.Lock()
			t.Fatalf("after %d kills the receiver differs from the model:\n%s", rounds, diff(rcv.got, l.model))
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	t.Logf("%d kills; %d batches stored, %d requests, %d batches sent again after a kill", rounds, len(rcv.bodies), rcv.n, rcv.resent)
	if len(rcv.reused) > 0 {
		t.Errorf("idempotency keys reused for other batches: %v", rcv.reused)
	}
	// The exporter's totals, as the state holds them, are the model's too.
	st, err := loadState(filepath.Join(dir, "agent"), true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Counts{}
	for db, c := range st.Tally.Totals {
		got[db] = *c
	}
	if want := l.totals(); !reflect.DeepEqual(got, want) {
		t.Errorf("the state's totals\n%v\nwant\n%v", got, want)
	}
}

// diff lists the minutes and databases where got and want differ.
func diff(got, want map[int64]map[string]*Counts) string {
	var b bytes.Buffer
	line := func(minute int64, db string) {
		var g, w Counts
		if c := got[minute][db]; c != nil {
			g = *c
		}
		if c := want[minute][db]; c != nil {
			w = *c
		}
		if !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "%s %s: got %v %v, want %v %v\n", time.UnixMilli(minute).UTC().Format(time.TimeOnly), db, g.Total, g.Errors, w.Total, w.Errors)
		}
	}
	for minute, dbs := range want {
		for db := range dbs {
			line(minute, db)
		}
	}
	for minute, dbs := range got {
		for db := range dbs {
			if want[minute][db] == nil {
				line(minute, db)
			}
		}
	}
	return b.String()
}
