package source

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// Remote read is Prometheus's POST /api/v1/read: a snappy-compressed
// protobuf ReadRequest, answered either with the samples in one
// snappy-compressed ReadResponse (SAMPLES), or with a stream of frames,
// each a ChunkedReadResponse holding series with their chunks as the
// TSDB stores them (STREAMED_XOR_CHUNKS), which costs the server next to
// no CPU. The messages are the prometheus module's prompb and the chunks
// are decoded with its tsdb/chunkenc. The request and the framing are
// written here rather than taken from its storage/remote read client,
// which would bring the SDKs of three clouds and OpenTelemetry into the
// build, register its metrics in the default registry, and quote a
// server's error, credentials it echoes and all.

const (
	promSamplesMediaType = "application/x-protobuf"
	promStreamMediaType  = "application/x-streamed-protobuf"
	promStreamProto      = "prometheus.ChunkedReadResponse"

	// promMaxFrame bounds one frame of a streamed answer, as Prometheus's
	// own reader does by default (a server cuts its frames at 1 MB).
	promMaxFrame = 50 << 20
	// promErrorBody is how much of an error's body is read, and
	// promErrorText how much of it an error quotes.
	promErrorBody = 4 << 10
	promErrorText = 256
)

var promCastagnoli = crc32.MakeTable(crc32.Castagnoli)

// promAcceptedTypes asks for streamed chunks, and takes samples from a
// server that has only those.
var promAcceptedTypes = []prompb.ReadRequest_ResponseType{
	prompb.ReadRequest_STREAMED_XOR_CHUNKS,
	prompb.ReadRequest_SAMPLES,
}

// promSamplesOnly asks for samples alone: what a short read, a live
// cycle's, takes. Streamed chunks would send each series' whole head
// chunk (up to 120 samples, and the server re-encodes the part in range)
// for the two or three samples a cycle needs.
var promSamplesOnly = []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES}

// promShortRead is the longest read that asks for samples alone.
const promShortRead = 15 * 60 * 1000

// promSeries is one series as read for one slice of time: either the
// chunks that overlap the slice, decoded when the series is yielded, or
// its samples.
type promSeries struct {
	lset   labels.Labels
	chunks []prompb.Chunk
	ts     []int64
	vs     []float64
}

// remoteRead reads the series that a selector matches over (fromMs,
// toMs], one request. The series come in label order, each once, with
// whatever chunks or samples the server sent: samples() cuts them to the
// range.
func (p *Prometheus) remoteRead(ctx context.Context, sel promSelector, fromMs, toMs int64) ([]promSeries, error) {
	matchers := make([]*prompb.LabelMatcher, len(sel.matchers))
	for i, m := range sel.matchers {
		matchers[i] = &prompb.LabelMatcher{Type: promMatchTypes[m.Type], Name: m.Name, Value: m.Value}
	}
	// Remote read's range includes both ends.
	q := &prompb.Query{
		StartTimestampMs: fromMs + 1,
		EndTimestampMs:   toMs,
		Matchers:         matchers,
		Hints:            &prompb.ReadHints{StartMs: fromMs + 1, EndMs: toMs},
	}
	req := prompb.ReadRequest{Queries: []*prompb.Query{q}, AcceptedResponseTypes: promAcceptedTypes}
	if toMs-fromMs <= promShortRead {
		req.AcceptedResponseTypes = promSamplesOnly
	}
	data, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding the remote read of %s: %w", sel.text, err)
	}
	body := snappy.Encode(nil, data)
	what := fmt.Sprintf("remote reading %s over (%s, %s]", sel.text, promTime(fromMs), promTime(toMs))
	var out []promSeries
	err = p.call(ctx, what, func(ctx context.Context, a *promAttempt) error {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.readURL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		hreq.Header.Set("Content-Type", promSamplesMediaType)
		hreq.Header.Set("Content-Encoding", "snappy")
		hreq.Header.Set("Accept-Encoding", "snappy")
		hreq.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
		hreq.Header.Set("User-Agent", "burnwatch")
		resp, err := p.client.Do(hreq)
		if err != nil {
			return err
		}
		defer func() {
			io.Copy(io.Discard, io.LimitReader(resp.Body, promErrorBody))
			resp.Body.Close()
		}()
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed ||
			resp.StatusCode == http.StatusNotImplemented:
			return &promNoRemoteRead{answer: resp.Status}
		case resp.StatusCode/100 != 2:
			return promErrorAnswer(resp, a)
		}
		ct := resp.Header.Get("Content-Type")
		media, params, _ := mime.ParseMediaType(ct)
		switch {
		case media == promStreamMediaType && params["proto"] == promStreamProto:
			out, err = promReadStream(resp.Body)
		case media == promSamplesMediaType:
			out, err = promReadSamples(resp.Body)
		default:
			return &promNoRemoteRead{answer: fmt.Sprintf("%s with Content-Type %q", resp.Status, ct)}
		}
		return err
	})
	return out, err
}

