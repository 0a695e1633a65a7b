package service

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/notify"
)

// The crash test runs the service as a child process (this test binary,
// re-executed), drives it through an outage with a virtual clock, and
// kills it with SIGKILL at random cycles; restarted on the same storage
// each time, the transitions of all its runs together must be exactly
// those of a run that was never killed: no alert fires twice, no resolve
// goes missing.
const (
	childEnv     = "BURNWATCH_SERVICE_CHILD"
	childCycles  = 240 // two hours at 30s
	childStartMS = int64(1_793_836_800_000)
)

// childOutage says whether db-1 fails at virtual minute m: for 20 minutes
// from minute 60.
func childOutage(m int64) bool { return m >= 60 && m < 80 }

func TestServiceChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("runs only as the crash test's child")
	}
	ctx := context.Background()
	clock := childStartMS
	deliveries, err := os.OpenFile(filepath.Join(dir, "deliveries"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer deliveries.Close()
	svc, err := New(ctx, Options{
		StoragePath: dir,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Console:     io.Discard,
		// With no routes, every alert goes to the console receiver: here
		// one that appends each delivery to a file, synced, as a pager
		// would keep it.
		Receivers: map[string]notify.Receiver{"console": fileReceiver{deliveries}},
		Now:       func() time.Time { return time.UnixMilli(clock) },
		OnTransition: func(tr burnrate.Transition) {
			b, _ := tr.MarshalJSON()
			fmt.Printf("transition %s\n", b)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	first := 0
	if last := svc.LastCycle(); !last.IsZero() {
		first = int((last.UnixMilli()-childStartMS)/30_000) + 1
	}
	for i := first; i < childCycles; i++ {
		clock = childStartMS + int64(i)*30_000
		// The counts of the half minute before this cycle, pushed unless a
		// run killed after pushing left them pending.
		pending, err := svc.Store().PendingBatches(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 && i > 0 {
			minute := (clock - 30_000 - childStartMS) / 60_000
			errs := 0
			if childOutage(minute) {
				errs = 500
			}
			at := time.UnixMilli(clock - 30_000).UTC().Truncate(time.Minute).Format(time.RFC3339)
			line := fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-1"},"total":500,"errors":{"Neo.DatabaseError.General.UnknownError":%d}}`+"\n", at, errs)
			if _, err := svc.Store().AppendBatch(ctx, clock-1, []byte(line)); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.Cycle(ctx); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := svc.Deliver(ctx); err != nil {
			t.Fatalf("delivering at cycle %d: %v", i, err)
		}
		fmt.Printf("cycle %d\n", i)
	}
}

// runChild runs the child on dir; with killAt ≥ 0 it is killed by SIGKILL
// once it reports that cycle. It returns the transitions it printed.
func runChild(t *testing.T, dir string, killAt int) (transitions []string, finished bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestServiceChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if tr, ok := strings.CutPrefix(line, "transition "); ok {
			transitions = append(transitions, withoutCodes(tr))
		}
		if c, ok := strings.CutPrefix(line, "cycle "); ok {
			n, _ := strconv.Atoi(c)
			if n == childCycles-1 {
				finished = true
			}
			if n == killAt {
				cmd.Process.Kill()
				break
			}
		}
	}
	io.Copy(io.Discard, out)
	err = cmd.Wait()
	if killAt < 0 && err != nil {
		t.Fatalf("child failed: %v\n%s", err, stderr.String())
	}
	return transitions, finished
}

func TestCrashAtAnyCycleLosesNoTransition(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("the child does not recurse")
	}
	if testing.Short() {
		t.Skip("runs the service in child processes")
	}
	plain := t.TempDir()
	want, finished := runChild(t, plain, -1)
	if !finished || len(want) < 3 {
		t.Fatalf("the uninterrupted run printed %d transitions (finished %v): %q", len(want), finished, want)
	}
	b, err := os.ReadFile(filepath.Join(plain, "deliveries"))
	if err != nil {
		t.Fatal(err)
	}
	wantDeliveries := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(wantDeliveries) != len(want) {
		t.Fatalf("the uninterrupted run delivered %d notifications for %d transitions", len(wantDeliveries), len(want))
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for run := range 3 {
		t.Run(fmt.Sprint("run ", run), func(t *testing.T) {
			dir := t.TempDir()
			var got []string
			for kills := 0; ; kills++ {
				killAt := -1
				if kills < 4 {
					killAt = rng.IntN(childCycles)
				}
				trs, done := runChild(t, dir, killAt)
				got = append(got, trs...)
				if done {
					break
				}
				if kills > 20 {
					t.Fatal("the child never finished")
				}
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("with SIGKILLs the transitions were:\n%s\nwithout:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// Every notification reached the pager, in order; a kill
			// between a delivery and its record may repeat that one
			// delivery, which the dedup key makes harmless.
			b, err := os.ReadFile(filepath.Join(dir, "deliveries"))
			if err != nil {
				t.Fatal(err)
			}
			var delivered []string
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if n := len(delivered); n == 0 || delivered[n-1] != line {
					delivered = append(delivered, line)
				}
			}
			if got, want := strings.Join(delivered, "\n"), strings.Join(wantDeliveries, "\n"); got != want {
				t.Errorf("with SIGKILLs the pager got:\n%s\nwithout:\n%s", got, want)
			}
		})
	}
}

// withoutCodes drops a transition line's "codes": the codes behind an alert
// are counted over the last hour in memory only, so after a restart they
// cover the time since it; everything else must be the same.
func withoutCodes(line string) string {
	i := strings.Index(line, `,"codes":[`)
	if i < 0 {
		return line
	}
	j := strings.Index(line[i:], `],"`)
	return line[:i] + line[i+j+1:]
}

// fileReceiver appends each notification's alert, state and time to a
// file, synced before it returns: what the pager received.
type fileReceiver struct{ f *os.File }

func (r fileReceiver) Name() string { return "console" }
func (r fileReceiver) Notify(_ context.Context, n notify.Notification) (bool, error) {
	if _, err := fmt.Fprintf(r.f, "%s %s %s %s\n", n.Kind, n.AlertID, n.State, n.Time.Format(time.RFC3339)); err != nil {
		return true, err
	}
	return false, r.f.Sync()
}
