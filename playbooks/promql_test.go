package playbooks

import (
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

var promqlBlock = regexp.MustCompile("(?s)```promql\n(.*?)```")

// placeholders stand for the values an alert's link fills in ({{database}})
// and a responder puts in the queries ($NS).
var placeholders = strings.NewReplacer("{{database}}", "db-1", "$NS", "tenant-db-1", "$OPNS", "dbaas-system")

// TestDefaultsPromQLParses parses every query of the default playbooks with
// Prometheus's own parser, so that none fails when pasted at 3 a.m.
func TestDefaultsPromQLParses(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	promql := parser.NewParser(parser.Options{})
	n := 0
	for _, p := range s.all() {
		for _, block := range promqlBlock.FindAllStringSubmatch(string(p.Body), -1) {
			for _, q := range queries(block[1]) {
				n++
				if _, err := promql.ParseExpr(placeholders.Replace(q)); err != nil {
					t.Errorf("%s: %v\n%s", p.ID, err, q)
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("found only %d queries; is the block pattern right?", n)
	}
}

// queries splits a block into its expressions: comment lines and blank lines
// separate them, and so does a new line at the top level, unless it starts
// with white space or a binary operator (a continuation).
func queries(block string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	flush := func() {
		if q := strings.TrimSpace(cur.String()); q != "" {
			out = append(out, q)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(block, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			if depth == 0 {
				flush()
			}
			continue
		}
		continues := depth > 0 || line != trimmed || strings.ContainsAny(trimmed[:1], "/*>+-<=!")
		if !continues {
			flush()
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		depth += strings.Count(line, "(") - strings.Count(line, ")")
	}
	flush()
	return out
}
