package agent

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// secret is written into every field of the test logs that holds tenants'
// data; it must never leave the agent.
const secret = "SECRET-tenant-data"

// testCodes are GQLSTATUS codes of several classes: user (42xxx, 22N01),
// platform (51N66, 08N07, 50N42), and one with a Neo.* code in its
// failureReason.
var testCodes = []string{"42N62", "42001", "22N01", "51N66", "08N07", "50N42"}

// testLog writes a Neo4j JSON query log (QueryLogJsonLayout, 5.26 and
// 2025.x) and keeps the model of what it holds: queries ended and failures
// by code, per minute and database.
type testLog struct {
	t     testing.TB
	path  string
	rnd   *rand.Rand
	clock time.Time
	// model: minute → database → counts
	model map[int64]map[string]*Counts
	n     int
}

func newTestLog(t testing.TB, path string, start time.Time, seed uint64) *testLog {
	return &testLog{t: t, path: path, rnd: rand.New(rand.NewPCG(seed, 1)), clock: start, model: map[int64]map[string]*Counts{}}
}

// entry returns the next query's lines (a start and an end, as VERBOSE
// logs them) and adds it to the model.
func (l *testLog) entry() string {
	l.n++
	l.clock = l.clock.Add(time.Duration(l.rnd.IntN(3000)) * time.Millisecond)
	dbs := []string{"db-1", "db-2", "tenant-ü", "日本語"}
	db := dbs[l.rnd.IntN(len(dbs))]
	ts := l.clock.UTC().Format("2006-01-02 15:04:05.000-0700")
	query := fmt.Sprintf("MATCH (n {secret: '%s-%d'}) RETURN n", secret, l.n)
	if l.rnd.IntN(20) == 0 {
		query += " // " + string(make([]rune, 2000)) // a long query
	}
	base := map[string]any{
		"time": ts, "level": "INFO", "type": "query", "id": fmt.Sprint(l.n), "source": "bolt-session\tbolt\tneo4j-go/5.28\t\tclient/10.1.2.3:4567\tserver/10.0.0.2:7687>",
		"database": db, "executingUser": "user-" + secret, "authenticatedUser": "user-" + secret, "query": query,
		"queryParameters": "{password: '" + secret + "'}", "runtime": "pipelined", "annotationData": "{app: '" + secret + "'}",
	}
	start := clone(base)
	start["event"] = "start"
	end := clone(base)
	end["event"] = "success"
	end["elapsedTimeMs"] = l.rnd.IntN(100)
	var code string
	if l.rnd.IntN(4) == 0 {
		code = testCodes[l.rnd.IntN(len(testCodes))]
		end["event"], end["level"] = "fail", "ERROR"
		end["errorInfo"] = map[string]any{"GQLSTATUS": code, "statusDescription": "error: " + secret, "classification": "CLIENT_ERROR"}
		if code == "50N42" {
			end["failureReason"] = "Neo.DatabaseError.General.UnknownError: " + secret
			code = "Neo.DatabaseError.General.UnknownError"
		}
	}
	minute := l.clock.UnixMilli() - l.clock.UnixMilli()%60000
	m := l.model[minute]
	if m == nil {
		m = map[string]*Counts{}
		l.model[minute] = m
	}
	c := m[db]
	if c == nil {
		c = &Counts{}
		m[db] = c
	}
	c.Total++
	if code != "" {
		if c.Errors == nil {
			c.Errors = map[string]float64{}
		}
		c.Errors[code]++
	}
	return jsonLine(l.t, start) + jsonLine(l.t, end)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func jsonLine(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// write appends n queries, each end line written whole.
func (l *testLog) write(n int) {
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	defer f.Close()
	for range n {
		if _, err := f.WriteString(l.entry()); err != nil {
			l.t.Fatal(err)
		}
	}
}

// rotate renames query.log to query.log.01 (and older ones up), as log4j
// does, but keeps them all: a test that loses nothing must not have Neo4j
// delete a file the agent has not read yet.
func (l *testLog) rotate() {
	for i := 98; i >= 1; i-- {
		from := fmt.Sprintf("%s.%02d", l.path, i)
		if _, err := os.Stat(from); err == nil {
			os.Rename(from, fmt.Sprintf("%s.%02d", l.path, i+1))
		}
	}
	if err := os.Rename(l.path, l.path+".01"); err != nil {
		l.t.Fatal(err)
	}
}

// totals sums the model over minutes, by database.
func (l *testLog) totals() map[string]Counts {
	out := map[string]Counts{}
	for _, m := range l.model {
		for db, c := range m {
			o := out[db]
			o.Total += c.Total
			for code, n := range c.Errors {
				if o.Errors == nil {
					o.Errors = map[string]float64{}
				}
				o.Errors[code] += n
			}
			out[db] = o
		}
	}
	return out
}
