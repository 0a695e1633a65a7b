package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

type sample struct {
	series string
	ts     int64
	v      float64
	new    bool
}

func readAll(t *testing.T, r *Reader) ([]sample, error) {
	t.Helper()
	var got []sample
	for r.Next() {
		ts, v := r.At()
		got = append(got, sample{r.Labels().String(), ts, v, r.NewSeries()})
	}
	return got, r.Err()
}

const om = `# TYPE q counter
q_total{db="a"} 1 1700000000
q_total{db="a"} 3 1700000060.5
q_total{db="b"} 7 1700000000
# EOF
`

func TestReadsOpenMetrics(t *testing.T) {
	got, err := readAll(t, NewReader("x.om", strings.NewReader(om), OpenMetrics))
	if err != nil {
		t.Fatal(err)
	}
	want := []sample{
		{`{__name__="q_total", db="a"}`, 1700000000000, 1, true},
		{`{__name__="q_total", db="a"}`, 1700000060500, 3, false},
		{`{__name__="q_total", db="b"}`, 1700000000000, 7, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadsPrometheusText(t *testing.T) {
	text := "# TYPE q_total counter\nq_total{db=\"a\"} 1 1700000000000\n\nq_total{db=\"a\"} 2 1700000060000\n"
	got, err := readAll(t, NewReader("x.prom", strings.NewReader(text), PromText))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ts != 1700000060000 || got[1].v != 2 {
		t.Errorf("got %+v", got)
	}
}

// TestChunksAreSeamless reads a file much larger than one chunk: samples
// must come out the same whatever the chunk boundaries.
func TestChunksAreSeamless(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE q counter\n")
	const n = 60000 // about 2.5 MB, three chunks
	for i := range n {
		b.WriteString(`q_total{database="db-with-a-long-name-to-fill-chunks"} `)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(1700000000 + 60*i))
		b.WriteString("\n")
	}
	b.WriteString("# EOF\n")
	got, err := readAll(t, NewReader("big.om", strings.NewReader(b.String()), OpenMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read %d samples, want %d", len(got), n)
	}
	for i, s := range got {
		if s.v != float64(i) || s.ts != int64(1700000000+60*i)*1000 || s.new != (i == 0) {
			t.Fatalf("sample %d is %+v", i, s)
		}
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	big := "# TYPE q counter\n" + strings.Repeat("q_total{db=\"a\"} 1 1700000000\n", 50000)
	tests := []struct {
		name   string
		format Format
		in     string
		want   string
	}{
		{"a malformed value", OpenMetrics, "# TYPE q counter\nq_total 1 1700000000\nq_total one 1700000060\n# EOF\n",
			`x:3: strconv.ParseFloat: parsing "one": invalid syntax while parsing: "q_total one"`},
		{"a sample without a timestamp", OpenMetrics, "# TYPE q counter\nq_total 1 1700000000\nq_total 2\n# EOF\n",
			"x:3: sample has no timestamp; a recording needs one on every sample"},
		{"data after # EOF", OpenMetrics, "q_total 1 1700000000\n# EOF\nq_total 2 1700000060\n",
			"x:3: data after # EOF"},
		{"a malformed line after the first chunk", OpenMetrics, big + "q_total{db=\"a\" 1 1700000000\n# EOF\n",
			`x:50002: expected comma or brace close, got " " ("INVALID") while parsing: "q_total{db=\"a\" "`},
		{"a malformed line in Prometheus text", PromText, "q_total 1 1700000000000\n\nq_total 2 x\n",
			`x:3: expected timestamp or new record, got "x" ("INVALID") while parsing: "q_total 2 x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, NewReader("x", strings.NewReader(tt.in), tt.format))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LineError", err)
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q\nwant  %q", err, tt.want)
			}
		})
	}
}

func TestOpensGzip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.om.gz")
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write([]byte(om))
	z.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if FormatOf(path) != OpenMetrics || FormatOf("x.prom.gz") != PromText {
		t.Errorf("FormatOf guesses wrong")
	}
	r, err := Open(path, nil, FormatOf(path))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := readAll(t, r)
	if err != nil || len(got) != 3 {
		t.Errorf("read %d samples, err %v", len(got), err)
	}
	// Compressed standard input is recognised by its magic bytes.
	r, err = Open("-", bytes.NewReader(buf.Bytes()), OpenMetrics)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := readAll(t, r); err != nil || len(got) != 3 {
		t.Errorf("from stdin: read %d samples, err %v", len(got), err)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(om), false)
	f.Add([]byte("q_total 1 1700000000000\n"), true)
	f.Add([]byte("# TYPE q counter\nq_total{a=\"\\\"\"} 1e3 1.5\n# EOF\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, prom bool) {
		format := OpenMetrics
		if prom {
			format = PromText
		}
		r := NewReader("fuzz", bytes.NewReader(data), format)
		for r.Next() {
			r.At()
			r.Labels()
		}
		_ = r.Err()
	})
}

func TestLineLongerThanAChunk(t *testing.T) {
	long := strings.Repeat("x", chunkSize+100)
	in := "q_total{a=\"" + long + "\"} 1 1700000000\nq_total{a=\"b\"} 2 1700000000"
	got, err := readAll(t, NewReader("x.prom", strings.NewReader(in), OpenMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].v != 2 || !strings.Contains(got[0].series, long) {
		t.Errorf("read %d samples", len(got))
	}
}
