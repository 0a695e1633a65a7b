package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/burnwatch/burnwatch/agent"
	"github.com/burnwatch/burnwatch/service"
)

// The codes the agent demo's query log carries: the users' syntax errors
// (GQLSTATUS 42001, user) and, in the outage, "unable to connect to
// database" (08N00, platform).
const (
	demoSyntaxGQL = "42001"
	demoOutageGQL = "08N00"
	// demoAgentHistory is the healthy history written at the start: fewer
	// minutes than the events path pushes, since each is a thousand log
	// lines a database.
	demoAgentHistory = 5
)

// runDemoAgent is the demo's traffic through the agent path: Neo4j's JSON
// query log, generated, read by an in-process burnwatch agent that pushes
// completed minutes to the demo's serve.
func runDemoAgent(ctx context.Context, svc *service.Service, base, storage string, stdout, stderr io.Writer) {
	logPath := filepath.Join(storage, "neo4j", "query.log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return
	}
	a, err := agent.New(agent.Options{
		QueryLog: logPath,
		Dir:      filepath.Join(storage, "agent"),
		Push:     &agent.PushOptions{URL: base, TokenFile: svc.EventsTokenFile(), SLO: "cypher-availability"},
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		fmt.Fprintln(stderr, "demo: starting the agent:", err)
		return
	}
	defer a.Close()
	fmt.Fprintf(stdout, "via the agent: Neo4j's JSON query log is written to %s; burnwatch agent reads it and pushes each minute once it is complete.\n\n", logPath)
	go writeDemoQueryLog(ctx, logPath, stderr)
	a.Run(ctx)
}

// writeDemoQueryLog writes the demo's queries as Neo4j 2025.x writes its
// JSON query log (QueryLogJsonLayout), a few minutes of history first.
func writeDemoQueryLog(ctx context.Context, path string, stderr io.Writer) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	start := time.Now()
	n := 0
	// Fractions of a query carried from one span to the next, per database:
	// queries, and syntax errors among them.
	var queries, syntax [demoDatabases + 1]float64
	// write logs the queries of the span ending at end: per database
	// demoQueries a minute, demoSyntax of them syntax errors, and every
	// one failing for the outage database once the outage began.
	write := func(end time.Time, span time.Duration) {
		for db := 1; db <= demoDatabases; db++ {
			failing := db == demoOutageDB && end.Sub(start) >= demoOutageAfter
			queries[db] += float64(demoQueries) * span.Minutes()
			syntax[db] += float64(demoSyntax) * span.Minutes()
			per := int(queries[db])
			queries[db] -= float64(per)
			for i := range per {
				n++
				t := end.Add(-span + time.Duration(i)*span/time.Duration(per))
				e := map[string]any{
					"time": t.UTC().Format("2006-01-02 15:04:05.000-0700"), "level": "INFO", "type": "query", "event": "success",
					"id": fmt.Sprint(n), "elapsedTimeMs": 2, "database": fmt.Sprintf("db-%d", db),
					"executingUser": "app", "authenticatedUser": "app", "query": "MATCH (n:Person {name: $name}) RETURN n",
					"queryParameters": "{name: 'Ada'}", "runtime": "pipelined", "annotationData": "{}",
				}
				switch {
				case failing:
					e["event"], e["level"] = "fail", "ERROR"
					e["errorInfo"] = map[string]any{"GQLSTATUS": demoOutageGQL, "classification": "TRANSIENT_ERROR",
						"statusDescription": "error: connection exception - unable to connect to database."}
				case syntax[db] >= 1:
					syntax[db]--
					e["event"], e["level"] = "fail", "ERROR"
					e["errorInfo"] = map[string]any{"GQLSTATUS": demoSyntaxGQL, "classification": "CLIENT_ERROR",
						"statusDescription": "error: syntax error or access rule violation."}
				}
				b, _ := json.Marshal(e)
				w.Write(b)
				w.WriteByte('\n')
			}
		}
		if err := w.Flush(); err != nil {
			fmt.Fprintln(stderr, "demo: writing the query log:", err)
		}
	}
	for m := demoAgentHistory; m >= 1; m-- {
		write(start.Add(-time.Duration(m-1)*time.Minute), time.Minute)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			write(now, now.Sub(last))
			last = now
		}
	}
}
