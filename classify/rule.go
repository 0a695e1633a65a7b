package classify

import (
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Match selects error codes: exactly one of Code (the whole code), Prefix or
// Regex (a Go regular expression that must match the whole code: it is
// anchored at both ends), plus optional Labels, other labels of the series
// with exact values, all of which must match. As in Prometheus, a label with
// an empty value matches a series that does not have that label.
type Match struct {
	Code   string            `yaml:"code,omitempty"`
	Prefix string            `yaml:"prefix,omitempty"`
	Regex  string            `yaml:"regex,omitempty"`
	Labels map[string]string `yaml:"labels,omitempty"`
}

// Rule gives a class to the codes its Match selects, and the Reason a person
// reading a page or a report is shown.
type Rule struct {
	Match  Match  `yaml:"match"`
	Class  Class  `yaml:"class"`
	Reason string `yaml:"reason,omitempty"`

	// missingClass is set by UnmarshalYAML when the rule has no class key:
	// the zero Class is Platform, and a forgotten class must not silently
	// become one. Validate reports it.
	missingClass bool
	// decodeErrs are the problems UnmarshalYAML found, which Validate
	// reports with the others. UnmarshalYAML keeps them rather than
	// returning them: yaml.v3 drops a list item whose decoding fails, and
	// the rules after it would be reported under the wrong index.
	decodeErrs []FieldError
}

// FieldError is one problem in a rule. Field is relative to the rule
// ("match.regex", "class"), so that a config loader can prefix it with the
// rule's own path and line.
type FieldError struct{ Field, Msg string }

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate returns every problem in the rule, not just the first; none means
// the rule is valid. It never panics, whatever the regular expression.
func (r Rule) Validate() []FieldError {
	errs := slices.Clone(r.decodeErrs)
	badMatch := slices.ContainsFunc(errs, func(fe FieldError) bool { return strings.HasPrefix(fe.Field, "match") })
	m := r.Match
	var set []string
	for _, f := range []struct{ name, val string }{{"code", m.Code}, {"prefix", m.Prefix}, {"regex", m.Regex}} {
		if f.val != "" {
			set = append(set, f.name)
		}
	}
	switch {
	case len(set) == 0 && !badMatch: // a match that failed to decode is reported once
		errs = append(errs, FieldError{"match", "needs one of code, prefix or regex"})
	case len(set) > 1:
		errs = append(errs, FieldError{"match", fmt.Sprintf("has %s: give exactly one of code, prefix or regex", strings.Join(set, " and "))})
	}
	if m.Regex != "" {
		if _, err := compileAnchored(m.Regex); err != nil {
			errs = append(errs, FieldError{"match.regex", fmt.Sprintf("invalid regular expression %q: %v", m.Regex, unwrapSyntax(err))})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.Labels)) {
		switch {
		case name == "":
			errs = append(errs, FieldError{"match.labels", "label name must not be empty"})
		case !utf8.ValidString(name):
			errs = append(errs, FieldError{"match.labels." + name, "label name must be valid UTF-8"})
		}
		if !utf8.ValidString(m.Labels[name]) {
			errs = append(errs, FieldError{"match.labels." + name, "label value must be valid UTF-8"})
		}
	}
	switch {
	case r.missingClass:
		errs = append(errs, FieldError{"class", "missing: give one of " + validClasses})
	case !r.Class.valid():
		errs = append(errs, FieldError{"class", fmt.Sprintf("unknown class %d (valid: %s)", uint8(r.Class), validClasses)})
	}
	return errs
}

// compileAnchored compiles a rule's regular expression so that it must match
// the whole code.
func compileAnchored(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}

// unwrapSyntax drops the anchoring that compileAnchored added from the
// message of a syntax error, so that the error shows what the user wrote.
func unwrapSyntax(err error) string {
	if se, ok := err.(*syntax.Error); ok {
		return string(se.Code)
	}
	return err.Error()
}

// literalPrefix returns a string that every match of the (unanchored) regular
// expression re begins with, so that the classifier only runs the expression
// on codes with that prefix. "" is always correct, just slower.
func literalPrefix(re string) string {
	p, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ""
	}
	var b strings.Builder
	var walk func(p *syntax.Regexp) bool // false: stop, the prefix ends here
	walk = func(p *syntax.Regexp) bool {
		switch p.Op {
		case syntax.OpLiteral:
			if p.Flags&syntax.FoldCase != 0 {
				return false
			}
			b.WriteString(string(p.Rune))
			return true
		case syntax.OpCapture:
			return walk(p.Sub[0])
		case syntax.OpBeginText:
			return true
		case syntax.OpConcat:
			for _, s := range p.Sub {
				if !walk(s) {
					return false
				}
			}
			return true
		}
		return false
	}
	walk(p)
	return b.String()
}

