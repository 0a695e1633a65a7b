package source

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// rrSeries is a series the fake server holds.
type rrSeries struct {
	lset labels.Labels
	ts   []int64
	vs   []float64
}

// rrServer is a stand-in for a Prometheus that serves remote read, as
// streamed chunks or as samples, and the query API, over the series it
// holds. Its chunks hold chunkLen samples each, so they overlap the edges
// of a range, and a frame holds perFrame chunks, so a series can go on
// over several frames.
type rrServer struct {
	*httptest.Server
	series   []rrSeries // in label order
	respType prompb.ReadRequest_ResponseType
	chunkLen int
	perFrame int
	reversed bool // sends the series in reverse label order
	// answers are given to the first remote reads, before the data;
	// an answer with no status cuts the data's stream short.
	answers []promAnswer
	hold    bool // a remote read waits until its request is cancelled

	mu      sync.Mutex
	reads   []*prompb.ReadRequest
	headers []http.Header
	queries []string // query API: "query@time"
	arrived chan struct{}
}

// newRRServer starts a server holding the series, after edit (if not
// nil) has set it up.
func newRRServer(t *testing.T, edit func(*rrServer), series ...rrSeries) *rrServer {
	s := &rrServer{series: series, respType: prompb.ReadRequest_STREAMED_XOR_CHUNKS, chunkLen: 8, perFrame: 1, arrived: make(chan struct{}, 100)}
	if edit != nil {
		edit(s)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/read":
			s.remoteRead(t, w, r)
		case "/api/v1/query":
			s.query(t, w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// rrCounter is a counter sampled every 15s from base: n samples, each
// step higher, starting again from 0 at reset (if > 0).
func rrCounter(lset labels.Labels, base time.Time, n int, step float64, reset int) rrSeries {
	s := rrSeries{lset: lset}
	v := 0.0
	for i := range n {
		if i == reset && reset > 0 {
			v = 0
		}
		s.ts = append(s.ts, base.UnixMilli()+int64(i)*15000)
		s.vs = append(s.vs, v)
		v += step
	}
	return s
}

func (s *rrServer) remoteReads() []*prompb.ReadRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reads)
}

func (s *rrServer) requestHeaders() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.headers)
}

// setAnswers replaces the answers of the remote reads from the next one
// on: answers[i] is for the request i+1 of the server's life.
func (s *rrServer) setAnswers(answers ...promAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers = answers
}

func (s *rrServer) instantQueries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

