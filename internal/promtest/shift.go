package promtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// Shift writes a copy of the OpenMetrics file with every timestamp moved
// by the same amount, so that the latest is end, and returns the copy's
// path. Test scenarios are dated; Prometheus serves data best as recent
// data, and a live source reads up to now.
func Shift(t testing.TB, omFile string, end time.Time) string {
	t.Helper()
	src, err := os.ReadFile(omFile)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), filepath.Base(omFile))
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := ShiftOpenMetrics(f, src, end); err != nil {
		t.Fatalf("promtest: shifting %s: %v", omFile, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return name
}

// ShiftOpenMetrics writes the OpenMetrics exposition src to w with every
// sample's timestamp moved by the same amount, so that the latest is end
// (to the millisecond). Families, their metadata and the order of samples
// are kept; exemplars are dropped. Every sample must have a timestamp.
func ShiftOpenMetrics(w io.Writer, src []byte, end time.Time) error {
	latest := int64(math.MinInt64)
	if err := eachEntry(src, func(p textparse.Parser, e textparse.Entry) error {
		if e == textparse.EntrySeries {
			_, ts, _ := p.Series()
			if ts == nil {
				return errors.New("a sample has no timestamp")
			}
			latest = max(latest, *ts)
		}
		return nil
	}); err != nil {
		return err
	}
	if latest == math.MinInt64 {
		return errors.New("no samples")
	}
	delta := end.UnixMilli() - latest
	bw := bufio.NewWriter(w)
	err := eachEntry(src, func(p textparse.Parser, e textparse.Entry) error {
		switch e {
		case textparse.EntryType:
			name, typ := p.Type()
			fmt.Fprintf(bw, "# TYPE %s %s\n", name, typ)
		case textparse.EntryHelp:
			name, text := p.Help()
			fmt.Fprintf(bw, "# HELP %s %s\n", name, helpEscaper.Replace(string(text)))
		case textparse.EntryUnit:
			name, unit := p.Unit()
			fmt.Fprintf(bw, "# UNIT %s %s\n", name, unit)
		case textparse.EntrySeries:
			series, ts, v := p.Series()
			fmt.Fprintf(bw, "%s %s %s\n", series, formatValue(v), seconds(*ts+delta))
		}
		return nil
	})
	if err != nil {
		return err
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// eachEntry parses src with the Prometheus OpenMetrics parser and calls fn
// for every entry.
func eachEntry(src []byte, fn func(textparse.Parser, textparse.Entry) error) error {
	p := textparse.NewOpenMetricsParser(src, labels.NewSymbolTable())
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(p, e); err != nil {
			return err
		}
	}
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64) // NaN as "NaN"
}

// seconds writes a time in milliseconds as OpenMetrics seconds.
func seconds(ms int64) string {
	s := strconv.FormatInt(ms/1000, 10)
	if r := ms % 1000; r != 0 {
		if ms < 0 && ms/1000 == 0 {
			s = "-0"
		}
		s += "." + fmt.Sprintf("%03d", max(r, -r))
	}
	return s
}
