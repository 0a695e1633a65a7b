// Package testserver runs the real servers the integration tests need
// (Prometheus, Alertmanager, from Debian's packages) on 127.0.0.1: it finds
// their binaries, starts them on a free port, waits until they are ready
// and stops them when the test ends.
package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Env is the environment variable that makes a missing server a test
// failure instead of a skip, when set to "required". CI sets it.
const Env = "BURNWATCH_INTEGRATION"

const (
	// readyTimeout bounds the wait for /-/ready: loading a few blocks
	// takes a second or two.
	readyTimeout = 60 * time.Second
	// stopTimeout is how long a server may take to stop on SIGTERM before
	// it is killed.
	stopTimeout = 10 * time.Second
	// startTries covers the race between finding a free port and the
	// server binding it.
	startTries = 3
)

// LookPath returns the path of the first of names found on PATH. When none
// is, it skips the test, or fails it when Env is "required"; pkg names the
// Debian package that brings it.
func LookPath(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("none of %v found on PATH; install Debian's %s package to run this test", names, pkg)
	if os.Getenv(Env) == "required" {
		t.Fatal(msg + " (" + Env + "=required)")
	}
	t.Skip(msg)
	return ""
}

// Start runs the command that command makes for a free loopback address,
// its output going to logFile, waits until its /-/ready answers 200 and
// returns its base URL. It tries another port if the server exits before
// it is ready (another process may have taken the port). The server is
// stopped when the test ends.
func Start(t testing.TB, logFile string, command func(addr string) *exec.Cmd) string {
	t.Helper()
	for try := 1; ; try++ {
		url, err := start(t, logFile, command)
		if err == nil {
			return url
		}
		if try == startTries || !errors.Is(err, errExited) {
			t.Fatal(err)
		}
		t.Logf("%v; trying another port", err)
	}
}

var errExited = errors.New("the server exited")

func start(t testing.TB, logFile string, command func(addr string) *exec.Cmd) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return "", err
	}
	defer log.Close() // the child has its own descriptor
	cmd := command(addr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cmd.Process.Kill()
			<-exited
		}
	}
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("%s: %w before it was ready (%s): %s", cmd.Path, errExited, cmd.ProcessState, Tail(logFile))
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := client.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("%s's log:\n%s", cmd.Path, Tail(logFile))
					}
				})
				return url, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("%s at %s not ready after %s: %s", cmd.Path, url, readyTimeout, Tail(logFile))
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// Tail returns the end of a log file, for an error message.
func Tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(bytes.TrimSpace(b))
}