func (s *rrServer) remoteRead(t *testing.T, w http.ResponseWriter, r *http.Request) {
	compressed, _ := io.ReadAll(r.Body)
	data, err := snappy.Decode(nil, compressed)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.ReadRequest
	if err := req.Unmarshal(data); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reads = append(s.reads, &req)
	s.headers = append(s.headers, r.Header.Clone())
	n := len(s.reads)
	answers := s.answers
	s.mu.Unlock()
	s.arrived <- struct{}{}
	if s.hold {
		<-r.Context().Done()
		return
	}
	var cut bool
	if n <= len(answers) {
		a := answers[n-1]
		if a.status != 0 {
			for k, v := range a.header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", cmp.Or(a.contentType, "text/plain"))
			w.WriteHeader(a.status)
			io.WriteString(w, a.body)
			return
		}
		cut = true
	}
	if len(req.Queries) != 1 {
		t.Errorf("a remote read of %d queries", len(req.Queries))
	}
	q := req.Queries[0]
	var ms []*labels.Matcher
	for _, m := range q.Matchers {
		ms = append(ms, labels.MustNewMatcher(map[prompb.LabelMatcher_Type]labels.MatchType{
			prompb.LabelMatcher_EQ: labels.MatchEqual, prompb.LabelMatcher_NEQ: labels.MatchNotEqual,
			prompb.LabelMatcher_RE: labels.MatchRegexp, prompb.LabelMatcher_NRE: labels.MatchNotRegexp,
		}[m.Type], m.Name, m.Value))
	}
	var matched []rrSeries
	for _, sr := range s.series {
		if rrMatches(ms, sr.lset) {
			matched = append(matched, sr)
		}
	}
	if s.reversed {
		slices.Reverse(matched)
	}
	if s.respType == prompb.ReadRequest_SAMPLES {
		var res prompb.QueryResult
		for _, sr := range matched {
			ts := &prompb.TimeSeries{Labels: prompb.FromLabels(sr.lset, nil)}
			for i, t := range sr.ts {
				if q.StartTimestampMs <= t && t <= q.EndTimestampMs {
					ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: t, Value: sr.vs[i]})
				}
			}
			if len(ts.Samples) > 0 {
				res.Timeseries = append(res.Timeseries, ts)
			}
		}
		b, _ := (&prompb.ReadResponse{Results: []*prompb.QueryResult{&res}}).Marshal()
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Header().Set("Content-Encoding", "snappy")
		w.Write(snappy.Encode(nil, b))
		return
	}
	var stream bytes.Buffer
	for _, sr := range matched {
		chunks := rrChunks(sr, s.chunkLen, q.StartTimestampMs, q.EndTimestampMs)
		for len(chunks) > 0 {
			k := min(s.perFrame, len(chunks))
			rrWriteFrame(&stream, &prompb.ChunkedReadResponse{ChunkedSeries: []*prompb.ChunkedSeries{
				{Labels: prompb.FromLabels(sr.lset, nil), Chunks: chunks[:k]},
			}})
			chunks = chunks[k:]
		}
	}
	w.Header().Set("Content-Type", promStreamContentType)
	b := stream.Bytes()
	if cut {
		b = b[:len(b)*2/3]
	}
	w.Write(b)
}

func rrMatches(ms []*labels.Matcher, lset labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// rrChunks cuts a series into XOR chunks of n samples and returns those
// that overlap [mint, maxt], whole, as Prometheus sends them.
func rrChunks(s rrSeries, n int, mint, maxt int64) []prompb.Chunk {
	var out []prompb.Chunk
	for i := 0; i < len(s.ts); i += n {
		j := min(i+n, len(s.ts))
		if s.ts[j-1] < mint || s.ts[i] > maxt {
			continue
		}
		c := chunkenc.NewXORChunk()
		app, _ := c.Appender()
		for k := i; k < j; k++ {
			app.Append(0, s.ts[k], s.vs[k])
		}
		out = append(out, prompb.Chunk{MinTimeMs: s.ts[i], MaxTimeMs: s.ts[j-1], Type: prompb.Chunk_XOR, Data: c.Bytes()})
	}
	return out
}

func rrWriteFrame(w *bytes.Buffer, msg *prompb.ChunkedReadResponse) {
	b, err := msg.Marshal()
	if err != nil {
		panic(err)
	}
	w.Write(binary.AppendUvarint(nil, uint64(len(b))))
	w.Write(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))))
	w.Write(b)
}

