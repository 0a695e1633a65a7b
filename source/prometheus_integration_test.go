package source

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/burnwatch/burnwatch/internal/promtest"
	"github.com/burnwatch/burnwatch/internal/scenario"
)

// promSample is one sample as a Samples source yields it.
type promSample struct {
	series string
	ts     int64
	v      float64
	new    bool
}

func (s promSample) String() string {
	return fmt.Sprintf("%s %v @%s new=%v", s.series, s.v, time.UnixMilli(s.ts).UTC().Format(time.RFC3339Nano), s.new)
}

// promCollect reads a source to its end.
// samples is what every source yields (ingest.Samples, which the ingest
// tests check each source implements).
type samples interface {
	Next() bool
	NewSeries() bool
	Labels() labels.Labels
	At() (int64, float64)
	Err() error
}

func promCollect(t *testing.T, s samples) []promSample {
	t.Helper()
	var got []promSample
	for s.Next() {
		ts, v := s.At()
		got = append(got, promSample{s.Labels().String(), ts, v, s.NewSeries()})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// promFromFile is what the file Reader yields of the recording for the
// selectors and (from, to], with NewSeries as a source of just those
// samples would report it.
func promFromFile(t *testing.T, om string, selectors []string, from, to time.Time) []promSample {
	t.Helper()
	var sels [][]*labels.Matcher
	for _, s := range selectors {
		ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		sels = append(sels, ms)
	}
	matches := func(lset labels.Labels) bool {
		return slices.ContainsFunc(sels, func(ms []*labels.Matcher) bool {
			return !slices.ContainsFunc(ms, func(m *labels.Matcher) bool { return !m.Matches(lset.Get(m.Name)) })
		})
	}
	f, err := os.Open(om)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []promSample
	for _, s := range promCollect(t, NewReader(om, f, OpenMetrics)) {
		lset, err := parser.NewParser(parser.Options{}).ParseMetric(s.series)
		if err != nil {
			t.Fatal(err)
		}
		if !matches(lset) || s.ts <= from.UnixMilli() || s.ts > to.UnixMilli() {
			continue
		}
		s.new = len(out) == 0 || out[len(out)-1].series != s.series
		out = append(out, s)
	}
	return out
}

// promRecentScenario writes a scenario of six hours at one-minute steps that
// ends at end: two databases, total and error counters, a counter reset
// and a series that starts late. The series are in label order, as a
// TSDB lists them.
func promRecentScenario(t *testing.T, end time.Time) string {
	t.Helper()
	desc := `start ` + end.Add(-6*time.Hour).Format(time.RFC3339) + `
step 1m
neo4j_queries_total{database="db-1"} 0+1000x360
# db-2 restarts after 200 minutes: a counter reset
neo4j_queries_total{database="db-2"} 0+500.5x200 40+500x159
neo4j_query_errors_total{database="db-1",code="Neo.ClientError.Statement.SyntaxError"} 0+2x360
# db-2's first platform error comes four hours in
neo4j_query_errors_total{database="db-2",code="Neo.DatabaseError.General.UnknownError"} _x240 0+7x120
`
	sc, err := scenario.Parse(strings.NewReader(desc))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "recent.om")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := sc.WriteOpenMetrics(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestPrometheusReadsWhatTheFileHolds serves a recording from a real
// Prometheus and reads it back: every range must yield exactly what the
// file Reader yields of it, in the same order.
func TestPrometheusReadsWhatTheFileHolds(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	om := promRecentScenario(t, end)
	url := promtest.Start(t, om)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	start := end.Add(-6 * time.Hour)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	both := []string{"neo4j_queries_total", "neo4j_query_errors_total"}
	for _, tc := range []struct {
		name      string
		chunk     time.Duration
		selectors []string
		from, to  time.Time
		want      int // samples, as a check on the check
	}{
		{"the whole recording, in 50-minute chunks", 50 * time.Minute, both, at(-time.Minute), end, 4*361 - 240},
		{"the whole recording in one chunk", 7 * time.Hour, both, at(-time.Minute), end, 4*361 - 240},
		{"a range between samples excludes its start and includes its end", 50 * time.Minute, both, at(61 * time.Minute), at(200 * time.Minute), 3 * 139},
		{"a range across the late series' start and db-2's reset", 50 * time.Minute, both, at(199 * time.Minute), at(250 * time.Minute), 3*51 + 11},
		{"a range off the minute", 50 * time.Minute, both, at(90*time.Minute + 30*time.Second), at(95*time.Minute + 10500*time.Millisecond), 3 * 5},
		{"a range within one chunk", time.Hour, both, at(100 * time.Minute), at(130 * time.Minute), 3 * 30},
		{"overlapping selectors yield each series once", 50 * time.Minute,
			[]string{`neo4j_query_errors_total{database="db-2"}`, `{__name__=~"neo4j_.*"}`, "neo4j_queries_total"}, at(300 * time.Minute), end, 3*60 + 60},
		{"one database", 50 * time.Minute, []string{`{database="db-2"}`}, at(-time.Minute), end, 361 + 121},
		{"a range after the data", 50 * time.Minute, both, end, end.Add(time.Hour), 0},
		{"a selector that matches nothing", 50 * time.Minute, []string{"nothing_total"}, at(-time.Minute), end, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := promFromFile(t, om, tc.selectors, tc.from, tc.to)
			if len(want) != tc.want {
				t.Fatalf("the file holds %d samples in the range, the test expects %d", len(want), tc.want)
			}
			// What each API reads, in tc's chunks and in one slice.
			reads := map[string][]promSample{}
			for _, api := range []string{PrometheusRemoteRead, PrometheusQuery} {
				for _, chunk := range []time.Duration{tc.chunk, promOneSlice} {
					p, err := NewPrometheus(PrometheusConfig{URL: url, API: api, Chunk: model.Duration(chunk), Timeout: model.Duration(10 * time.Second), Retries: 1})
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close()
					name := fmt.Sprintf("%s in %s slices", api, model.Duration(chunk))
					got := promCollect(t, p.Samples(ctx, tc.selectors, tc.from, tc.to))
					promAssertSameSeries(t, name, got, want)

					// Read yields the same, in the same runs.
					var runs []promSample
					err = p.Read(ctx, tc.selectors, tc.from, tc.to, func(lset labels.Labels, ts []int64, vs []float64) error {
						for i := range ts {
							runs = append(runs, promSample{lset.String(), ts[i], vs[i], i == 0})
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					promAssertSame(t, runs, got)
					reads[name] = got
				}
			}
			// Both APIs read the same runs, in the same order.
			for _, chunk := range []time.Duration{tc.chunk, promOneSlice} {
				rr := reads[fmt.Sprintf("%s in %s slices", PrometheusRemoteRead, model.Duration(chunk))]
				q := reads[fmt.Sprintf("%s in %s slices", PrometheusQuery, model.Duration(chunk))]
				promAssertSame(t, rr, q)
			}
		})
	}
}

// promOneSlice is a chunk that makes any range of these tests one slice.
const promOneSlice = 100 * 365 * 24 * time.Hour

// promAssertSameSeries checks that got is grouped as Samples promises
// (NewSeries at every change of series, each series' runs in time order)
// and that each series has exactly the samples it has in want.
func promAssertSameSeries(t *testing.T, name string, got, want []promSample) {
	t.Helper()
	bySeries := func(ss []promSample) map[string][]promSample {
		m := map[string][]promSample{}
		for _, s := range ss {
			s.new = false
			m[s.series] = append(m[s.series], s)
		}
		return m
	}
	for i, s := range got {
		if i == 0 || s.series != got[i-1].series {
			if !s.new {
				t.Fatalf("%s: sample %d (%s) starts a run without NewSeries", name, i, s)
			}
		}
	}
	g, w := bySeries(got), bySeries(want)
	for series, ws := range w {
		gs := g[series]
		for i := 1; i < len(gs); i++ {
			if gs[i].ts <= gs[i-1].ts {
				t.Fatalf("%s: %s: %s after %s", name, series, gs[i], gs[i-1])
			}
		}
		promAssertSame(t, gs, ws)
	}
	for series := range g {
		if _, ok := w[series]; !ok {
			t.Fatalf("%s: read %s, which the file does not hold in the range", name, series)
		}
	}
}

// TestPrometheusReadsAShiftedScenario serves one of the replay scenarios,
// shifted to end now, and reads it back whole.
func TestPrometheusReadsAShiftedScenario(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute)
	om := promtest.Shift(t, filepath.Join("..", "testdata", "replay", "two-instances.om"), end)
	url := promtest.Start(t, om)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, err := NewPrometheus(PrometheusConfig{URL: url, Chunk: model.Duration(3 * time.Hour), Timeout: model.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sels := []string{"neo4j_queries_total", "neo4j_query_errors_total"}
	from := end.Add(-12 * time.Hour)
	want := promFromFile(t, om, sels, from, end)
	if len(want) != 4*601 {
		t.Fatalf("the shifted file holds %d samples, want %d", len(want), 4*601)
	}
	promAssertSameSeries(t, "auto", promCollect(t, p.Samples(ctx, sels, from, end)), want)
}

func promAssertSame(t *testing.T, got, want []promSample) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Fatalf("sample %d: missing, want %s (%d samples, want %d)", i, want[i], len(got), len(want))
		case i >= len(want):
			t.Fatalf("sample %d: got %s, want no more (%d samples, want %d)", i, got[i], len(got), len(want))
		case got[i] != want[i]:
			t.Fatalf("sample %d: got %s, want %s", i, got[i], want[i])
		}
	}
}

// promRecorder keeps the Content-Type of every answer.
type promRecorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	types []string
}

func (r *promRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if resp != nil {
		r.mu.Lock()
		r.types = append(r.types, req.URL.Path+" "+resp.Header.Get("Content-Type"))
		r.mu.Unlock()
	}
	return resp, err
}

// TestPrometheusStreamsChunks checks that a real Prometheus answers a
// read in auto with streamed chunks, and that auto keeps to remote read.
func TestPrometheusStreamsChunks(t *testing.T) {
	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	om := promRecentScenario(t, end)
	url := promtest.Start(t, om)
	p, err := NewPrometheus(PrometheusConfig{URL: url, Timeout: model.Duration(10 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rec := &promRecorder{next: p.client.Transport}
	p.client.Transport = rec
	sels := []string{"neo4j_queries_total", "neo4j_query_errors_total"}
	from := end.Add(-7 * time.Hour)
	promAssertSameSeries(t, "auto", promCollect(t, p.Samples(t.Context(), sels, from, end)), promFromFile(t, om, sels, from, end))
	if promMode(p.mode.Load()) != promRemoteRead {
		t.Errorf("auto chose %d, want remote read", p.mode.Load())
	}
	if len(rec.types) < 2*4 {
		t.Errorf("%d requests for 7h in 2h slices of 2 selectors, want at least 8", len(rec.types))
	}
	// A slice of 15 minutes or less (the range's first or last, cut at
	// the 2-hour marks) asks for samples alone; 7 hours hold at least two
	// whole slices per selector, which must come as streamed chunks.
	streamed := 0
	for _, typ := range rec.types {
		switch typ {
		case "/api/v1/read " + promStreamContentType:
			streamed++
		case "/api/v1/read " + promSamplesMediaType:
		default:
			t.Errorf("answered %s, want remote read", typ)
		}
	}
	if streamed < 2*2 {
		t.Errorf("%d of %d answers were streamed chunks, want at least 4: %v", streamed, len(rec.types), rec.types)
	}
}
