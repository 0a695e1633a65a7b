package slo

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// document is a parsed YAML config with the node tree kept, so that every
// problem can be reported at the line of the field it concerns.
type document struct {
	file string
	root *yaml.Node
	data []byte // the file, for the text of a line
	errs Errors
}

// path names a field: string elements are mapping keys, ints are list indexes.
type path []any

func (p path) String() string {
	var b strings.Builder
	for _, e := range p {
		switch e := e.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", e)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

func (p path) with(e ...any) path { return append(slices.Clip(p), e...) }

// errorf records a problem with the field at p.
func (d *document) errorf(p path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n := d.node(p); n != nil && d.runsOver(n) {
		msg += " (this plain value runs over several lines: is a line below it indented too far?)"
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: d.line(p), Field: p.String(), Msg: msg})
}

// node returns the node at p, or nil when the file does not have it.
func (d *document) node(p path) *yaml.Node {
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, e := range p {
		if _, n = child(n, e); n == nil {
			return nil
		}
	}
	return n
}

// runsOver reports whether n is a plain scalar folded from several lines,
// which is what a list item indented further than the one above it
// becomes: "- database\n   - region" is the one value "database - region".
func (d *document) runsOver(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style != 0 || n.Line < 1 || n.Column < 1 {
		return false
	}
	lines := bytes.SplitN(d.data, []byte("\n"), n.Line+1)
	if len(lines) < n.Line {
		return false
	}
	line := lines[n.Line-1]
	if n.Column-1 > len(line) {
		return false
	}
	return !bytes.Contains(line[n.Column-1:], []byte(n.Value))
}

// fieldErrors records the problems a component's Validate found: one a
// line, each "field: message" with the field relative to p.
func (d *document) fieldErrors(p path, err error) {
	if err == nil {
		return
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		field, msg := splitField(line)
		d.errorf(p.with(fieldPath(field)...), "%s", msg)
	}
}

var fieldName = regexp.MustCompile(`^[a-z_][a-z0-9_]*(\.[A-Za-z0-9_-]+)*$`)

// splitField splits "field.path: message" into the field and the message;
// a line whose start is no field name (a sentence such as "no key: set
// …") is all message.
func splitField(line string) (field, msg string) {
	f, m, ok := strings.Cut(line, ": ")
	if !ok || !fieldName.MatchString(f) {
		return "", line
	}
	return f, m
}

// line returns the line of the node at p, or of its nearest ancestor present
// in the file when the field itself was left out.
func (d *document) line(p path) int {
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, e := range p {
		key, next := child(n, e)
		if next == nil {
			break
		}
		n = next
		// A scalar is reported where it stands; a mapping or list, at
		// its key, so that a missing field points at its parent's line.
		line = key.Line
		if n.Kind == yaml.ScalarNode {
			line = n.Line
		}
	}
	return line
}

// child returns the key (or item) and the value at e in n.
func child(n *yaml.Node, e any) (key, val *yaml.Node) {
	switch e := e.(type) {
	case string:
		if n.Kind != yaml.MappingNode {
			return nil, nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == e {
				return n.Content[i], n.Content[i+1]
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && e < len(n.Content) {
			return n.Content[e], n.Content[e]
		}
	}
	return nil, nil
}

// dropRepeats removes validation errors about fields that the first n
// errors, the decoder's, already report.
func (d *document) dropRepeats(n int) {
	bad := map[string]bool{}
	for _, e := range d.errs[:n] {
		bad[e.Field] = true
	}
	d.errs = slices.DeleteFunc(d.errs, func(e *Error) bool {
		return bad[e.Field] && !slices.Contains(d.errs[:n], e)
	})
}

func (d *document) sort() {
	slices.SortStableFunc(d.errs, func(a, b *Error) int { return a.Line - b.Line })
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// checkShape reports every mapping key that names no field of the struct it
// decodes into, with the fields that would be valid. It reports true if it
// found any, since decoding would then not mean what the author intended.
func (d *document) checkShape(v any) bool {
	n := d.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	d.walk(n, reflect.TypeOf(v), nil)
	return len(d.errs) > 0
}

func (d *document) walk(n *yaml.Node, t reflect.Type, p path) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t == reflect.TypeFor[Policy]() && n.Kind == yaml.SequenceNode {
		t = reflect.TypeFor[[]PairSpec]()
	}
	if t == reflect.TypeFor[Source]() {
		t = reflect.TypeFor[sourceFields]()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || t == reflect.TypeFor[time.Time]() || t == relabelRegexp {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if n.Tag != "!!null" {
				d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Field: p.String(), Msg: fmt.Sprintf("expected a mapping of %s, got %s", strings.Join(fieldNames(t), ", "), describe(n))})
			}
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, key.Value)
			if !ok {
				d.errs = append(d.errs, &Error{File: d.file, Line: key.Line, Field: p.with(key.Value).String(), Msg: fmt.Sprintf("unknown field; valid fields here: %s", strings.Join(fieldNames(t), ", "))})
				continue
			}
			d.walk(val, f.Type, p.with(key.Value))
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			if n.Tag != "!!null" {
				d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Field: p.String(), Msg: fmt.Sprintf("expected a list, got %s", describe(n))})
			}
			return
		}
		for i, c := range n.Content {
			d.walk(c, t.Elem(), p.with(i))
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				d.walk(n.Content[i+1], t.Elem(), p.with(n.Content[i].Value))
			}
		}
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && yamlName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if n := yamlName(f); f.IsExported() && n != "-" {
			names = append(names, n)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "" {
		return strings.ToLower(f.Name)
	}
	return tag
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// addDecodeError turns yaml.v3's type errors ("line 7: cannot unmarshal
// !!str `abc` into float64") into located errors, one per problem.
func (d *document) addDecodeError(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		d.errs = append(d.errs, &Error{File: d.file, Msg: err.Error()})
		return
	}
	for _, msg := range te.Errors {
		e := &Error{File: d.file, Msg: msg}
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
			e.Field = d.fieldAt(e.Line).String()
		}
		e.Msg = plainTypeError(e.Msg, e.Field)
		d.errs = append(d.errs, e)
	}
}