// query answers an instant query of a range selector as Prometheus 2
// does: the samples in [time-range, time].
func (s *rrServer) query(t *testing.T, w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	q, at := r.Form.Get("query"), r.Form.Get("time")
	s.mu.Lock()
	s.queries = append(s.queries, q+"@"+at)
	s.mu.Unlock()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		t.Errorf("query %q: %v", q, err)
		return
	}
	ms := expr.(*parser.MatrixSelector)
	sec, _ := strconv.ParseFloat(at, 64)
	end := int64(sec * 1000)
	start := end - ms.Range.Milliseconds()
	type series struct {
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
	}
	result := []series{}
	for _, sr := range s.series {
		if !rrMatches(ms.VectorSelector.(*parser.VectorSelector).LabelMatchers, sr.lset) {
			continue
		}
		x := series{Metric: sr.lset.Map()}
		for i, t := range sr.ts {
			if start <= t && t <= end {
				x.Values = append(x.Values, [2]any{json.Number(strconv.FormatFloat(float64(t)/1000, 'f', -1, 64)), strconv.FormatFloat(sr.vs[i], 'f', -1, 64)})
			}
		}
		if len(x.Values) > 0 {
			result = append(result, x)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
}

// rrRun is one call of Read's fn.
type rrRun struct {
	series string
	ts     []int64
	vs     []float64
}

func rrRead(t *testing.T, p *Prometheus, selectors []string, fromMs, toMs int64) []rrRun {
	t.Helper()
	var runs []rrRun
	err := p.Read(t.Context(), selectors, time.UnixMilli(fromMs), time.UnixMilli(toMs), func(lset labels.Labels, ts []int64, vs []float64) error {
		runs = append(runs, rrRun{lset.String(), ts, vs})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// rrWant is what a series holds in (fromMs, toMs].
func rrWant(s rrSeries, fromMs, toMs int64) rrRun {
	r := rrRun{series: s.lset.String()}
	for i, t := range s.ts {
		if fromMs < t && t <= toMs {
			r.ts, r.vs = append(r.ts, t), append(r.vs, s.vs[i])
		}
	}
	return r
}

func rrAssertRuns(t *testing.T, got, want []rrRun) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got runs\n%v\nwant\n%v", got, want)
	}
}

// rrBase is a time on a multiple of 2h, where a slice starts.
var rrBase = time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)

func rrFleet() (a, b, c rrSeries) {
	a = rrCounter(labels.FromStrings("__name__", "q_total", "db", "a"), rrBase, 100, 10, 0)
	b = rrCounter(labels.FromStrings("__name__", "q_total", "db", "b"), rrBase, 60, 3, 40)
	c = rrCounter(labels.FromStrings("__name__", "other_total", "db", "a"), rrBase, 100, 1, 0)
	return a, b, c
}

func TestRemoteReadCutsChunksToTheRange(t *testing.T) {
	a, b, c := rrFleet()
	// From sample 13 (excluded), in the middle of a chunk of 8, to sample
	// 70 (included), also in the middle of one.
	from, to := a.ts[13], a.ts[70]
	for _, tc := range []struct {
		name string
		edit func(*rrServer)
	}{
		{"streamed chunks, a chunk a frame", func(*rrServer) {}},
		{"streamed chunks, a series over several frames", func(s *rrServer) { s.perFrame = 3 }},
		{"streamed chunks, a series in one frame", func(s *rrServer) { s.perFrame = 100 }},
		{"streamed chunks in no order", func(s *rrServer) { s.reversed = true }},
		{"chunks of one sample", func(s *rrServer) { s.chunkLen = 1 }},
		{"samples", func(s *rrServer) { s.respType = prompb.ReadRequest_SAMPLES }},
		{"samples in no order", func(s *rrServer) { s.respType, s.reversed = prompb.ReadRequest_SAMPLES, true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRRServer(t, tc.edit, c, a, b)
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead}, nil)
			got := rrRead(t, p, []string{"q_total"}, from, to)
			rrAssertRuns(t, got, []rrRun{rrWant(a, from, to), rrWant(b, from, to)})
			if n := len(srv.remoteReads()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestRemoteReadRequest(t *testing.T) {
	srv := newRRServer(t, nil)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL + "/", API: PrometheusRemoteRead}, nil)
	sel := `q_total{db!="x",job=~"a.*",zone!~"z"}`
	rrRead(t, p, []string{sel}, rrBase.UnixMilli(), rrBase.UnixMilli()+60000)
	reads := srv.remoteReads()
	if len(reads) != 1 {
		t.Fatalf("%d requests", len(reads))
	}
	got := reads[0].String()
	for _, want := range []string{
		"start_timestamp_ms:1793836800001 end_timestamp_ms:1793836860000",
		`matchers:<type:NEQ name:"db" value:"x" > matchers:<type:RE name:"job" value:"a.*" > matchers:<type:NRE name:"zone" value:"z" > matchers:<name:"__name__" value:"q_total" >`,
		"accepted_response_types:STREAMED_XOR_CHUNKS accepted_response_types:SAMPLES",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("request %s\nwithout %s", got, want)
		}
	}
	h := srv.requestHeaders()[0]
	if h.Get("Content-Encoding") != "snappy" || h.Get("Content-Type") != "application/x-protobuf" || h.Get("X-Prometheus-Remote-Read-Version") != "0.1.0" {
		t.Errorf("headers %v", h)
	}
}

func TestASeriesTwoSelectorsMatchIsReadOnce(t *testing.T) {
	a, b, c := rrFleet()
	srv := newRRServer(t, nil, c, a, b)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	from, to := rrBase.UnixMilli(), a.ts[99]
	got := rrRead(t, p, []string{"q_total", `{db="a"}`}, from, to)
	rrAssertRuns(t, got, []rrRun{rrWant(a, from, to), rrWant(b, from, to), rrWant(c, from, to)})
	if n := len(srv.remoteReads()); n != 2 {
		t.Errorf("%d requests, want one per selector", n)
	}
}

// TestAReadOfSeveralSlices reads 25 minutes in 5-minute slices: a request
// per selector and slice, each series once per slice, in slice order.
func TestAReadOfSeveralSlices(t *testing.T) {
	a, b, c := rrFleet()
	srv := newRRServer(t, nil, c, a, b)
	const slice = 5 * 60000
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, Chunk: model.Duration(slice * time.Millisecond)}, nil)
	from, to := a.ts[13], a.ts[99] // 00:03:15 to 00:24:45
	got := rrRead(t, p, []string{"q_total", `{db="a"}`}, from, to)

	var want []rrRun
	bounds := []int64{from, rrBase.UnixMilli() + slice, rrBase.UnixMilli() + 2*slice, rrBase.UnixMilli() + 3*slice, rrBase.UnixMilli() + 4*slice, to}
	for i := 1; i < len(bounds); i++ {
		for _, s := range []rrSeries{a, b, c} {
			if r := rrWant(s, bounds[i-1], bounds[i]); len(r.ts) > 0 {
				want = append(want, r)
			}
		}
	}
	rrAssertRuns(t, got, want)
	reads := srv.remoteReads()
	if len(reads) != 2*(len(bounds)-1) {
		t.Errorf("%d requests, want %d: one per selector and slice", len(reads), 2*(len(bounds)-1))
	}
	for i, r := range reads {
		q := r.Queries[0]
		if q.StartTimestampMs != bounds[i/2]+1 || q.EndTimestampMs != bounds[i/2+1] {
			t.Errorf("request %d reads [%d, %d], want (%d, %d]", i, q.StartTimestampMs, q.EndTimestampMs, bounds[i/2], bounds[i/2+1])
		}
	}

	// Samples yields the same runs, each starting a series.
	s := p.Samples(t.Context(), []string{"q_total", `{db="a"}`}, time.UnixMilli(from), time.UnixMilli(to))
	var runs []rrRun
	for s.Next() {
		ts, v := s.At()
		if s.NewSeries() {
			runs = append(runs, rrRun{series: s.Labels().String()})
		}
		r := &runs[len(runs)-1]
		r.ts, r.vs = append(r.ts, ts), append(r.vs, v)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	rrAssertRuns(t, runs, want)
}

