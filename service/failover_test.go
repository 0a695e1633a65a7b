package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/notify/webhook"
)

// The failover test runs two replicas as child processes (this test
// binary, re-executed) that elect a leader on one Lease, served by a fake
// Kubernetes API on loopback. Both take the same pushed events; each
// replica's clock runs failoverSpeed times faster than the wall clock, so
// that an hour of outages takes a minute. During each outage the leader is
// killed with SIGKILL at a random moment once its page is out; the webhook
// receiver must get every trigger and resolve, each alert under one
// identity, and the new leader's first delivery within 15 s of the old
// lease's expiry, as the Lease's own times and the receiver's record them.
const (
	failoverEnv   = "BURNWATCH_FAILOVER_CHILD"
	failoverSpeed = 60 // virtual seconds per real second
	// The lease's timing in the test, in real time: shorter than the
	// defaults, so that three failovers take seconds, with the default
	// retry period, which decides how soon after the expiry a standby
	// takes the lease.
	failoverLease = 6 * time.Second
	failoverRenew = 4 * time.Second
	failoverRetry = DefaultRetryPeriod
	// failoverBound is what the issue asks: the new leader sends within
	// 15 s of the lease expiring.
	failoverBound = 15 * time.Second
)

// failoverConfig pages db-N when a minute of its queries fails: a 5m
// window over a 7d budget (a factor of 40), confirmed by the last minute.
const failoverConfig = `
evaluation_interval: 1s
sources:
  - name: push
    events: {token_file: %q}
slos:
  - name: drill
    objective: 99.9
    window: 7d
    sli: {total: drill_total, errors: drill_errors_total}
    group_by: [database]
    alerting:
      policy:
        - {severity: page, budget_percent: 2, long: 5m, short: 1m}
      page: {playbook: database-unavailable}
receivers:
  - name: hook
    webhook: {url: %q, secret_file: %q, headers: {X-Replica: %s}}
routes:
  - receiver: hook
`

// failoverClock is the replicas' and the test's shared virtual clock:
// failoverSpeed times the wall clock since epoch (Unix ms), from a fixed
// virtual start.
func failoverClock(epoch int64) func() time.Time {
	start := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	return func() time.Time {
		return start.Add(time.Duration(time.Now().UnixMilli()-epoch) * time.Millisecond * failoverSpeed)
	}
}

func TestFailoverChild(t *testing.T) {
	dir := os.Getenv(failoverEnv)
	if dir == "" {
		t.Skip("runs only as the failover test's child")
	}
	epoch, _ := strconv.ParseInt(os.Getenv("BURNWATCH_FAILOVER_EPOCH"), 10, 64)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	el, err := NewLeaseElection(LeaseConfig{
		Name: "burnwatch-leader", Namespace: "bw", Identity: os.Getenv("BURNWATCH_FAILOVER_ID"),
		Kubeconfig:    os.Getenv("BURNWATCH_FAILOVER_KUBECONFIG"),
		LeaseDuration: failoverLease, RenewDeadline: failoverRenew, RetryPeriod: failoverRetry, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	svc, err := New(ctx, Options{
		ConfigPath: filepath.Join(dir, "burnwatch.yaml"), StoragePath: filepath.Join(dir, "data"),
		Logger: log, Now: failoverClock(epoch), Election: el, Console: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, svc.Handler())
	fmt.Printf("addr %s\n", ln.Addr())
	go func() {
		// The parent ends the run by closing standard input.
		io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	if err := svc.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// replica is a child process serving one replica.
type replica struct {
	id, dir, addr string
	cmd           *exec.Cmd
	stdin         io.WriteCloser
	stderr        *bytes.Buffer
	done          chan struct{}
}

func startReplica(t *testing.T, id, dir, kubeconfig string, epoch int64) *replica {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailoverChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), failoverEnv+"="+dir, "BURNWATCH_FAILOVER_ID="+id,
		"BURNWATCH_FAILOVER_KUBECONFIG="+kubeconfig, fmt.Sprintf("BURNWATCH_FAILOVER_EPOCH=%d", epoch))
	r := &replica{id: id, dir: dir, cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = r.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if r.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "addr "); ok {
			r.addr = a
			break
		}
	}
	go func() {
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(r.done)
	}()
	if r.addr == "" {
		<-r.done
		t.Fatalf("replica %s did not start: %s", id, r.stderr)
	}
	return r
}

func (r *replica) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// stop ends the replica as Kubernetes would, and waits for it.
func (r *replica) stop() {
	r.stdin.Close()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.kill()
	}
}

// delivery is one webhook POST the receiver took.
type delivery struct {
	at      time.Time // the receiver's clock
	replica string    // X-Replica: who sent it
	p       webhook.Payload
}

type hookReceiver struct {
	mu  sync.Mutex
	got []delivery
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p webhook.Payload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, delivery{at: time.Now(), replica: r.Header.Get("X-Replica"), p: p})
	h.mu.Unlock()
}

