package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/slo"
)

// fleetData is eight hours of two databases scraped every 15 seconds, at
// offsets within the minute, as a real Prometheus holds them: db-1 has an
// outage whose error series appears only at its first failure (already
// counting 20, as a series created mid-scrape does), db-2 restarts (its
// counters reset) and has a few user faults. The samples are grouped by
// series, each in time order.
func fleetData(start int64) []Run {
	const scrape = 15_000
	n := int64(8 * 60 * 4)
	outageFrom, outageTo := start+3*3_600_000, start+3*3_600_000+25*60_000
	reset := start + 5*3_600_000 + 17*60_000
	var runs []Run
	add := func(lset labels.Labels, offset int64, value func(ts int64) (float64, bool)) {
		r := Run{Labels: lset}
		for i := range n {
			ts := start + offset + i*scrape
			if ts > start+n*scrape {
				break
			}
			if v, ok := value(ts); ok {
				r.T = append(r.T, ts)
				r.V = append(r.V, v)
			}
		}
		runs = append(runs, r)
	}
	q := func(db string) labels.Labels {
		return labels.FromStrings("__name__", "neo4j_queries_total", "database", db)
	}
	e := func(db, code string) labels.Labels {
		return labels.FromStrings("__name__", "neo4j_query_errors_total", "database", db, "code", code)
	}
	// db-1: 1,000 queries a minute; during the outage 60% fail.
	add(q("db-1"), 7_000, func(ts int64) (float64, bool) {
		return float64((ts-start)/60_000*1000 + (ts-start)%60_000/15_000*250), true
	})
	failed := func(ts int64) float64 {
		if ts <= outageFrom {
			return 0
		}
		return float64(min(ts, outageTo)-outageFrom) / 60_000 * 600
	}
	add(e("db-1", "Neo.DatabaseError.General.UnknownError"), 7_000, func(ts int64) (float64, bool) {
		v := failed(ts)
		return 20 + v, v > 0 // the series is born at the first failure
	})
	// db-2: 500 a minute, a restart, and a syntax error now and then.
	add(q("db-2"), 52_000, func(ts int64) (float64, bool) {
		if ts > reset {
			return float64((ts - reset) / 15_000 * 125), true
		}
		return float64(100_000 + (ts-start)/15_000*125), true
	})
	add(e("db-2", "Neo.ClientError.Statement.SyntaxError"), 52_000, func(ts int64) (float64, bool) {
		if ts > reset {
			return float64((ts - reset) / 600_000), true
		}
		return 40 + float64((ts-start)/600_000), true
	})
	return runs
}

// runsSamples yields runs as a recording does: grouped by series.
type runsSamples struct {
	runs []Run
	r, i int
}

func (s *runsSamples) Next() bool {
	for s.r < len(s.runs) {
		if s.i+1 < len(s.runs[s.r].T) {
			s.i++
			return true
		}
		s.r, s.i = s.r+1, -1
	}
	return false
}
func (s *runsSamples) NewSeries() bool             { return s.i == 0 }
func (s *runsSamples) Labels() labels.Labels       { return s.runs[s.r].Labels }
func (s *runsSamples) At() (int64, float64)        { return s.runs[s.r].T[s.i], s.runs[s.r].V[s.i] }
func (s *runsSamples) Err() error                  { return nil }
func (s *runsSamples) Errorf(string, ...any) error { return nil }

// slice cuts the runs to the samples with time in (from, to].
func slice(runs []Run, from, to int64) []Run {
	var out []Run
	for _, r := range runs {
		var c Run
		for i, ts := range r.T {
			if from < ts && ts <= to {
				c.T, c.V = append(c.T, ts), append(c.V, r.V[i])
			}
		}
		if len(c.T) > 0 {
			c.Labels = r.Labels
			out = append(out, c)
		}
	}
	return out
}

// outcome is what an engine made of the data: its transitions and each
// instance's totals.
type outcome struct {
	transitions []string
	totals      map[string]burnrate.Events
}

