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
}

// FieldError is one problem in a rule. Field is relative to the rule
// ("match.regex", "class"), so that a config loader can prefix it with the
// rule's own path and line.
type FieldError struct{ Field, Msg string }

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate returns every problem in the rule, not just the first; none means
// the rule is valid. It never panics, whatever the regular expression.
func (r Rule) Validate() []FieldError {
	var errs []FieldError
	m := r.Match
	var set []string
	for _, f := range []struct{ name, val string }{{"code", m.Code}, {"prefix", m.Prefix}, {"regex", m.Regex}} {
		if f.val != "" {
			set = append(set, f.name)
		}
	}
	switch len(set) {
	case 0:
		errs = append(errs, FieldError{"match", "needs one of code, prefix or regex"})
	case 1:
	default:
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

// UnmarshalYAML decodes a rule strictly: an unknown key is an error that
// names the valid ones (a decoder's KnownFields does not reach into custom
// unmarshalers), and a missing class is remembered for Validate.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return typeErrorf(n, "rule must be a map with match, class and reason, not a %s", kindName(n.Kind))
	}
	var out Rule
	var errs []string
	classSeen := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "match":
			err = v.Decode(&out.Match)
		case "class":
			classSeen = true
			err = v.Decode(&out.Class)
		case "reason":
			err = decodeString(v, "reason", &out.Reason)
		default:
			err = typeErrorf(k, "unknown rule field %q (valid: match, class, reason)", k.Value)
		}
		errs = appendTypeErrors(errs, err)
	}
	out.missingClass = !classSeen
	*r = out
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// UnmarshalYAML decodes a match strictly; see Rule.UnmarshalYAML.
func (m *Match) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return typeErrorf(n, "match must be a map with one of code, prefix or regex, not a %s", kindName(n.Kind))
	}
	var out Match
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "code":
			err = decodeString(v, "code", &out.Code)
		case "prefix":
			err = decodeString(v, "prefix", &out.Prefix)
		case "regex":
			err = decodeString(v, "regex", &out.Regex)
		case "labels":
			if v.Kind != yaml.MappingNode {
				err = typeErrorf(v, "labels must be a map of label name to value, not a %s", kindName(v.Kind))
				break
			}
			out.Labels = make(map[string]string, len(v.Content)/2)
			for j := 0; j+1 < len(v.Content); j += 2 {
				var val string
				if e := decodeString(v.Content[j+1], "label "+v.Content[j].Value, &val); e != nil {
					errs = appendTypeErrors(errs, e)
					continue
				}
				out.Labels[v.Content[j].Value] = val
			}
		default:
			err = typeErrorf(k, "unknown match field %q (valid: code, prefix, regex, labels)", k.Value)
		}
		errs = appendTypeErrors(errs, err)
	}
	*m = out
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	return nil
}

// decodeString reads a scalar as a string: codes such as 404 or 40001 are
// written unquoted in YAML and must stay the text they are.
func decodeString(n *yaml.Node, field string, dst *string) error {
	if n.Kind != yaml.ScalarNode {
		return typeErrorf(n, "%s must be a string, not a %s", field, kindName(n.Kind))
	}
	*dst = n.Value
	return nil
}

func appendTypeErrors(errs []string, err error) []string {
	if err == nil {
		return errs
	}
	if te, ok := err.(*yaml.TypeError); ok {
		return append(errs, te.Errors...)
	}
	return append(errs, err.Error())
}