// name is the rule's pattern as shown in Decision.Rule after "pack:": the
// code, the prefix followed by "*", or the expression between slashes, then
// any label matchers in braces.
func (m Match) name() string {
	var s string
	switch {
	case m.Code != "":
		s = m.Code
	case m.Prefix != "":
		s = m.Prefix + "*"
	default:
		s = "/" + m.Regex + "/"
	}
	if len(m.Labels) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, m.Labels[k])
	}
	b.WriteByte('}')
	return b.String()
}

// UnmarshalYAML decodes a rule strictly: an unknown key is a problem that
// names the valid ones (a decoder's KnownFields does not reach into custom
// unmarshalers), and a missing class is remembered. Every problem is kept
// for Validate, each with its field, and none is returned: a rule with a
// bad class and a bad match reports both, and keeps its place in its list.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	var out Rule
	if n.Kind != yaml.MappingNode {
		out.decodeErrs = []FieldError{{"", fmt.Sprintf("a rule is a map with match, class and reason, not a %s", kindName(n.Kind))}}
		*r = out
		return nil
	}
	classSeen := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "match":
			var errs []FieldError
			out.Match, errs = decodeMatch(v)
			out.decodeErrs = append(out.decodeErrs, errs...)
		case "class":
			classSeen = true
			if err := decodeClass(v, &out.Class); err != nil {
				out.decodeErrs = append(out.decodeErrs, FieldError{"class", err.Error()})
			}
		case "reason":
			if err := decodeString(v, "reason", &out.Reason); err != nil {
				out.decodeErrs = append(out.decodeErrs, FieldError{"reason", err.Error()})
			}
		default:
			out.decodeErrs = append(out.decodeErrs, FieldError{k.Value, "unknown field; valid fields here: match, class, reason"})
		}
	}
	out.missingClass = !classSeen
	*r = out
	return nil
}

// UnmarshalYAML decodes a match strictly; see Rule.UnmarshalYAML. Decoded
// alone, a match returns its problems as a *yaml.TypeError.
func (m *Match) UnmarshalYAML(n *yaml.Node) error {
	out, errs := decodeMatch(n)
	*m = out
	if len(errs) == 0 {
		return nil
	}
	te := &yaml.TypeError{}
	for _, fe := range errs {
		te.Errors = append(te.Errors, fmt.Sprintf("line %d: %s", n.Line, fe.Error()))
	}
	return te
}

// decodeMatch decodes a match, returning every problem with its field
// relative to the rule (match.code, match.labels.tenant).
func decodeMatch(n *yaml.Node) (Match, []FieldError) {
	var out Match
	if n.Kind != yaml.MappingNode {
		return out, []FieldError{{"match", fmt.Sprintf("must be a map with one of code, prefix or regex, not a %s", kindName(n.Kind))}}
	}
	var errs []FieldError
	add := func(field string, err error) {
		if err != nil {
			errs = append(errs, FieldError{"match." + field, err.Error()})
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "code":
			add("code", decodeString(v, "code", &out.Code))
		case "prefix":
			add("prefix", decodeString(v, "prefix", &out.Prefix))
		case "regex":
			add("regex", decodeString(v, "regex", &out.Regex))
		case "labels":
			if v.Kind != yaml.MappingNode {
				add("labels", fmt.Errorf("labels must be a map of label name to value, not a %s", kindName(v.Kind)))
				break
			}
			out.Labels = make(map[string]string, len(v.Content)/2)
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				var val string
				if err := decodeString(v.Content[j+1], "label "+name, &val); err != nil {
					add("labels."+name, err)
					continue
				}
				out.Labels[name] = val
			}
		default:
			errs = append(errs, FieldError{"match." + k.Value, "unknown field; valid fields here: code, prefix, regex, labels"})
		}
	}
	return out, errs
}

// decodeClass reads a class from a scalar.
func decodeClass(n *yaml.Node, c *Class) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be one of %s, not a %s", validClasses, kindName(n.Kind))
	}
	v, err := ParseClass(n.Value)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// decodeString reads a scalar as a string: codes such as 404 or 40001 are
// written unquoted in YAML and must stay the text they are.
func decodeString(n *yaml.Node, field string, dst *string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s must be a string, not a %s", field, kindName(n.Kind))
	}
	*dst = n.Value
	return nil
}