func (h *hookReceiver) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// pusher pushes each virtual minute's counts to every replica, keeping
// what a replica did not take (it was down) for when it is back, as
// burnwatch agent does.
type pusher struct {
	mu       sync.Mutex
	token    string
	replicas map[string]*replica
	backlog  map[string][]string // by replica id
	failing  map[string]bool     // databases failing now
}

func (p *pusher) push(minute time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lines []string
	for _, db := range []string{"db-1", "db-2", "db-3"} {
		errs := 0
		if p.failing[db] {
			errs = 100
		}
		lines = append(lines, fmt.Sprintf(`{"time":%q,"slo":"drill","labels":{"database":%q},"total":100,"errors":{"Neo.DatabaseError.General.UnknownError":%d}}`,
			minute.Format(time.RFC3339), db, errs))
	}
	for id, r := range p.replicas {
		batch := append(p.backlog[id], lines...)
		req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/api/v1/events", strings.NewReader(strings.Join(batch, "\n")+"\n"))
		req.Header.Set("Authorization", "Bearer "+p.token)
		client := http.Client{Timeout: 2 * time.Second}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if err != nil || resp.StatusCode != http.StatusAccepted {
			p.backlog[id] = batch
			continue
		}
		p.backlog[id] = nil
	}
}

func (p *pusher) set(id string, r *replica) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replicas[id] = r
}

func (p *pusher) fail(db string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing[db] = on
}

// failover is one kill of the leader, as the test saw it.
type failover struct {
	killed, successor string
	killedAt          time.Time
}

