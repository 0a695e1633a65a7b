package silence

import (
	"fmt"
	"regexp"
)

// The labels an alert carries besides its instance's, which matchers may
// name: the SLO, the kind of alert (burn-rate, user-fault-surge, no-data)
// and its severity (page, ticket).
const (
	LabelSLO      = "slo"
	LabelAlert    = "alert"
	LabelSeverity = "severity"
)

// Matcher matches one label of an alert. A label the alert lacks has the
// empty value, as in Prometheus and Alertmanager: {name: region, value: eu}
// does not match an alert without region, and its negation does. A regex is
// fully anchored (value "db-1" never matches "db-10"; write "db-1.*") and
// uses Go's RE2 syntax.
type Matcher struct {
	Name   string `json:"name" yaml:"name"`
	Value  string `json:"value" yaml:"value"`
	Regex  bool   `json:"regex" yaml:"regex,omitempty"`
	Negate bool   `json:"negate" yaml:"negate,omitempty"`
}

// String renders the matcher as in PromQL: name="v", name!="v", name=~"v"
// or name!~"v".
func (m Matcher) String() string {
	op := "="
	switch {
	case m.Regex && m.Negate:
		op = "!~"
	case m.Regex:
		op = "=~"
	case m.Negate:
		op = "!="
	}
	return fmt.Sprintf("%s%s%q", m.Name, op, m.Value)
}

// labelNameRE is a Prometheus label name (the classic, non-UTF-8 form).
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// matcher is a Matcher ready to use: its regex compiled once.
type matcher struct {
	Matcher
	re *regexp.Regexp // the anchored regex when Regex
}

// compileMatcher checks m and compiles its regex. Its errors name fields
// relative to the matcher (name, value).
func compileMatcher(m Matcher) (matcher, []FieldError) {
	var errs []FieldError
	if m.Name == "" {
		errs = append(errs, FieldError{"name", "is required: the label to match, such as database, slo or severity"})
	} else if !labelNameRE.MatchString(m.Name) {
		errs = append(errs, FieldError{"name", fmt.Sprintf("%q is not a label name (letters, digits and _, not starting with a digit)", m.Name)})
	}
	c := matcher{Matcher: m}
	if m.Regex {
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if err != nil {
			errs = append(errs, FieldError{"value", fmt.Sprintf("is not a valid regular expression (RE2): %v", err)})
		}
		c.re = re
	}
	return c, errs
}

// matches reports whether the label m names has a matching value in lset.
// A regex that did not compile matches nothing, negated or not: an invalid
// matcher must not silence anything.
func (m matcher) matches(lset map[string]string) bool {
	v := lset[m.Name]
	var ok bool
	if m.Regex {
		if m.re == nil {
			return false
		}
		ok = m.re.MatchString(v)
	} else {
		ok = v == m.Value
	}
	return ok != m.Negate
}

// compileMatchers compiles ms; its errors name fields as matchers[i].name.
func compileMatchers(ms []Matcher) ([]matcher, []FieldError) {
	out := make([]matcher, len(ms))
	var errs []FieldError
	for i, m := range ms {
		c, es := compileMatcher(m)
		out[i] = c
		errs = append(errs, prefixed(fmt.Sprintf("matchers[%d].", i), es)...)
	}
	return out, errs
}

// matchAll reports whether every matcher matches lset; true for none.
func matchAll(ms []matcher, lset map[string]string) bool {
	for _, m := range ms {
		if !m.matches(lset) {
			return false
		}
	}
	return true
}