var promMatchTypes = map[labels.MatchType]prompb.LabelMatcher_Type{
	labels.MatchEqual:     prompb.LabelMatcher_EQ,
	labels.MatchNotEqual:  prompb.LabelMatcher_NEQ,
	labels.MatchRegexp:    prompb.LabelMatcher_RE,
	labels.MatchNotRegexp: prompb.LabelMatcher_NRE,
}

// promErrorAnswer makes an error of an answer that is not a success,
// quoting the start of its body without the request's secrets.
func promErrorAnswer(resp *http.Response, a *promAttempt) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, promErrorBody))
	msg, _, _ := strings.Cut(strings.TrimSpace(a.redact(string(b))), "\n")
	if len(msg) > promErrorText {
		msg = strings.ToValidUTF8(msg[:promErrorText], "") + "…"
	}
	return &promHTTPError{status: resp.Status, msg: msg}
}

// promReadStream reads a STREAMED_XOR_CHUNKS answer: frames of a uvarint
// length, the big-endian CRC-32 (Castagnoli) of the frame, and the frame,
// a ChunkedReadResponse; a series whose chunks fill more than a frame
// goes on in the next ones.
func promReadStream(r io.Reader) ([]promSeries, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		out []promSeries
		buf []byte
		msg prompb.ChunkedReadResponse
		b   = labels.NewScratchBuilder(8)
	)
	for frame := 0; ; frame++ {
		// Errors of the framing are taken as a stream cut short, and
		// tried again: a server that fails half way through writes its
		// error into the stream.
		size, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading frame %d: %w", frame, err)
		}
		if size > promMaxFrame {
			return nil, fmt.Errorf("frame %d is %d bytes, more than the %d a frame may be", frame, size, promMaxFrame)
		}
		var sum [4]byte
		if _, err := io.ReadFull(br, sum[:]); err != nil {
			return nil, fmt.Errorf("reading frame %d: %w", frame, promUnexpectedEOF(err))
		}
		buf = slices.Grow(buf[:0], int(size))[:size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, fmt.Errorf("reading frame %d: %w", frame, promUnexpectedEOF(err))
		}
		if crc32.Checksum(buf, promCastagnoli) != binary.BigEndian.Uint32(sum[:]) {
			return nil, fmt.Errorf("frame %d: checksum mismatch", frame)
		}
		msg.Reset()
		if err := msg.Unmarshal(buf); err != nil { // copies what it keeps
			return nil, &promBadAnswer{fmt.Errorf("decoding frame %d: %w", frame, err)}
		}
		if msg.QueryIndex != 0 {
			return nil, &promBadAnswer{fmt.Errorf("frame %d answers query %d of 1", frame, msg.QueryIndex)}
		}
		for _, cs := range msg.ChunkedSeries {
			lset := promPBLabels(&b, cs.Labels)
			if n := len(out); n > 0 && labels.Equal(out[n-1].lset, lset) {
				out[n-1].chunks = append(out[n-1].chunks, cs.Chunks...)
				continue
			}
			out = append(out, promSeries{lset: lset, chunks: cs.Chunks})
		}
	}
	return promMerge(out), nil
}

// promUnexpectedEOF says that a stream that ends within a frame was cut.
func promUnexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// promReadSamples reads a SAMPLES answer: one snappy block holding a
// ReadResponse.
func promReadSamples(r io.Reader) ([]promSeries, error) {
	compressed, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, &promBadAnswer{fmt.Errorf("decompressing the answer: %w", err)}
	}
	var resp prompb.ReadResponse
	if err := resp.Unmarshal(data); err != nil {
		return nil, &promBadAnswer{fmt.Errorf("decoding the answer: %w", err)}
	}
	if len(resp.Results) != 1 {
		return nil, &promBadAnswer{fmt.Errorf("the answer has %d results, want 1", len(resp.Results))}
	}
	b := labels.NewScratchBuilder(8)
	out := make([]promSeries, 0, len(resp.Results[0].Timeseries))
	for _, ts := range resp.Results[0].Timeseries {
		lset := promPBLabels(&b, ts.Labels)
		if len(ts.Histograms) > 0 {
			return nil, &promBadAnswer{promHistogramError(lset)}
		}
		s := promSeries{lset: lset, ts: make([]int64, len(ts.Samples)), vs: make([]float64, len(ts.Samples))}
		for i, x := range ts.Samples {
			s.ts[i], s.vs[i] = x.Timestamp, x.Value
		}
		out = append(out, s)
	}
	return promMerge(out), nil
}

