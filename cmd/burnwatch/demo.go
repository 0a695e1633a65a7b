package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/service"
	"github.com/burnwatch/burnwatch/slo"
)

// The demo's traffic: three databases at 1,000 queries a minute with a
// trickle of the users' own syntax errors; after demoOutageAfter, db-2
// fails every query.
const (
	demoDatabases   = 3
	demoQueries     = 1000 // a minute, each database
	demoSyntax      = 2    // syntax errors a minute: the users', never paged
	demoHistory     = 20   // minutes of healthy history pushed at the start
	demoPush        = 10 * time.Second
	demoOutageAfter = 30 * time.Second
	demoOutageDB    = 2
)

// demoCmd runs burnwatch serve on the embedded default config (an events
// source, SQLite in --storage.path) with a traffic generator pushing events
// to it, and prints each alert transition as on-call would see it.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	listen := fs.String("web.listen-address", "127.0.0.1:9099", "the address of the demo's HTTP API")
	storage := fs.String("storage.path", "./data/demo", "the directory of the demo's SQLite state; the demo starts it afresh")
	duration := fs.Duration("duration", 0, "stop after this long (default: run until interrupted)")
	via := fs.String("via", "events", "events: the generator pushes counts; agent: it writes Neo4j's JSON query log, which an in-process burnwatch agent reads and pushes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *via != "events" && *via != "agent" {
		return usageError{fmt.Errorf("--via %q: events or agent", *via)}
	}
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	// The embedded default config, evaluated every 10s so that the page
	// comes within two minutes.
	cfgPath := filepath.Join(*storage, "demo.yaml")
	// Afresh, so that the outage pages again; only a demo's own directory
	// is removed.
	if _, err := os.Stat(cfgPath); err == nil {
		if err := os.RemoveAll(*storage); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(*storage, 0o755); err != nil {
		return err
	}
	demoCfg := string(slo.DefaultConfig) + "\nevaluation_interval: 10s\nplaybooks: {base_url: \"http://" + *listen + "\"}\n"
	if loopback(*listen) {
		// Only this machine reaches it: the README's curl reads the API
		// without a token. Silences and reloads still need one.
		demoCfg += "api: {anonymous_reads: true}\n"
	}
	if err := os.WriteFile(cfgPath, []byte(demoCfg), 0o644); err != nil {
		return err
	}
	log, _ := newLogger(io.Discard, "text", "error")
	return runService(ctx, service.Options{
		ConfigPath:  cfgPath,
		StoragePath: *storage,
		Logger:      log,
		// No receivers configured: pages go to the console receiver.
		Console: stdout,
	}, *listen, log, func(svc *service.Service, addr net.Addr) {
		// Said only now that the service is up and its port listens.
		base := "http://" + addr.String()
		fmt.Fprintf(stdout, "burnwatch demo: serving %s (API %s/api/v1/slos, playbooks %s/playbooks/), state in %s\n", addr, base, base, *storage)
		if *via == "agent" {
			go runDemoAgent(ctx, svc, base, *storage, stdout, stderr)
			return
		}
		fmt.Fprintf(stdout, "pushing 1,000 queries a minute for %d databases; db-%d fails every query from %s on. Ctrl-C stops.\n\n",
			demoDatabases, demoOutageDB, time.Now().Add(demoOutageAfter).Format(time.TimeOnly))
		go generateTraffic(ctx, svc, base, stderr)
	})
}

// loopback reports whether a listen address is reached from this machine
// only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}

// generateTraffic pushes the demo's events until ctx ends.
func generateTraffic(ctx context.Context, svc *service.Service, base string, stderr io.Writer) {
	token, err := os.ReadFile(svc.EventsTokenFile())
	if err != nil {
		fmt.Fprintln(stderr, "demo: no events token:", err)
		return
	}
	push := func(body string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintln(stderr, "demo: pushing events:", err)
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			fmt.Fprintln(stderr, "demo: pushing events:", resp.Status)
		}
	}
	start := time.Now()
	line := func(b *bytes.Buffer, minute time.Time, db int, share float64, failing bool) {
		total := float64(demoQueries) * share
		platform := 0.0
		if failing {
			platform = total - demoSyntax*share
		}
		fmt.Fprintf(b, `{"time":%q,"slo":"cypher-availability","labels":{"database":"db-%d"},"total":%g,"errors":{"Neo.ClientError.Statement.SyntaxError":%g,"Neo.DatabaseError.General.UnknownError":%g}}`+"\n",
			minute.UTC().Format(time.RFC3339), db, total, demoSyntax*share, platform)
	}
	// History, so that the windows have something to compare with.
	var b bytes.Buffer
	for m := demoHistory; m >= 1; m-- {
		minute := start.Truncate(time.Minute).Add(-time.Duration(m) * time.Minute)
		for db := 1; db <= demoDatabases; db++ {
			line(&b, minute, db, 1, false)
		}
	}
	push(b.String())
	share := demoPush.Seconds() / 60
	tick := time.NewTicker(demoPush)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			b.Reset()
			for db := 1; db <= demoDatabases; db++ {
				line(&b, now.Truncate(time.Minute), db, share, db == demoOutageDB && now.Sub(start) >= demoOutageAfter)
			}
			push(b.String())
		}
	}
}