func TestAutoFallsBackToTheQueryAPI(t *testing.T) {
	a, b, c := rrFleet()
	from, to := a.ts[13], a.ts[70]
	for _, answer := range []promAnswer{
		{status: 404, body: "404 page not found"},
		{status: 405, body: "method not allowed"},
		{status: 501, body: "not implemented"},
		{status: 200, body: "<html>a login page</html>", contentType: "text/html"},
	} {
		t.Run(fmt.Sprintf("%d %s", answer.status, answer.contentType), func(t *testing.T) {
			srv := newRRServer(t, nil, c, a, b)
			srv.setAnswers(answer, answer)
			var logs bytes.Buffer
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, &logs)
			for range 2 {
				got := rrRead(t, p, []string{"q_total"}, from, to)
				rrAssertRuns(t, got, []rrRun{rrWant(a, from, to), rrWant(b, from, to)})
			}
			if n := len(srv.remoteReads()); n != 1 {
				t.Errorf("%d remote reads, want 1: the server's answer is remembered", n)
			}
			if q := srv.instantQueries(); len(q) != 2 || q[0] != "q_total[14m15s]@1793837850" {
				t.Errorf("queries %q, want q_total[14m15s]@1793837850 twice", q)
			}
			if !strings.Contains(logs.String(), "reading through the query API") {
				t.Errorf("the fallback is not logged:\n%s", logs.String())
			}
		})
	}
	t.Run("remote_read set, the server's 404 is an error", func(t *testing.T) {
		srv := newRRServer(t, nil, a)
		srv.setAnswers(promAnswer{status: 404, body: "404 page not found"})
		p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead, Retries: 3}, nil)
		err := promReadOnce(t.Context(), p)
		if err == nil || !strings.Contains(err.Error(), "does not serve remote read (404 Not Found); api: query") {
			t.Errorf("got %v", err)
		}
		if n := len(srv.remoteReads()); n != 1 || len(srv.instantQueries()) != 0 {
			t.Errorf("%d remote reads, %d queries; want 1 and none", n, len(srv.instantQueries()))
		}
	})
	t.Run("after a remote read, a 404 is an error", func(t *testing.T) {
		srv := newRRServer(t, nil, a)
		p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
		if err := promReadOnce(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		srv.setAnswers(promAnswer{}, promAnswer{status: 404, body: "404 page not found"})
		if err := promReadOnce(t.Context(), p); err == nil {
			t.Errorf("no error")
		}
		if len(srv.instantQueries()) != 0 {
			t.Errorf("queried: %q", srv.instantQueries())
		}
	})
	t.Run("query set, remote read is never tried", func(t *testing.T) {
		srv := newRRServer(t, nil, a)
		p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusQuery}, nil)
		got := rrRead(t, p, []string{"q_total"}, from, to)
		rrAssertRuns(t, got, []rrRun{rrWant(a, from, to)})
		if n := len(srv.remoteReads()); n != 0 {
			t.Errorf("%d remote reads", n)
		}
	})
}