var yamlTypeError = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")

// plainTypeError says what yaml.v3's "cannot unmarshal !!str `99.9%` into
// float64" means to whoever wrote the field: "99.9%" is not a number;
// write the percentage without the % sign, such as 99.9.
func plainTypeError(msg, field string) string {
	m := yamlTypeError.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	tag, value, into := m[1], m[2], m[3]
	got := strconv.Quote(value)
	switch tag {
	case "map":
		got = "a mapping"
	case "seq":
		got = "a list"
	}
	var want string
	switch {
	case strings.HasPrefix(into, "float"):
		want = "a number"
	case strings.HasPrefix(into, "int"), strings.HasPrefix(into, "uint"):
		want = "a whole number"
	case into == "bool":
		want = "true or false"
	case into == "string":
		want = "a string"
	case into == "time.Duration":
		want = "a duration such as 10s or 1m"
	case strings.HasPrefix(into, "[]"):
		want = "a list"
	case strings.HasPrefix(into, "map["):
		want = "a mapping"
	default:
		return msg
	}
	out := got + " is not " + want
	if tag == "map" || tag == "seq" {
		out = "expected " + want + ", got " + got
	}
	switch {
	case want == "a number" && strings.HasSuffix(value, "%"):
		out += "; write the percentage without the % sign, such as " + strings.TrimSpace(strings.TrimSuffix(value, "%"))
	case strings.HasSuffix(field, ".objective"):
		out += " (the objective is a percentage such as 99.9)"
	}
	return out
}

// fieldAt finds the path of the first value node on a line.
func (d *document) fieldAt(line int) path {
	var found path
	var visit func(n *yaml.Node, p path) bool
	visit = func(n *yaml.Node, p path) bool {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if visit(c, p) {
					return true
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if v.Line == line && v.Kind == yaml.ScalarNode || k.Line == line && v.Kind != yaml.ScalarNode && v.Line != line {
					found = p.with(k.Value)
					return true
				}
				if visit(v, p.with(k.Value)) {
					return true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if c.Line == line && c.Kind == yaml.ScalarNode {
					found = p.with(i)
					return true
				}
				if visit(c, p.with(i)) {
					return true
				}
			}
		}
		return false
	}
	visit(d.root, nil)
	return found
}

// syntaxError locates a YAML syntax error. yaml.v3 reports the line where
// the block it was reading starts, not the line that broke it: a list item
// indented one space too few is reported at the list's key. The line that
// broke it is the last line of the shortest start of the file that fails
// with the same error; that is the line reported, with the block's.
func syntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: file, Msg: msg}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return e
	}
	e.Line, _ = strconv.Atoi(m[1])
	e.Msg = m[2]
	if at := brokenLine(data, err.Error()); at > e.Line {
		e.Msg = fmt.Sprintf("%s: check the indentation of this line against the block that starts at line %d", e.Msg, e.Line)
		e.Line = at
	}
	return e
}

// maxSearchLines bounds the lines brokenLine searches: it parses every
// start of the file, and a config is a few hundred lines.
const maxSearchLines = 5000

// brokenLine returns n for the shortest start of data, its first n lines,
// whose parse fails with the error want; 0 if none does.
func brokenLine(data []byte, want string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSearchLines {
		return 0
	}
	end := 0
	for n, l := range lines {
		end += len(l)
		var node yaml.Node
		if err := yaml.Unmarshal(data[:end], &node); err != nil && err.Error() == want {
			return n + 1
		}
	}
	return 0
}
