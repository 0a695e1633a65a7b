// Package source reads counter samples from where they are kept: recorded
// exposition files, and (later) live servers. Every source yields the same
// thing, timestamped samples per series, so that all that follows is shared.
package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// Format is a text exposition format.
type Format int

const (
	OpenMetrics Format = iota // timestamps in seconds, ends with "# EOF"
	PromText                  // the Prometheus text format, timestamps in milliseconds
)

// FormatOf guesses a file's format from its name: .prom and .txt are the
// Prometheus text format, anything else OpenMetrics.
func FormatOf(name string) Format {
	switch filepath.Ext(strings.TrimSuffix(name, ".gz")) {
	case ".prom", ".txt":
		return PromText
	}
	return OpenMetrics
}

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "openmetrics", "om":
		return OpenMetrics, nil
	case "prometheus", "prom", "text":
		return PromText, nil
	}
	return 0, fmt.Errorf("unknown format %q; valid: openmetrics, prometheus", s)
}

// chunkSize is how much of a file is parsed at a time: the parsers take a
// byte slice, and a file must not be held in memory whole.
const chunkSize = 1 << 20

var eofLine = []byte("# EOF\n")

// Reader reads timestamped float samples from an OpenMetrics or Prometheus
// text exposition, such as `promtool tsdb create-blocks-from openmetrics`
// reads. It parses the stream a chunk of whole lines at a time with the
// Prometheus parsers, so memory does not grow with the file.
type Reader struct {
	name   string
	in     *bufio.Reader
	format Format
	closer io.Closer

	chunk     []byte // whole lines, plus "# EOF" for OpenMetrics
	data      int    // len of chunk without the appended EOF
	chunkLine int    // line number of the chunk's first line
	p         textparse.Parser
	om        *textparse.OpenMetricsParser // p, when it is one
	entry     int                          // entries parsed from this chunk so far
	done      bool                         // the file ended, or its own # EOF was read
	eof       bool                         // the input is exhausted
	carry     []byte

	series    []byte // the current sample's series, as written
	newSeries bool
	lset      labels.Labels
	ts        int64
	val       float64
	err       error
}

// Open opens a recording for reading: the file name, or stdin when name is
// "-". Gzip-compressed input is recognised by its magic bytes and read
// decompressed.
func Open(name string, stdin io.Reader, format Format) (*Reader, error) {
	var (
		r      io.Reader = stdin
		closer io.Closer
	)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		r, closer = f, f
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		z, err := gzip.NewReader(br)
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		in = z
	}
	rd := NewReader(name, in, format)
	rd.closer = closer
	return rd, nil
}

// NewReader reads an exposition from r; name is used in errors.
func NewReader(name string, r io.Reader, format Format) *Reader {
	return &Reader{name: name, in: bufio.NewReaderSize(r, 64<<10), format: format, chunkLine: 1}
}

// Close closes the file Open opened.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Next advances to the next float sample. It returns false at the end of
// the input or on an error, which Err returns.
func (r *Reader) Next() bool {
	for r.err == nil {
		if r.p == nil && !r.nextChunk() {
			return false
		}
		e, err := r.p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				r.chunkLine += r.countLines()
				r.p = nil
				continue
			}
			r.err = r.errorAt(r.entry, err.Error())
			return false
		}
		r.entry++
		switch e {
		case textparse.EntrySeries:
			// Call the OpenMetrics parser by its concrete type, so that
			// Series inlines and the timestamp it returns by pointer
			// stays on the stack instead of costing an allocation.
			var (
				series []byte
				ts     *int64
				v      float64
			)
			if r.om != nil {
				series, ts, v = r.om.Series()
			} else {
				series, ts, v = r.p.Series()
			}
			if ts == nil {
				r.err = r.errorAt(r.entry-1, "sample has no timestamp; a recording needs one on every sample")
				return false
			}
			r.newSeries = !bytes.Equal(series, r.series)
			if r.newSeries {
				r.series = append(r.series[:0], series...)
				r.p.Labels(&r.lset)
			}
			r.ts, r.val = *ts, v
			return true
		case textparse.EntryHistogram:
			r.err = r.errorAt(r.entry-1, "native histograms are not counters burnwatch can read")
			return false
		}
	}
	return false
}

// NewSeries reports whether the current sample starts a different series
// from the one before it.
func (r *Reader) NewSeries() bool { return r.newSeries }

// Labels returns the current series' labels. They stay valid until the
// next new series.
func (r *Reader) Labels() labels.Labels { return r.lset }

// At returns the current sample's time in milliseconds and its value.
func (r *Reader) At() (int64, float64) { return r.ts, r.val }

// Err returns the error that stopped Next, if any.
func (r *Reader) Err() error { return r.err }

