package store

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv, when set, makes TestCrashChild the child of a crash test:
// its value is the state file to write.
const crashChildEnv = "BURNWATCH_STORE_CRASH_CHILD"

// crashGen is what the child commits: snapshot cycles of ~1.5 MB every 4
// cycles among small ones, so that kills land in both.
var crashGen = gen{instances: 200, series: 400, alerts: 25, snapEvery: 4, blob: 7_500}

// TestCrashChild is not a test by itself: it is the process a crash test
// starts and kills. It resumes after the last committed cycle and commits
// cycles for ever, consuming the batch pushed after the cycle before, and
// prints "committed N" once Commit has returned for cycle N.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("only run as the child of TestCrashSafety")
	}
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	st, err := db.Load(ctx)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n := (st.LastCycle - t0) / cycleInterval
	if st.LastCycle == 0 {
		n = 0
	}
	for {
		n++
		c := crashGen.cycle(n)
		pending, err := db.PendingBatches(ctx)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		for _, b := range pending {
			c.Consumed = append(c.Consumed, b.ID)
		}
		if err := db.Commit(ctx, c); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		// Unbuffered: the line is in the pipe before the next cycle starts.
		fmt.Printf("committed %d\n", n)
		if _, err := db.AppendBatch(ctx, cycleTime(n), batchBody(n)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
	}
}

func batchBody(n int64) []byte { return fmt.Appendf(nil, `{"cycle":%d}`+"\n", n) }

// TestCrashSafety kills a process that commits cycles with SIGKILL, at
// points chosen by seeded random counts, restarts it on the same file a few
// times, and checks after each kill that the file is intact and holds exactly
// the cycles committed: the last one reported, or at most one more.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x6275726e))
			path := filepath.Join(t.TempDir(), "burnwatch.db")
			var last int64 // the last cycle the file holds
			for kill := range 3 {
				lines := 1 + rng.IntN(12)
				delay := time.Duration(rng.IntN(40_000)) * time.Microsecond
				reported := runAndKill(t, path, lines, delay)
				if reported < last+int64(lines) {
					t.Fatalf("kill %d: the child reported cycle %d, want at least %d", kill, reported, last+int64(lines))
				}
				last = checkAfterCrash(t, path, reported)
				t.Logf("kill %d after %d lines + %v: reported %d, file holds %d", kill, lines, delay, reported, last)
			}

			// The parent can take over and commit the next cycle.
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			next := crashGen.cycle(last + 1)
			pending, err := db.PendingBatches(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range pending {
				next.Consumed = append(next.Consumed, b.ID)
			}
			if err := db.Commit(context.Background(), next); err != nil {
				t.Fatalf("committing cycle %d after the crashes: %v", last+1, err)
			}
			modelAfter(crashGen, last+1).check(t, db)
		})
	}
}

// runAndKill starts the child on path, kills it with SIGKILL once it has
// reported lines cycles and delay has passed, and returns the last cycle it
// reported, reading what it wrote up to its death.
func runAndKill(t *testing.T, path string, lines int, delay time.Duration) int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer watchdog.Stop()

	var reported int64
	scan := bufio.NewScanner(out)
	read := func() bool {
		for scan.Scan() {
			line := scan.Text()
			if n, ok := strings.CutPrefix(line, "committed "); ok {
				v, err := strconv.ParseInt(n, 10, 64)
				if err != nil {
					t.Errorf("child wrote %q", line)
					return false
				}
				reported = v
				return true
			}
			if strings.HasPrefix(line, "error") {
				t.Errorf("child: %s", line)
			}
		}
		return false
	}
	for range lines {
		if !read() {
			cmd.Wait()
			t.Fatalf("the child ended before reporting %d cycles", lines)
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for read() { // the lines still in the pipe were committed too
	}
	io.Copy(io.Discard, out)
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child ended with %v, want killed", err)
	}
	return reported
}

// checkAfterCrash opens the file the child was killed on and checks it
// against the model; it returns the number of the last cycle it holds.
func checkAfterCrash(t *testing.T, path string, reported int64) int64 {
	t.Helper()
	ctx := context.Background()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	var integrity string
	if err := db.w.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	var fkProblems int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&fkProblems); err != nil || fkProblems != 0 {
		t.Fatalf("foreign_key_check: %d problems, %v", fkProblems, err)
	}

	st, err := db.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := (st.LastCycle - t0) / cycleInterval
	if st.LastCycle != cycleTime(last) || last < reported || last > reported+1 {
		t.Fatalf("the file holds cycle %d (time %d); the child reported %d committed, so want %d or %d",
			last, st.LastCycle, reported, reported, reported+1)
	}
	modelAfter(crashGen, last).check(t, db)

	// Pushed batches: all consumed but the one pushed after the last cycle,
	// if the child lived to push it.
	pending, err := db.PendingBatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) > 1 || len(pending) == 1 && string(pending[0].NDJSON) != string(batchBody(last)) {
		t.Fatalf("after cycle %d, pending batches %+v, want at most the one pushed after it", last, pending)
	}
	if t.Failed() {
		t.FailNow()
	}
	return last
}
