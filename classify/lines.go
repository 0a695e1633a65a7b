package classify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// DefaultCodeLabel is the label that carries the error code when Lines is
// given label pairs and no other code label.
const DefaultCodeLabel = "code"

// maxLineBytes bounds one input line of Lines; a longer line is an error
// rather than a silent split.
const maxLineBytes = 1 << 20

// Lines implements `burnwatch classify`. It reads r line by line; each line
// is either a bare code or comma-separated label=value pairs, where the code
// is the value of codeLabel ("" means DefaultCodeLabel) and the other pairs
// are the series' labels for rules that match on them. A value may be
// double-quoted, with Go escapes, to hold a comma; the pairs may be wrapped in
// braces as Prometheus prints them. For each line it writes
// "code<TAB>class<TAB>rule\n". Blank lines and lines starting with # are
// skipped. A malformed line stops the run with an error naming its line
// number; what came before it has been written.
func Lines(r io.Reader, w io.Writer, c *Classifier, codeLabel string) error {
	if codeLabel == "" {
		codeLabel = DefaultCodeLabel
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	bw := bufio.NewWriter(w)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, lset, err := parseLine(line, codeLabel)
		if err != nil {
			bw.Flush()
			return fmt.Errorf("line %d: %w", lineNo, err)
		}
		d := c.Classify(code, lset)
		bw.WriteString(code)
		bw.WriteByte('\t')
		bw.WriteString(d.Class.String())
		bw.WriteByte('\t')
		bw.WriteString(d.Rule)
		bw.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		bw.Flush()
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("line %d: longer than %d bytes", lineNo+1, maxLineBytes)
		}
		return fmt.Errorf("reading codes after line %d: %w", lineNo, err)
	}
	return bw.Flush()
}

// parseLine reads one non-blank line: a bare code, or label pairs.
func parseLine(line, codeLabel string) (string, labels.Labels, error) {
	if !utf8.ValidString(line) {
		return "", labels.EmptyLabels(), errors.New("not valid UTF-8")
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
	code, found := "", false
	for _, p := range pairs {
		if p.Name == codeLabel {
			code, found = p.Value, true
		}
		b.Add(p.Name, p.Value)
	}
	if !found || code == "" {
		return "", labels.EmptyLabels(), fmt.Errorf("no %s=... pair: the code label must be given", codeLabel)
	}
	if strings.ContainsAny(code, "\t\n") {
		return "", labels.EmptyLabels(), fmt.Errorf("code %q contains a tab or newline", code)
	}
	b.Sort()
	return code, b.Labels(), nil
}

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
