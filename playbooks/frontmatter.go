package playbooks

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// delimiter opens and closes the front matter, each on a line of its own.
const delimiter = "---"

var (
	bom      = []byte("\ufeff")
	yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)
)

// parse reads one playbook file. source names it in problems and becomes the
// playbook's Source. Every problem of the file is returned, not just the
// first; the playbook is nil when there is any.
func parse(source string, data []byte) (*Playbook, Problems) {
	r := &reader{p: &Playbook{Source: source, lines: map[string]int{}}, wrong: map[string]bool{}}
	front, body, bodyLine, ok := r.split(bytes.TrimPrefix(data, bom))
	if !ok {
		return nil, r.probs
	}
	r.p.Body = body
	// The YAML starts on the line after the opening delimiter: its line n
	// is the file's line n+1.
	r.off = 1
	var root yaml.Node
	if err := yaml.Unmarshal(front, &root); err != nil {
		r.syntaxError(err)
		return nil, r.probs
	}
	if r.fields(&root) {
		r.validate(bodyLine)
	}
	if len(r.probs) > 0 {
		slices.SortStableFunc(r.probs, func(a, b Problem) int { return a.Line - b.Line })
		return nil, r.probs
	}
	return r.p, nil
}

// reader collects one file's playbook and its problems.
type reader struct {
	p     *Playbook
	off   int // added to a YAML line to make a file line
	probs Problems
	wrong map[string]bool // fields of the wrong type, already reported
}

func (r *reader) errorf(line int, field, format string, args ...any) {
	r.probs = append(r.probs, Problem{File: r.p.Source, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// at returns the file line of a YAML node.
func (r *reader) at(n *yaml.Node) int { return n.Line + r.off }

// split cuts the front matter from the body. bodyLine is the file line the
// body starts on.
func (r *reader) split(data []byte) (front, body []byte, bodyLine int, ok bool) {
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	if trimLine(first) != delimiter {
		if len(bytes.TrimSpace(data)) == 0 {
			r.errorf(1, "", "the file is empty; a playbook starts with its front matter (id, title, owner, applies_to) between two lines of %s", delimiter)
		} else {
			r.errorf(1, "", "no front matter: a playbook starts with a line of %s, then its fields (id, title, owner, applies_to), then another line of %s", delimiter, delimiter)
		}
		return nil, nil, 0, false
	}
	line := 2
	for off := 0; off < len(rest); line++ {
		end := bytes.IndexByte(rest[off:], '\n')
		next := len(rest)
		if end >= 0 {
			next = off + end + 1
		}
		if l := trimLine(rest[off:next]); l == delimiter || l == "..." {
			return rest[:off], rest[next:], line + 1, true
		}
		off = next
	}
	r.errorf(1, "", "the front matter opened on line 1 is never closed: end it with a line of %s before the Markdown", delimiter)
	return nil, nil, 0, false
}

func trimLine(l []byte) string { return string(bytes.TrimRight(l, " \t\r\n")) }

// syntaxError records a YAML syntax error at its line in the file.
func (r *reader) syntaxError(err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1 + r.off
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		line, msg = n+r.off, m[2]
	}
	if strings.HasPrefix(msg, "mapping values are not allowed") {
		msg += `; quote a value that holds ": ", as in title: "Database down: writes fail"`
	}
	r.errorf(line, "", "front matter is not valid YAML: %s", msg)
}

// fields decodes the front matter's fields, recording the line of each. It
// returns false when the front matter is not fields at all, and there is
// nothing more to check.
func (r *reader) fields(root *yaml.Node) bool {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch {
	case n.Kind == 0 || n.Kind == yaml.DocumentNode || isNull(n):
		return true // empty: validate reports every missing field
	case n.Kind != yaml.MappingNode:
		r.errorf(r.at(n), "", "the front matter must be fields (id, title, owner, applies_to), not %s", kind(n))
		return false
	}
	r.mapping(n, "", func(key, val *yaml.Node, field string) {
		switch key.Value {
		case "id":
			r.p.ID = r.str(val, field)
		case "title":
			r.p.Title = r.str(val, field)
		case "owner":
			r.p.Owner = r.str(val, field)
		case "applies_to":
			r.appliesTo(val, field)
		default:
			r.unknown(key, field, "id", "title", "owner", "applies_to")
		}
	})
	return true
}

func (r *reader) appliesTo(n *yaml.Node, field string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(r.at(n), field, "must be fields (alerts, slos, severities, codes), not %s", kind(n))
		r.wrong[field] = true
		return
	}
	a := &r.p.AppliesTo
	r.mapping(n, field+".", func(key, val *yaml.Node, field string) {
		switch key.Value {
		case "alerts":
			a.Alerts = r.list(val, field)
		case "slos":
			a.SLOs = r.list(val, field)
		case "severities":
			a.Severities = r.list(val, field)
		case "codes":
			a.Codes = r.list(val, field)
		default:
			r.unknown(key, field, "alerts", "slos", "severities", "codes")
		}
	})
}

// mapping calls f with each field of n, named prefix+key, after recording
// its line. A field given twice is a problem, and only the first is used.
func (r *reader) mapping(n *yaml.Node, prefix string, f func(key, val *yaml.Node, field string)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], deref(n.Content[i+1])
		field := prefix + key.Value
		if first, dup := seen[key.Value]; dup {
			r.errorf(r.at(key), field, "given twice (first on line %d); keep one", first)
			continue
		}
		seen[key.Value] = r.at(key)
		r.p.lines[field] = r.at(key)
		if val.Kind == yaml.ScalarNode {
			r.p.lines[field] = r.at(val)
		}
		f(key, val, field)
	}
}