func (o outcome) String() string {
	var b strings.Builder
	for _, t := range o.transitions {
		fmt.Fprintln(&b, t)
	}
	for _, k := range slicesSorted(o.totals) {
		fmt.Fprintf(&b, "%s %+v\n", k, o.totals[k])
	}
	return b.String()
}

func slicesSorted(m map[string]burnrate.Events) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func newTestEngine(t testing.TB, clock *int64) *Engine {
	t.Helper()
	cfg, err := slo.Parse("test.yaml", []byte(`version: 1
sources:
  - name: prom
    prometheus: {url: "http://127.0.0.1:9"}
slos:
  - name: cypher-availability
    objective: 99.9
    window: 30d
    sli:
      total: neo4j_queries_total
      errors: neo4j_query_errors_total
    group_by: [database]
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Now: func() time.Time { return time.UnixMilli(*clock) }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *Engine) outcome(trs []burnrate.Transition) outcome {
	o := outcome{totals: map[string]burnrate.Events{}}
	for _, t := range trs {
		line, _ := t.MarshalJSON()
		o.transitions = append(o.transitions, string(line))
	}
	for _, in := range e.Router().Instances() {
		o.totals[in.Labels.String()] = in.Totals
	}
	return o
}

// TestLiveBackfillAndImportAgree: the same data read live cycle by cycle,
// by a backfill in slices and by an import of the recording gives the same
// counts and the same transitions at the same minutes.
func TestLiveBackfillAndImportAgree(t *testing.T) {
	start := int64(1_793_836_800_000) // 2026-11-05T00:00:00Z
	data := fleetData(start)
	end := start + 8*3_600_000

	var clock int64
	live := newTestEngine(t, &clock)
	var liveTrs []burnrate.Transition
	for through := start + 30_000; through <= end; through += 30_000 {
		clock = through + 10_000
		b := Batch{Source: "prom", Mode: Live, From: through - 30_000, Through: through, Runs: slice(data, through-30_000, through)}
		if _, err := live.Apply(b); err != nil {
			t.Fatal(err)
		}
		liveTrs = append(liveTrs, live.Transitions()...)
		live.Committed(live.Cycle(clock, Record))
	}

	backfill := newTestEngine(t, &clock)
	var backTrs []burnrate.Transition
	for a := start; a < end; a += 3_600_000 {
		b := Batch{Source: "prom", Mode: Backfill, From: a, Through: a + 3_600_000, Runs: slice(data, a, a+3_600_000), Done: a+3_600_000 == end}
		if _, err := backfill.Apply(b); err != nil {
			t.Fatal(err)
		}
		backTrs = append(backTrs, backfill.Transitions()...)
		backfill.Committed(backfill.Cycle(clock, Record))
	}

	imported := newTestEngine(t, &clock)
	var impTrs []burnrate.Transition
	_, err := imported.Import(context.Background(), &runsSamples{runs: data, i: -1}, func(t burnrate.Transition) error {
		impTrs = append(impTrs, t)
		return nil
	}, func(int64) error { return nil })
	if err != nil {
		t.Fatal(err)
	}

	want := live.outcome(liveTrs)
	if len(want.transitions) < 3 {
		t.Fatalf("the live run made %d transitions; the data should page and resolve:\n%s", len(want.transitions), want)
	}
	if got := backfill.outcome(backTrs); got.String() != want.String() {
		t.Errorf("the backfill differs from the live run:\n%s\nlive:\n%s", got, want)
	}
	if got := imported.outcome(impTrs); got.String() != want.String() {
		t.Errorf("the import differs from the live run:\n%s\nlive:\n%s", got, want)
	}
	// The error series born mid-outage counts from zero: all 20 + 15,000
	// failures, not 15,000.
	if got := want.totals[`{database="db-1"}`].Platform; got != 15_020 {
		t.Errorf("db-1 counted %v platform failures, want 15020", got)
	}
}