func promPBLabels(b *labels.ScratchBuilder, ls []prompb.Label) labels.Labels {
	b.Reset()
	for _, l := range ls {
		b.Add(l.Name, l.Value)
	}
	b.Sort()
	return b.Labels()
}

func promHistogramError(lset labels.Labels) error {
	return fmt.Errorf("%s holds native histograms, which are not counters burnwatch can read", lset)
}

// promMerge puts series in label order and makes one of the parts of a
// series that a server sent apart: Prometheus sends them sorted and
// whole, another server need not.
func promMerge(ss []promSeries) []promSeries {
	byLabels := func(a, b promSeries) int { return labels.Compare(a.lset, b.lset) }
	if !slices.IsSortedFunc(ss, byLabels) {
		slices.SortStableFunc(ss, byLabels)
	}
	out := ss[:0]
	for _, s := range ss {
		if n := len(out); n > 0 && labels.Equal(out[n-1].lset, s.lset) {
			last := &out[n-1]
			last.chunks = append(last.chunks, s.chunks...)
			last.ts = append(last.ts, s.ts...)
			last.vs = append(last.vs, s.vs...)
			continue
		}
		out = append(out, s)
	}
	clear(ss[len(out):])
	return out[:len(out):len(out)]
}

// samples returns the series' samples with time in (fromMs, toMs], in
// time order, each time once: the chunks that a server sends overlap the
// range, and may overlap each other.
func (s *promSeries) samples(fromMs, toMs int64) ([]int64, []float64, error) {
	if s.chunks == nil {
		return promTrim(s.ts, s.vs, fromMs, toMs)
	}
	slices.SortStableFunc(s.chunks, func(a, b prompb.Chunk) int { return cmp.Compare(a.MinTimeMs, b.MinTimeMs) })
	n := 0
	for _, c := range s.chunks {
		if c.MaxTimeMs > fromMs && c.MinTimeMs <= toMs && len(c.Data) >= 2 {
			n += int(binary.BigEndian.Uint16(c.Data)) // a chunk's header: its sample count
		}
	}
	ts, vs := make([]int64, 0, n), make([]float64, 0, n)
	last := fromMs
	var it chunkenc.Iterator
	for _, c := range s.chunks {
		if c.MaxTimeMs <= fromMs || c.MinTimeMs > toMs {
			continue
		}
		enc := chunkenc.Encoding(c.Type)
		switch enc {
		case chunkenc.EncXOR, chunkenc.EncXOR2:
		case chunkenc.EncHistogram, chunkenc.EncFloatHistogram, chunkenc.EncHistogramST, chunkenc.EncFloatHistogramST:
			return nil, nil, promHistogramError(s.lset)
		default:
			return nil, nil, fmt.Errorf("%s: a chunk of unknown encoding %d", s.lset, c.Type)
		}
		chk, err := chunkenc.FromData(enc, c.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", s.lset, err)
		}
		it = chk.Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			if t > toMs {
				break
			}
			if t > last {
				ts, vs = append(ts, t), append(vs, v)
				last = t
			}
		}
		if err := it.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: decoding a chunk of %s to %s: %w", s.lset, promTime(c.MinTimeMs), promTime(c.MaxTimeMs), err)
		}
	}
	s.chunks = nil
	return ts, vs, nil
}

// promTrim keeps the samples with time in (fromMs, toMs] that come after
// the one before them, in place.
func promTrim(ts []int64, vs []float64, fromMs, toMs int64) ([]int64, []float64, error) {
	n := 0
	last := fromMs
	for i, t := range ts {
		if t > last && t <= toMs {
			ts[n], vs[n] = t, vs[i]
			n++
			last = t
		}
	}
	return ts[:n:n], vs[:n:n], nil
}
