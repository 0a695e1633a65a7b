package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// ExportCSVHeader starts the export's minutes CSV; a burn_<window> column
// follows for every window of the SLOs exported (ExportHeader.Windows).
var ExportCSVHeader = []string{"slo", "labels", "time", "valid", "bad"}

// ExportTimelineCSVHeader is the header of the timeline CSV.
var ExportTimelineCSVHeader = []string{"time", "event", "alert", "slo", "severity", "labels", "receiver", "detail"}

// csvExport writes one row per instance and minute, and the timeline to a
// second CSV when it has somewhere to go.
type csvExport struct {
	w        *bufio.Writer
	timeline *csv.Writer
	windows  []string // the header's burn columns
	col      []int    // per window of the current instance, its column
	prefix   []byte   // the current instance's slo and labels cells
	row      []byte
	burns    []float64
}

func newCSVExport(w, timeline io.Writer) *csvExport {
	c := &csvExport{w: bufio.NewWriterSize(w, 64<<10)}
	if timeline != nil {
		c.timeline = csv.NewWriter(timeline)
	}
	return c
}

func (c *csvExport) Begin(h ExportHeader) error {
	c.windows = h.Windows
	head := slices.Clone(ExportCSVHeader)
	for _, w := range h.Windows {
		head = append(head, "burn_"+w)
	}
	cw := csv.NewWriter(c.w)
	cw.Write(head)
	cw.Flush()
	if c.timeline != nil {
		c.timeline.Write(ExportTimelineCSVHeader)
	}
	return cw.Error()
}

func (c *csvExport) Instance(in ExportInstance) error {
	c.col = c.col[:0]
	for _, w := range in.Windows {
		c.col = append(c.col, slices.Index(c.windows, w))
	}
	c.prefix = appendCSVCell(appendCSVCell(c.prefix[:0], in.SLO), labelString(in.Labels))
	c.burns = make([]float64, len(c.windows))
	return nil
}

// Minute writes a row by hand: a fleet's month is hundreds of millions of
// rows, and only the labels cell ever needs quoting.
func (c *csvExport) Minute(m ExportMinute) error {
	for i := range c.burns {
		c.burns[i] = math.NaN()
	}
	for i, b := range m.Burn {
		if c.col[i] >= 0 {
			c.burns[c.col[i]] = b
		}
	}
	r := append(c.row[:0], c.prefix...)
	r = m.T.UTC().AppendFormat(r, time.RFC3339)
	r = append(r, ',')
	r = appendCSVNumber(r, m.Valid)
	r = append(r, ',')
	r = appendCSVNumber(r, m.Bad)
	for _, b := range c.burns {
		r = append(r, ',')
		r = appendCSVNumber(r, b)
	}
	r = append(r, '\n')
	c.row = r
	_, err := c.w.Write(r)
	return err
}

func (c *csvExport) Impact(ExportImpact) error { return nil }

func (c *csvExport) Event(e TimelineEvent) error {
	if c.timeline == nil {
		return nil
	}
	return c.timeline.Write([]string{e.Time.UTC().Format(time.RFC3339), e.Event, e.Alert, e.SLO, e.Severity, labelString(e.Labels), e.Receiver, e.Detail})
}

func (c *csvExport) End() error {
	if c.timeline != nil {
		c.timeline.Flush()
		if err := c.timeline.Error(); err != nil {
			return fmt.Errorf("writing the timeline CSV: %w", err)
		}
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("writing the export CSV: %w", err)
	}
	return nil
}

// appendCSVCell appends a cell and its comma, quoted as encoding/csv
// would quote it.
func appendCSVCell(b []byte, s string) []byte {
	var buf bufferWriter
	cw := csv.NewWriter(&buf)
	cw.Write([]string{s})
	cw.Flush()
	cell := buf.b[:len(buf.b)-1] // without its newline
	return append(append(b, cell...), ',')
}

type bufferWriter struct{ b []byte }

func (w *bufferWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// appendCSVNumber appends a number in full, empty when unknown.
func appendCSVNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return b
	}
	return appendFloat(b, v)
}

// appendNumber appends a JSON number, null when unknown.
func appendNumber(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return appendFloat(b, v)
}

// appendFloat appends the shortest text that reads back as v, in plain
// decimals as encoding/json writes them (1000000, not 1e+06), with an
// exponent only for the very small and the very large.
func appendFloat(b []byte, v float64) []byte {
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, v, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}
