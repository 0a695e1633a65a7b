package scale

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
)

// stopTimeout is how long a child may take to stop on SIGTERM (burnwatch
// writes a snapshot then) before it is killed.
const stopTimeout = 30 * time.Second

// process is a server the harness started. It dies with the harness, even
// when the harness is killed: the kernel sends it SIGKILL then.
type process struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// startProcess starts bin with args, its output going to logFile.
func startProcess(name, logFile, bin string, args ...string) (*process, error) {
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logFile, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process's id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Stop sends SIGTERM and waits for the process to exit, killing it after
// stopTimeout. It may be called more than once.
func (p *process) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// errExited says a process ended while the harness waited for it.
var errExited = errors.New("exited")

// waitHTTP polls url until it answers 200, the process exits or timeout
// passes, and returns how long that took.
func (p *process) waitHTTP(ctx context.Context, url string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		select {
		case <-p.exited:
			return time.Since(start), fmt.Errorf("%s %w (%s): %s", p.name, errExited, p.cmd.ProcessState, tail(p.log))
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-tick.C:
		}
		if time.Since(start) > timeout {
			return time.Since(start), fmt.Errorf("%s: %s not ready after %s", p.name, url, timeout)
		}
	}
}

// usage is what the kernel counts of a process at a moment.
type usage struct {
	at         time.Time
	cpu        float64 // seconds, user and system
	rss        int64   // bytes
	writeBytes int64   // bytes the process caused to be written to storage
}

// usage reads the process's counters from /proc.
func (p *process) usage() (usage, error) {
	u := usage{at: time.Now()}
	proc, err := procfs.NewProc(p.Pid())
	if err != nil {
		return u, err
	}
	st, err := proc.Stat()
	if err != nil {
		return u, err
	}
	u.cpu, u.rss = st.CPUTime(), int64(st.ResidentMemory())
	if io, err := proc.IO(); err == nil {
		u.writeBytes = int64(io.WriteBytes)
	}
	return u, nil
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// tail returns the end of a log file, for an error message.
func tail(name string) string {
	b, _ := os.ReadFile(name)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(bytes.TrimSpace(b))
}
