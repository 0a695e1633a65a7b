package classify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// DefaultCodeLabel is the label that carries the error code when Lines is
// given label pairs and no other code label.
const DefaultCodeLabel = "code"

// maxLineBytes bounds one input line of Lines; a longer line is an error
// rather than a silent split.
const maxLineBytes = 1 << 20

// Lines implements `burnwatch classify`. It reads r line by line; each line
// is a bare code, comma-separated label=value pairs, or a series as
// Prometheus's /metrics prints it, metric{code="…",…}, with or without the
// sample value and timestamp after it. In the last two forms the code is
// the value of codeLabel ("" means DefaultCodeLabel) and the other labels
// are the series' for rules that match on them. A pair's value may be
// double-quoted, with Go escapes, to hold a comma; the pairs may be
// wrapped in braces. For each line it writes "code<TAB>class<TAB>rule\n".
// Blank lines and lines starting with # are skipped.
//
// A line it cannot read is reported on errs, "line 7: …", and skipped: the
// other lines are still classified. Lines returns an error saying how
// many lines it skipped, or why it stopped reading.
func Lines(r io.Reader, w, errs io.Writer, c *Classifier, codeLabel string) error {
	if codeLabel == "" {
		codeLabel = DefaultCodeLabel
	}
	br := bufio.NewReaderSize(r, 64*1024)
	bw := bufio.NewWriter(w)
	bad := 0
	report := func(lineNo int, err error) {
		bw.Flush() // so that the report follows the lines before it
		fmt.Fprintf(errs, "line %d: %v\n", lineNo, err)
		bad++
	}
	for lineNo := 1; ; lineNo++ {
		raw, tooLong, err := readLine(br)
		if tooLong {
			report(lineNo, fmt.Errorf("longer than %d bytes", maxLineBytes))
		}
		if line := strings.TrimSpace(raw); !tooLong && line != "" && !strings.HasPrefix(line, "#") {
			code, lset, perr := parseLine(line, codeLabel)
			if perr != nil {
				report(lineNo, perr)
			} else {
				d := c.Classify(code, lset)
				bw.WriteString(code)
				bw.WriteByte('\t')
				bw.WriteString(d.Class.String())
				bw.WriteByte('\t')
				bw.WriteString(d.Rule)
				bw.WriteByte('\n')
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			bw.Flush()
			return fmt.Errorf("reading codes after line %d: %w", lineNo-1, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d line(s) could not be read and were skipped", bad)
	}
	return nil
}

// readLine reads one line without its line ending. A line longer than
// maxLineBytes is read to its end and dropped, with tooLong set. err is
// io.EOF after the last line.
func readLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > maxLineBytes+1 {
			tooLong, b = true, nil
		} else if !tooLong {
			b = append(b, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == nil:
			return strings.TrimRight(string(b), "\r\n"), tooLong, nil
		case err == io.EOF && len(b) == 0 && !tooLong:
			return "", false, io.EOF
		default:
			return strings.TrimRight(string(b), "\r\n"), tooLong, err
		}
	}
}

// parseLine reads one non-blank line: a bare code, label pairs, or a
// series as /metrics prints it.
func parseLine(line, codeLabel string) (string, labels.Labels, error) {
	if !utf8.ValidString(line) {
		return "", labels.EmptyLabels(), errors.New("not valid UTF-8")
	}
	if series, ok := metricSeries(line); ok {
		lset, err := promql.ParseMetric(series)
		if err != nil {
			return "", labels.EmptyLabels(), fmt.Errorf("%q is not a series: %v", series, err)
		}
		return codeOf(lset, codeLabel)
	}
	if !strings.Contains(line, "=") {
		if strings.ContainsAny(line, "\t{}\",") {
			return "", labels.EmptyLabels(), fmt.Errorf("%q is neither a bare code nor label=value pairs", line)
		}
		return line, labels.EmptyLabels(), nil
	}
	pairs, err := parsePairs(line)
	if err != nil {
		return "", labels.EmptyLabels(), err
	}
	b := labels.NewScratchBuilder(len(pairs))
	for _, p := range pairs {
		b.Add(p.Name, p.Value)
	}
	b.Sort()
	return codeOf(b.Labels(), codeLabel)
}

// codeOf returns the value of the code label and the labels.
func codeOf(lset labels.Labels, codeLabel string) (string, labels.Labels, error) {
	code := lset.Get(codeLabel)
	if code == "" {
		return "", labels.EmptyLabels(), fmt.Errorf("no %s=... pair: the code label must be given", codeLabel)
	}
	if strings.ContainsAny(code, "\t\n") {
		return "", labels.EmptyLabels(), fmt.Errorf("code %q contains a tab or newline", code)
	}
	return code, lset, nil
}

// metricNameRE is a metric name as /metrics prints it.
var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*\{`)

// metricSeries returns the series of a line /metrics prints,
// metric{labels} with the sample value and timestamp, if any, cut off.
func metricSeries(line string) (string, bool) {
	if !metricNameRE.MatchString(line) {
		return "", false
	}
	end := strings.LastIndexByte(line, '}')
	if end < 0 {
		return line, true // the parser says what is missing
	}
	fields := strings.Fields(line[end+1:])
	if len(fields) > 2 {
		return line, true
	}
	for i, f := range fields {
		if _, err := strconv.ParseFloat(f, 64); err != nil || i == 1 && strings.ContainsAny(f, ".eEnN") {
			return line, true // not a value and a timestamp: the parser says so
		}
	}
	return line[:end+1], true
}

// promql parses series; from Prometheus v0.311.0 parsing is a method of a
// parser value.
var promql = parser.NewParser(parser.Options{})

// parsePairs splits `a=1, b="x,y"` (optionally wrapped in braces) into pairs.
func parsePairs(s string) ([]labels.Label, error) {
	if strings.HasPrefix(s, "{") {
		if !strings.HasSuffix(s, "}") {
			return nil, errors.New("unclosed {")
		}
		s = s[1 : len(s)-1]
	}
	var out []labels.Label
	seen := map[string]bool{}
	for rest := s; ; {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			// A trailing comma is fine, as in PromQL; nothing at all is not.
			if len(out) == 0 {
				return nil, errors.New("no label pairs")
			}
			return out, nil
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return nil, fmt.Errorf("%q is not a label=value pair", strings.TrimSpace(firstField(rest)))
		}
		name := strings.TrimSpace(rest[:eq])
		switch {
		case name == "":
			return nil, errors.New("empty label name before =")
		case strings.ContainsAny(name, ",\"{} \t"):
			return nil, fmt.Errorf("%q is not a label name", name)
		case seen[name]:
			return nil, fmt.Errorf("label %q given twice", name)
		}
		seen[name] = true
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var value string
		if strings.HasPrefix(rest, `"`) {
			end := closingQuote(rest)
			if end < 0 {
				return nil, fmt.Errorf("label %q: unterminated quoted value", name)
			}
			v, err := strconv.Unquote(rest[:end+1])
			if err != nil {
				return nil, fmt.Errorf("label %q: bad quoted value %s", name, rest[:end+1])
			}
			value, rest = v, strings.TrimLeft(rest[end+1:], " \t")
			if rest != "" && rest[0] != ',' {
				return nil, fmt.Errorf("label %q: expected , after the quoted value", name)
			}
		} else {
			comma := strings.IndexByte(rest, ',')
			if comma < 0 {
				comma = len(rest)
			}
			value, rest = strings.TrimSpace(rest[:comma]), rest[comma:]
			if strings.ContainsAny(value, "=\"{}") {
				return nil, fmt.Errorf("label %q: value %q needs quotes", name, value)
			}
		}
		out = append(out, labels.Label{Name: name, Value: value})
		rest = strings.TrimPrefix(rest, ",")
	}
}

// closingQuote returns the index of the quote that closes the string that
// s starts with, or -1.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func firstField(s string) string {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i]
	}
	return s
}