// TestQueryAPISlicesAreAnHour checks the query API's default chunk: a
// range of 1h30 from a whole hour is two reads.
func TestQueryAPISlicesAreAnHour(t *testing.T) {
	srv := newRRServer(t, nil)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusQuery}, nil)
	rrRead(t, p, []string{"q_total"}, rrBase.UnixMilli(), rrBase.Add(90*time.Minute).UnixMilli())
	if q := srv.instantQueries(); fmt.Sprint(q) != "[q_total[1h]@1793840400 q_total[30m]@1793842200]" {
		t.Errorf("queries %q", q)
	}
	p = newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead}, nil)
	rrRead(t, p, []string{"q_total"}, rrBase.UnixMilli(), rrBase.Add(150*time.Minute).UnixMilli())
	if n := len(srv.remoteReads()); n != 2 {
		t.Errorf("%d remote reads of 2h30 from a multiple of 2h, want 2", n)
	}
}

func TestRemoteReadTriesAgain(t *testing.T) {
	a, _, _ := rrFleet()
	from, to := a.ts[0], a.ts[99]
	for _, tc := range []struct {
		name   string
		answer promAnswer
	}{
		{"a 503", promAnswer{status: 503, body: "busy"}},
		{"a 429 with Retry-After", promAnswer{status: 429, body: "slow down", header: http.Header{"Retry-After": {"0"}}}},
		{"a stream cut short", promAnswer{}},
		{"a stream with an error in it", promAnswer{status: 200, contentType: promStreamContentType, body: "\x05\x00\x00\x00\x00hello"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRRServer(t, nil, a)
			srv.setAnswers(tc.answer)
			var logs bytes.Buffer
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead, Retries: 1}, &logs)
			got := rrRead(t, p, []string{"q_total"}, from, to)
			rrAssertRuns(t, got, []rrRun{rrWant(a, from, to)})
			if n := len(srv.remoteReads()); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			if !strings.Contains(logs.String(), "retrying") {
				t.Errorf("no retry logged:\n%s", logs.String())
			}
		})
	}
	var notProto bytes.Buffer
	notProto.Write([]byte{3})
	notProto.Write(binary.BigEndian.AppendUint32(nil, crc32.Checksum([]byte{0xff, 0xff, 0xff}, crc32.MakeTable(crc32.Castagnoli))))
	notProto.Write([]byte{0xff, 0xff, 0xff})
	for _, tc := range []struct {
		name     string
		answer   promAnswer
		want     string
		requests int
	}{
		{"a 400 is not, and its error quotes the server's first line", promAnswer{status: 400, body: "exceeded sample limit\nmore"}, "server answered 400 Bad Request: exceeded sample limit", 1},
		{"a corrupt stream is, twice", promAnswer{status: 200, contentType: promStreamContentType, body: "\x02\xff\xff\x8d\x3a\xff\xff"}, "checksum mismatch", 2},
		{"a frame that is not protobuf is not", promAnswer{status: 200, contentType: promStreamContentType, body: notProto.String()}, "decoding frame 0", 1},
		{"samples that are not snappy are not", promAnswer{status: 200, contentType: "application/x-protobuf", body: "\xff\xff\xff"}, "decompressing the answer", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRRServer(t, nil, a)
			srv.setAnswers(tc.answer, tc.answer)
			p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead, Retries: 1}, nil)
			err := promReadOnce(t.Context(), p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "more") {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if n := len(srv.remoteReads()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

func TestRemoteReadRefusesHistograms(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := chunkenc.NewHistogramChunk()
		var stream bytes.Buffer
		rrWriteFrame(&stream, &prompb.ChunkedReadResponse{ChunkedSeries: []*prompb.ChunkedSeries{{
			Labels: []prompb.Label{{Name: "__name__", Value: "latency"}},
			Chunks: []prompb.Chunk{{MinTimeMs: 0, MaxTimeMs: 60000, Type: prompb.Chunk_HISTOGRAM, Data: h.Bytes()}},
		}}})
		w.Header().Set("Content-Type", promStreamContentType)
		w.Write(stream.Bytes())
	}))
	defer srv.Close()
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	err := promReadOnce(t.Context(), p)
	if err == nil || !strings.Contains(err.Error(), `{__name__="latency"} holds native histograms`) {
		t.Errorf("got %v", err)
	}
}

