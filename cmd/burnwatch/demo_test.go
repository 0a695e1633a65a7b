package main

import (
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// dialOnServing is the demo's standard output: when the demo says it is
// serving, it dials the address said, at that very moment.
type dialOnServing struct {
	mu        sync.Mutex
	out       strings.Builder
	said      bool
	dialErr   error
	dialedFor string
}

var servingRE = regexp.MustCompile(`serving (\S+) `)

func (w *dialOnServing) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if m := servingRE.FindSubmatch(p); m != nil && !w.said {
		w.said, w.dialedFor = true, string(m[1])
		c, err := net.DialTimeout("tcp", w.dialedFor, time.Second)
		if err == nil {
			c.Close()
		}
		w.dialErr = err
	}
	return w.out.Write(p)
}

// TestDemoSaysItIsServingOnlyOnceItIs: the demo prints "serving ADDR"
// once ADDR accepts connections, and not at all when it cannot listen.
func TestDemoSaysItIsServingOnlyOnceItIs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	t.Run("a port in use", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		var out, errOut strings.Builder
		code := run(context.Background(), []string{"demo", "--web.listen-address", busy.Addr().String(), "--storage.path", filepath.Join(t.TempDir(), "demo"), "--duration", "5s"}, nil, &out, &errOut)
		if code == 0 || strings.Contains(out.String(), "serving") {
			t.Errorf("exit %d, stdout %q; want a failure that never says serving (stderr %q)", code, out.String(), errOut.String())
		}
	})
	t.Run("a free port", func(t *testing.T) {
		w := &dialOnServing{}
		var errOut strings.Builder
		code := run(context.Background(), []string{"demo", "--web.listen-address", "127.0.0.1:0", "--storage.path", filepath.Join(t.TempDir(), "demo"), "--duration", "2s"}, nil, w, &errOut)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		if !w.said || w.dialErr != nil || strings.HasSuffix(w.dialedFor, ":0") {
			t.Errorf("said serving %v at %q; dialing it then: %v\n%s", w.said, w.dialedFor, w.dialErr, w.out.String())
		}
	})
}
