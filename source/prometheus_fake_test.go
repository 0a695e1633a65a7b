package source

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
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
		// Until the client gives up; a bound, should it never.
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
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
