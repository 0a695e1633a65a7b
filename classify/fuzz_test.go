package classify

import (
	"bytes"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// FuzzClassify checks that Classify never panics and always agrees with the
// plain first-match-wins reading of the rules, for any code and label value,
// with config rules of every kind ahead of every pack.
func FuzzClassify(f *testing.F) {
	for _, s := range []string{"", "Neo.ClientError.Cluster.NotALeader", "Neo.ClientError.", "42N01", "40001", "429", "5", "OutOfcpu", "\xff", "08N"} {
		f.Add(s, "canary")
	}
	config := []Rule{
		{Match: Match{Prefix: "Neo.ClientError.Statement.", Labels: map[string]string{"database": "canary"}}, Class: Platform, Reason: "fuzz"},
		{Match: Match{Regex: "4[0-2][0-9]|Neo\\.Transient.*"}, Class: Ignore, Reason: "fuzz"},
		{Match: Match{Code: "40001", Labels: map[string]string{"database": "canary"}}, Class: Platform, Reason: "fuzz"},
		{Match: Match{Regex: "(?i)oom.*"}, Class: User, Reason: "fuzz"},
	}
	c := mustNew(f, config, nil)
	n := newNaive(f, config, nil)
	f.Fuzz(func(t *testing.T, code, database string) {
		lset := labels.FromStrings("database", database)
		if got, want := c.Classify(code, lset), n.classify(code, lset); got != want {
			t.Errorf("Classify(%q, database=%q) = %+v, first-match says %+v", code, database, got, want)
		}
	})
}

// FuzzRuleValidate checks that any regular expression, label or class is
// reported by Validate, never a panic, and that a rule Validate accepts
// builds a classifier.
func FuzzRuleValidate(f *testing.F) {
	for _, s := range []string{"(", "a(?P<x>b", "[z-a]", "x{1001}", "\\", "a**", ".*"} {
		f.Add(s, "name", uint8(1))
	}
	f.Fuzz(func(t *testing.T, re, label string, class uint8) {
		r := Rule{Match: Match{Regex: re, Labels: map[string]string{label: "v"}}, Class: Class(class)}
		errs := r.Validate()
		_, err := New([]Rule{r}, []string{})
		if (len(errs) == 0) != (err == nil) {
			t.Errorf("Validate() = %v but New() = %v", errs, err)
		}
		if err == nil {
			c := mustNew(t, []Rule{r}, []string{})
			c.Classify(re, labels.FromStrings(label, "v"))
		}
	})
}

// FuzzLines checks that any input gives output or reports naming a line,
// never a panic.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"404\n", "code=1,a=\"b,c\"\n", "{code=\"x\"}", "=\n", "a=1,,b=2", "code=\"\\"} {
		f.Add(s)
	}
	c := mustNew(f, nil, nil)
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		var errs bytes.Buffer
		if err := Lines(strings.NewReader(in), &out, &errs, c, ""); err != nil && !strings.HasSuffix(err.Error(), "could not be read and were skipped") && !strings.HasPrefix(err.Error(), "reading") {
			t.Errorf("error %q is neither lines skipped nor a read error", err)
		}
		for _, l := range strings.Split(strings.TrimSuffix(errs.String(), "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "line ") {
				t.Errorf("report %q does not name a line", l)
			}
		}
	})
}