func TestReadStopsAtFnsError(t *testing.T) {
	a, b, c := rrFleet()
	srv := newRRServer(t, nil, c, a, b)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	stop := errors.New("stop")
	calls := 0
	err := p.Read(t.Context(), []string{"q_total", "other_total"}, rrBase, rrBase.Add(time.Hour), func(labels.Labels, []int64, []float64) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("got %v after %d calls, want fn's error after 1", err, calls)
	}
	if n := len(srv.remoteReads()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCancelStopsARemoteRead(t *testing.T) {
	a, _, _ := rrFleet()
	srv := newRRServer(t, func(s *rrServer) { s.hold = true }, a)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL, API: PrometheusRemoteRead, Retries: 3}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-srv.arrived
		cancel()
	}()
	err := promReadOnce(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want the context's error", err)
	}
	if n := len(srv.remoteReads()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestABadSelectorIsNotRead(t *testing.T) {
	srv := newRRServer(t, nil)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	err := promReadOnce(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Read(t.Context(), []string{"up", "sum(up)"}, rrBase, rrBase.Add(time.Hour), func(labels.Labels, []int64, []float64) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `selector "sum(up)"`) {
		t.Errorf("got %v", err)
	}
	if n := len(srv.remoteReads()); n != 1 {
		t.Errorf("%d requests, want only the first read's", n)
	}
}