func TestFailoverLosesNoPage(t *testing.T) {
	if os.Getenv(failoverEnv) != "" {
		t.Skip("the child does not recurse")
	}
	if testing.Short() {
		t.Skip("runs two replicas in child processes for about two minutes")
	}
	api, kubeconfig := startLeaseAPI(t)
	hook := &hookReceiver{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	shared := t.TempDir()
	token, secret := filepath.Join(shared, "events-token"), filepath.Join(shared, "hook-secret")
	os.WriteFile(token, []byte("tok\n"), 0o600)
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	epoch := time.Now().UnixMilli()
	clock := failoverClock(epoch)

	dirs := map[string]string{}
	reps := map[string]*replica{}
	for _, id := range []string{"a", "b"} {
		dirs[id] = t.TempDir()
		writeConfig(t, dirs[id], fmt.Sprintf(failoverConfig, token, hookSrv.URL, secret, id))
		reps[id] = startReplica(t, id, dirs[id], kubeconfig, epoch)
	}
	defer func() {
		for _, r := range reps {
			r.stop()
		}
		if t.Failed() {
			for id, r := range reps {
				t.Logf("replica %s's log:\n%s", id, r.stderr)
			}
		}
	}()
	p := &pusher{token: "tok", replicas: map[string]*replica{}, backlog: map[string][]string{}, failing: map[string]bool{}}
	for id, r := range reps {
		p.set(id, r)
	}
	// Each virtual minute's counts are pushed half way through it: in
	// both stores before either evaluates the minute's end.
	stopPush := make(chan struct{})
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		for {
			now := clock()
			next := now.Truncate(time.Minute).Add(30 * time.Second)
			if !next.After(now) {
				next = next.Add(time.Minute)
			}
			select {
			case <-stopPush:
				return
			case <-time.After(next.Sub(now) / failoverSpeed):
			}
			p.push(next.Truncate(time.Minute))
		}
	}()
	defer func() {
		close(stopPush)
		<-pushed
	}()
	waitVirtual := func(d time.Duration) { time.Sleep(d / failoverSpeed) }
	waitFor := func(what string, real time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(real)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("waited %s in vain for %s; lease writes %v", real, what, api.history())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("a leader", 30*time.Second, func() bool { return api.holder() != "" })
	waitVirtual(5 * time.Minute)

	rng := rand.New(rand.NewPCG(13, uint64(epoch)))
	var failovers []failover
	for round, db := range []string{"db-1", "db-2", "db-3"} {
		p.fail(db, true)
		// Kill the leader at a random moment once its page is out.
		waitFor(db+"'s page", 30*time.Second, func() bool {
			for _, d := range hook.deliveries() {
				if d.p.Labels["database"] == db && d.p.State == "firing" {
					return true
				}
			}
			return false
		})
		waitVirtual(time.Duration(rng.IntN(5*60)) * time.Second)
		leader := api.holder()
		other := map[string]string{"a": "b", "b": "a"}[leader]
		f := failover{killed: leader, successor: other, killedAt: time.Now()}
		p.set(leader, &replica{addr: "127.0.0.1:1"}) // down: its counts wait
		reps[leader].kill()
		t.Logf("round %d: killed leader %s at virtual %s", round, leader, clock().Format(time.TimeOnly))
		waitFor("the other replica to take the lease", 30*time.Second, func() bool { return api.holder() == other })
		failovers = append(failovers, f)
		reps[leader] = startReplica(t, leader, dirs[leader], kubeconfig, epoch)
		p.set(leader, reps[leader])
		// The outage lasts 15 virtual minutes from the kill, then db
		// recovers; the next round waits for its resolve.
		waitVirtual(15 * time.Minute)
		p.fail(db, false)
		waitFor(db+"'s resolve", 30*time.Second, func() bool {
			ds := alertDeliveries(hook.deliveries(), db)
			return len(ds) > 0 && ds[len(ds)-1].p.State == "resolved"
		})
		waitVirtual(5 * time.Minute)
	}

	got := hook.deliveries()
	for _, db := range []string{"db-1", "db-2", "db-3"} {
		ds := alertDeliveries(got, db)
		ids := map[string]bool{}
		var states []string
		repeats := 0
		for _, d := range ds {
			ids[d.p.AlertID] = true
			if n := len(states); n > 0 && states[n-1] == d.p.State {
				repeats++
				continue
			}
			states = append(states, d.p.State)
		}
		if len(ids) != 1 {
			t.Errorf("%s's notifications carry %d identities, want 1: %v", db, len(ids), ids)
		}
		if s := strings.Join(states, ", "); s != "firing, resolved" {
			t.Errorf("%s: the receiver saw %q, want one incident: firing, resolved", db, s)
		}
		t.Logf("%s: %d notifications, %d of them repeats absorbed by its identity %s", db, len(ds), repeats, ds[0].p.AlertID)
	}
	writes := api.history()
	for i, f := range failovers {
		// The lease as the dead leader last wrote it, and when it expired.
		var last leaseWrite
		var acquired time.Time
		for _, w := range writes {
			if w.At.Before(f.killedAt) && w.Holder == f.killed {
				last = w
			}
			if w.At.After(f.killedAt) && w.Holder == f.successor && acquired.IsZero() {
				acquired = w.At
			}
		}
		expiry := last.Renew.Add(last.Duration)
		var first time.Time
		for _, d := range got {
			if d.replica == f.successor && d.at.After(acquired) {
				first = d.at
				break
			}
		}
		if last.Holder == "" || acquired.IsZero() || first.IsZero() {
			t.Errorf("failover %d: lease last renewed by %s %v, taken by %s at %v, first delivery %v", i, f.killed, last, f.successor, acquired, first)
			continue
		}
		took := first.Sub(expiry)
		t.Logf("failover %d: %s killed; its lease expired at %s; %s took it %s after, and delivered %s after the expiry",
			i, f.killed, expiry.Format("15:04:05.000"), f.successor, acquired.Sub(expiry).Round(time.Millisecond), took.Round(time.Millisecond))
		if took > failoverBound {
			t.Errorf("failover %d: the new leader's first delivery came %s after the lease expired, want within %s", i, took, failoverBound)
		}
	}
}

// alertDeliveries are the deliveries of db's page, in the order taken.
func alertDeliveries(all []delivery, db string) []delivery {
	var out []delivery
	for _, d := range all {
		if d.p.Labels["database"] == db && d.p.Severity == "page" {
			out = append(out, d)
		}
	}
	return out
}