// Line returns the line number of the current sample.
func (r *Reader) Line() int { return r.lineOfEntry(r.entry - 1) }

// Errorf returns an error located at the current sample's line.
func (r *Reader) Errorf(format string, args ...any) error {
	return r.errorAt(r.entry-1, fmt.Sprintf(format, args...))
}

// nextChunk reads the next run of whole lines and starts a parser over it.
// The bytes after the last newline wait in carry for the next chunk.
func (r *Reader) nextChunk() bool {
	if r.done {
		return false
	}
	buf := append(r.chunk[:0], r.carry...)
	r.carry = r.carry[:0]
	// Read a chunk's worth, and on past it until a line ends.
	for !r.eof && (len(buf) < chunkSize || bytes.IndexByte(buf[max(0, len(buf)-chunkSize):], '\n') < 0) {
		buf = slices.Grow(buf, chunkSize)
		n, err := r.in.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			r.eof = true
		} else if err != nil {
			r.err = fmt.Errorf("%s: reading: %w", r.name, err)
			return false
		}
	}
	if r.eof {
		r.done = true
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			buf = append(buf, '\n')
		}
	} else {
		nl := bytes.LastIndexByte(buf, '\n')
		r.carry = append(r.carry, buf[nl+1:]...)
		buf = buf[:nl+1]
	}
	if r.format == OpenMetrics {
		if at := eofAt(buf); at >= 0 {
			// The file's own # EOF ends it; anything after is an error.
			rest := bytes.TrimSpace(buf[min(at+len(eofLine), len(buf)):])
			if len(rest) > 0 || len(r.carry) > 0 || !r.done && r.more() {
				line := r.chunkLine + bytes.Count(buf[:at], []byte{'\n'}) + 1
				r.err = &LineError{File: r.name, Line: line, Msg: "data after # EOF"}
				return false
			}
			buf = buf[:at]
			r.done = true
		}
	}
	if len(buf) == 0 {
		r.chunk = buf
		return false
	}
	r.setChunk(buf)
	return true
}

// eofAt returns the offset of a "# EOF" line in b, or -1.
func eofAt(b []byte) int {
	for off := 0; ; {
		i := bytes.Index(b[off:], eofLine[:5])
		if i < 0 {
			return -1
		}
		i += off
		end := i + 5
		if (i == 0 || b[i-1] == '\n') && (end == len(b) || b[end] == '\n' || b[end] == '\r') {
			return i
		}
		off = end
	}
}

// more reports whether the input has bytes left.
func (r *Reader) more() bool {
	_, err := r.in.Peek(1)
	return err == nil
}

func (r *Reader) setChunk(buf []byte) {
	r.data = len(buf)
	if r.format == OpenMetrics {
		buf = append(buf, eofLine...)
	}
	r.chunk = buf
	r.entry = 0
	r.p = r.parser(buf)
	r.om, _ = r.p.(*textparse.OpenMetricsParser)
}

func (r *Reader) parser(b []byte) textparse.Parser {
	st := labels.NewSymbolTable()
	if r.format == OpenMetrics {
		return textparse.NewOpenMetricsParser(b, st)
	}
	return textparse.NewPromParser(b, st, false)
}

// countLines is the number of lines of data in the current chunk.
func (r *Reader) countLines() int { return bytes.Count(r.chunk[:r.data], []byte{'\n'}) }

// lineOfEntry finds the file line of the i-th entry (0-based) of the chunk,
// or of the parse error after i entries. The parsers do not report
// positions, so it parses ever longer prefixes of the chunk, a binary
// search over its lines; it runs only to locate an error.
func (r *Reader) lineOfEntry(i int) int {
	data := r.chunk[:r.data]
	starts := []int{0}
	for j, c := range data {
		if c == '\n' && j+1 < len(data) {
			starts = append(starts, j+1)
		}
	}
	// The smallest n such that the first n lines hold more than i entries
	// or fail to parse.
	lo, hi := 1, len(starts)
	for lo < hi {
		mid := (lo + hi) / 2
		end := len(data)
		if mid < len(starts) {
			end = starts[mid]
		}
		if r.entriesIn(data[:end]) > i {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return r.chunkLine + lo - 1
}

// entriesIn counts the entries parsed from b, counting a parse error as one
// more entry so that the failing line is found like any other.
func (r *Reader) entriesIn(b []byte) int {
	b = append(append([]byte(nil), b...), eofLine...)
	if r.format != OpenMetrics {
		b = b[:len(b)-len(eofLine)]
	}
	p := r.parser(b)
	n := 0
	for {
		_, err := p.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		n++
		if err != nil {
			return n
		}
	}
}

func (r *Reader) errorAt(entry int, msg string) error {
	return &LineError{File: r.name, Line: r.lineOfEntry(entry), Msg: msg}
}

// LineError is a problem at one line of an input file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }
