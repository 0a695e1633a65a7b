// Package scenario writes recorded metrics for tests from a compact
// description, so that a test scenario reads as what happens rather than as
// thousands of samples. Values use the PromQL test notation that
// promql/parser reads: "0+1000x120" is 0, 1000, …, 120000; "_" is a
// missing sample.
//
//	# a 20-minute outage of db-1
//	start 2026-11-05T00:00:00Z
//	step 1m
//	neo4j_queries_total{database="db-1"} 0+1000x600
//	neo4j_query_errors_total{database="db-1",code="Neo.DatabaseError.General.UnknownError"} 0x120 0+1000x20 20000x460
package scenario

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Series is one counter of a scenario.
type Series struct {
	Labels labels.Labels
	Values []parser.SequenceValue
}

// Scenario is a parsed description.
type Scenario struct {
	Start  time.Time
	Step   time.Duration
	Series []Series
}

var promql = parser.NewParser(parser.Options{})

// Parse reads a scenario description.
func Parse(r io.Reader) (*Scenario, error) {
	sc := &Scenario{Step: time.Minute}
	s := bufio.NewScanner(r)
	s.Buffer(nil, 1<<20)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		var err error
		switch key {
		case "start":
			sc.Start, err = time.Parse(time.RFC3339, rest)
		case "step":
			sc.Step, err = time.ParseDuration(rest)
		default:
			var ser Series
			ser.Labels, ser.Values, err = promql.ParseSeriesDesc(line)
			sc.Series = append(sc.Series, ser)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	if sc.Start.IsZero() {
		return nil, fmt.Errorf("no start line")
	}
	return sc, s.Err()
}

// WriteOpenMetrics writes the scenario as an OpenMetrics exposition with
// timestamps, grouped by metric family and series as a TSDB dump is.
func (sc *Scenario) WriteOpenMetrics(w io.Writer) error {
	bw := bufio.NewWriter(w)
	type family struct {
		name   string
		series []Series
	}
	var fams []*family
	for _, s := range sc.Series {
		name := strings.TrimSuffix(s.Labels.Get(labels.MetricName), "_total")
		i := slices.IndexFunc(fams, func(f *family) bool { return f.name == name })
		if i < 0 {
			fams = append(fams, &family{name: name})
			i = len(fams) - 1
		}
		fams[i].series = append(fams[i].series, s)
	}
	for _, f := range fams {
		fmt.Fprintf(bw, "# TYPE %s counter\n", f.name)
		for _, s := range f.series {
			id := seriesText(s.Labels)
			for i, v := range s.Values {
				if v.Omitted {
					continue
				}
				ts := sc.Start.Add(time.Duration(i) * sc.Step)
				fmt.Fprintf(bw, "%s %s %s\n", id, strconv.FormatFloat(v.Value, 'f', -1, 64), seconds(ts))
			}
		}
	}
	fmt.Fprintln(bw, "# EOF")
	return bw.Flush()
}

func seriesText(lset labels.Labels) string {
	var b strings.Builder
	b.WriteString(lset.Get(labels.MetricName))
	first := true
	lset.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if first {
			b.WriteByte('{')
			first = false
		} else {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	})
	if !first {
		b.WriteByte('}')
	}
	return b.String()
}

func seconds(t time.Time) string {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10)
	}
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}