func (r *reader) unknown(key *yaml.Node, field string, valid ...string) {
	msg := fmt.Sprintf("unknown field; the fields here are %s", strings.Join(valid, ", "))
	if c := closest(key.Value, valid); c != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", c)
	}
	r.errorf(r.at(key), field, "%s", msg)
}

// str returns a scalar's text; a null is empty.
func (r *reader) str(n *yaml.Node, field string) string {
	if n.Kind != yaml.ScalarNode {
		r.errorf(r.at(n), field, "must be a string, not %s", kind(n))
		r.wrong[field] = true
		return ""
	}
	if isNull(n) {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// list returns a list of strings; a single string is a list of one, so that
// "alerts: burn-rate" means what it says.
func (r *reader) list(n *yaml.Node, field string) []string {
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		r.p.lines[field+"[0]"] = r.at(n)
		return []string{r.str(n, field+"[0]")}
	case n.Kind != yaml.SequenceNode:
		r.errorf(r.at(n), field, "must be a list of strings, not %s", kind(n))
		r.wrong[field] = true
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		item = deref(item)
		f := fmt.Sprintf("%s[%d]", field, i)
		r.p.lines[f] = r.at(item)
		out = append(out, r.str(item, f))
	}
	return out
}

// validate checks the decoded fields. A missing field is reported at line 1,
// where the front matter opens, or at its parent's line.
func (r *reader) validate(bodyLine int) {
	p := r.p
	switch {
	case r.wrong["id"]:
	case p.ID == "":
		r.errorf(r.lineOr("id", 1), "id", "missing; every playbook needs an id (lower-case letters, digits and dashes), the name configs link it by")
	case !idRE.MatchString(p.ID):
		r.errorf(p.line("id"), "id", "%q is not a playbook id: lower-case letters, digits and dashes, starting and ending with a letter or digit", p.ID)
	}
	if p.Title == "" && !r.wrong["title"] {
		r.errorf(r.lineOr("title", 1), "title", "missing; say in one line what is wrong, as a responder would put it")
	}
	if p.Owner == "" && !r.wrong["owner"] {
		r.errorf(r.lineOr("owner", 1), "owner", "missing; name the team or rotation that keeps this playbook current")
	}
	if _, ok := p.lines["applies_to"]; !ok {
		r.errorf(1, "applies_to", "missing; a playbook applies at least to one alert kind (applies_to: {alerts: [%s]})", strings.Join(alertKinds, " | "))
	} else if len(p.AppliesTo.Alerts) == 0 && !r.wrong["applies_to"] && !r.wrong["applies_to.alerts"] {
		r.errorf(r.lineOr("applies_to.alerts", p.line("applies_to")), "applies_to.alerts", "missing; name at least one alert kind: %s", strings.Join(alertKinds, ", "))
	}
	r.probs = append(r.probs, checkAppliesTo(p, nil)...)
	if len(bytes.TrimSpace(p.Body)) == 0 {
		r.errorf(bodyLine, "", "the playbook has no steps: write them in Markdown after the front matter")
	}
}

func (r *reader) lineOr(field string, line int) int {
	if l := r.p.line(field); l > 0 {
		return l
	}
	return line
}

// checkAppliesTo reports every value of p's applies_to that names nothing:
// an unknown alert kind or severity, a malformed code pattern, and an SLO
// that is not among sloNames (when sloNames is nil, only the form of SLO
// names is checked, since the config is not known).
func checkAppliesTo(p *Playbook, sloNames []string) Problems {
	var probs Problems
	bad := func(field string, i int, format string, args ...any) {
		f := fmt.Sprintf("applies_to.%s[%d]", field, i)
		probs = append(probs, Problem{File: p.Source, Line: p.line(f), Field: f, Msg: fmt.Sprintf(format, args...)})
	}
	for i, a := range p.AppliesTo.Alerts {
		if !slices.Contains(alertKinds, a) {
			bad("alerts", i, "%q is not an alert kind; the kinds are %s%s", a, strings.Join(alertKinds, ", "), didYouMean(a, alertKinds))
		}
	}
	for i, s := range p.AppliesTo.Severities {
		if !slices.Contains(severities, s) {
			bad("severities", i, "%q is not a severity; the severities are %s%s", s, strings.Join(severities, ", "), didYouMean(s, severities))
		}
	}
	for i, s := range p.AppliesTo.SLOs {
		switch {
		case !idRE.MatchString(s):
			bad("slos", i, "%q is not an SLO name: lower-case letters, digits and dashes", s)
		case sloNames != nil && !slices.Contains(sloNames, s):
			bad("slos", i, "%q is not an SLO of the config; its SLOs are %s%s", s, strings.Join(sloNames, ", "), didYouMean(s, sloNames))
		}
	}
	for i, c := range p.AppliesTo.Codes {
		switch {
		case c == "":
			bad("codes", i, "an empty code matches nothing; remove it, or leave codes out to match any code")
		case strings.ContainsFunc(c, isSpace):
			bad("codes", i, "%q has white space; codes have none", c)
		case strings.Contains(strings.TrimSuffix(c, "*"), "*"):
			bad("codes", i, "%q is not a code pattern: * may only end a prefix, as in Neo.DatabaseError.*", c)
		}
	}
	return probs
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
