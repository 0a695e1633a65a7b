package source

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

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
	// A live cycle's read asks for samples; a long one for chunks, as
	// the server stores them.
	rrRead(t, p, []string{sel}, rrBase.UnixMilli(), rrBase.UnixMilli()+60000)
	rrRead(t, p, []string{sel}, rrBase.UnixMilli(), rrBase.UnixMilli()+3_600_000)
	reads := srv.remoteReads()
	if len(reads) != 2 {
		t.Fatalf("%d requests", len(reads))
	}
	for i, wants := range [][]string{{
		"start_timestamp_ms:1793836800001 end_timestamp_ms:1793836860000",
		`matchers:<type:NEQ name:"db" value:"x" > matchers:<type:RE name:"job" value:"a.*" > matchers:<type:NRE name:"zone" value:"z" > matchers:<name:"__name__" value:"q_total" >`,
		"> accepted_response_types:SAMPLES",
	}, {
		"start_timestamp_ms:1793836800001 end_timestamp_ms:1793840400000",
		"accepted_response_types:STREAMED_XOR_CHUNKS accepted_response_types:SAMPLES",
	}} {
		got := reads[i].String()
		for _, want := range wants {
			if !strings.Contains(got, want) {
				t.Errorf("request %s\nwithout %s", got, want)
			}
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

func TestAnEmptyRangeReadsNothing(t *testing.T) {
	srv := newRRServer(t, nil)
	p := newTestPrometheus(t, PrometheusConfig{URL: srv.URL}, nil)
	for _, r := range [][2]time.Time{{rrBase, rrBase}, {rrBase, rrBase.Add(-time.Hour)}} {
		if got := rrRead(t, p, []string{"q_total"}, r[0].UnixMilli(), r[1].UnixMilli()); len(got) != 0 {
			t.Errorf("(%s, %s]: %v", r[0], r[1], got)
		}
	}
	if got := rrRead(t, p, nil, rrBase.UnixMilli(), rrBase.Add(time.Hour).UnixMilli()); len(got) != 0 {
		t.Errorf("no selectors: %v", got)
	}
	if n := len(srv.remoteReads()) + len(srv.instantQueries()); n != 0 {
		t.Errorf("%d requests", n)
	}
}
