// Package agent is burnwatch's database-side agent: it turns the entries of
// a Neo4j query log (package querylog) into per-minute, per-database counts
// of queries ended and failures by code, and publishes them as the counters
// burnwatch reads (an exporter) or pushes completed minutes to a serve's
// events API from a disk spool. Its state and its spool are written so that
// a kill -9 at any instant neither loses nor repeats a query.
package agent

import (
	"sort"

	"github.com/burnwatch/burnwatch/querylog"
)

// Limits that keep the agent's memory bounded whatever the log holds.
const (
	// DefaultMaxDatabases is how many databases one agent counts; a Neo4j
	// server hosts far fewer. Entries of further databases are dropped and
	// counted in burnwatch_agent_entries_dropped_total{reason="databases"}.
	DefaultMaxDatabases = 10000
	// MaxCodesPerDatabase is how many distinct codes one database keeps;
	// further codes are counted under OverflowCode, so that failures are
	// never lost, only lumped together. Neo4j has a few hundred codes, and
	// a database sees a handful.
	MaxCodesPerDatabase = 200
	// MaxDatabaseName bounds a database name: Neo4j allows 63 characters.
	MaxDatabaseName = 255
)

// OverflowCode is the code of failures past MaxCodesPerDatabase codes.
const OverflowCode = "other"

// Counts are the queries of one database in one span: every query that
// ended, and the failed ones by code.
type Counts struct {
	Total  float64            `json:"total"`
	Errors map[string]float64 `json:"errors,omitempty"`
}

func (c *Counts) add(e querylog.Entry) {
	c.Total++
	if !e.Failed {
		return
	}
	if c.Errors == nil {
		c.Errors = map[string]float64{}
	}
	code := e.Code
	if _, ok := c.Errors[code]; !ok && len(c.Errors) >= MaxCodesPerDatabase {
		code = OverflowCode
	}
	c.Errors[code]++
}

func (c Counts) clone() Counts {
	out := Counts{Total: c.Total}
	if len(c.Errors) > 0 {
		out.Errors = make(map[string]float64, len(c.Errors))
		for k, v := range c.Errors {
			out.Errors[k] = v
		}
	}
	return out
}

// Tally holds what the agent has counted: each database's totals since
// the agent's state began (what the exporter serves), and, when pushing,
// the minutes not yet handed to the spool.
type Tally struct {
	// Totals are cumulative, by database.
	Totals map[string]*Counts `json:"totals"`
	// Open are the minutes (Unix milliseconds of their start) not yet
	// spooled, by database.
	Open map[int64]map[string]*Counts `json:"open,omitempty"`
	// MaxDatabases is DefaultMaxDatabases when 0.
	MaxDatabases int `json:"-"`
	// Dropped counts entries not counted, by reason.
	Dropped map[string]int `json:"-"`
	// minutes says whether minutes are kept (pushing).
	minutes bool
}

func newTally(minutes bool) *Tally {
	return &Tally{Totals: map[string]*Counts{}, Open: map[int64]map[string]*Counts{}, Dropped: map[string]int{}, minutes: minutes}
}

// Add counts one entry.
func (t *Tally) Add(e querylog.Entry) {
	if len(e.Database) > MaxDatabaseName {
		t.Dropped["database_name"]++
		return
	}
	c, ok := t.Totals[e.Database]
	if !ok {
		max := t.MaxDatabases
		if max <= 0 {
			max = DefaultMaxDatabases
		}
		if len(t.Totals) >= max {
			t.Dropped["databases"]++
			return
		}
		c = &Counts{}
		t.Totals[e.Database] = c
	}
	c.add(e)
	if !t.minutes {
		return
	}
	minute := e.Time - e.Time%60000
	if e.Time < 0 && e.Time%60000 != 0 {
		minute -= 60000
	}
	m := t.Open[minute]
	if m == nil {
		m = map[string]*Counts{}
		t.Open[minute] = m
	}
	mc := m[e.Database]
	if mc == nil {
		mc = &Counts{}
		m[e.Database] = mc
	}
	mc.add(e)
}

// MinuteCounts are one database's counts in one minute.
type MinuteCounts struct {
	Minute   int64 // Unix milliseconds of the minute's start
	Database string
	Counts
}

// Close removes and returns the open minutes that end at or before
// before (Unix milliseconds), oldest first, databases in name order.
func (t *Tally) Close(before int64) []MinuteCounts {
	var minutes []int64
	for m := range t.Open {
		if m+60000 <= before {
			minutes = append(minutes, m)
		}
	}
	sort.Slice(minutes, func(i, j int) bool { return minutes[i] < minutes[j] })
	var out []MinuteCounts
	for _, m := range minutes {
		dbs := make([]string, 0, len(t.Open[m]))
		for db := range t.Open[m] {
			dbs = append(dbs, db)
		}
		sort.Strings(dbs)
		for _, db := range dbs {
			out = append(out, MinuteCounts{Minute: m, Database: db, Counts: *t.Open[m][db]})
		}
		delete(t.Open, m)
	}
	return out
}

// snapshot copies the totals, for the exporter to read while counting
// goes on.
func (t *Tally) snapshot() map[string]Counts {
	out := make(map[string]Counts, len(t.Totals))
	for db, c := range t.Totals {
		out[db] = c.clone()
	}
	return out
}
