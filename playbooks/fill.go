package playbooks

import (
	"html"
	"net/url"
	"regexp"
	"slices"
)

// A playbook's body may hold placeholders, {{label}}, for the labels of the
// alert that links it: DB={{database}}, {database="{{database}}"}. An
// alert's link carries its instance's labels as query parameters
// (InstanceURL), and the page fills them in, so that the commands on the
// page are the ones for that database. Filling is text replacement, never
// a template run: nothing in a playbook or a link is executed, and a value
// is filled in only when it holds nothing that a shell, a label selector
// or a PromQL string would read as more than a name.

// placeholderRE is a placeholder: a label name in double braces.
var placeholderRE = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)

// fillableRE is a value filled into a placeholder: a name as label values
// of databases, namespaces and pods are, with no quote, space, $, `, ;, |,
// &, =, comma, brace or newline.
var fillableRE = regexp.MustCompile(`^[A-Za-z0-9._:/@+-]{1,253}$`)

// Placeholders returns the label names the body has placeholders for, in
// the order they first occur.
func (p *Playbook) Placeholders() []string {
	var names []string
	for _, m := range placeholderRE.FindAllSubmatch(p.Body, -1) {
		if n := string(m[1]); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// InstanceURL is the address of a playbook's page for one alert: URL with
// the instance's labels as query parameters, URL-encoded and sorted, which
// the page fills into its placeholders.
func InstanceURL(base, id string, labels map[string]string) string {
	u := URL(base, id)
	if len(labels) == 0 {
		return u
	}
	q := url.Values{}
	for k, v := range labels {
		q.Set(k, v)
	}
	return u + "?" + q.Encode()
}

// Filled is one placeholder filled in.
type Filled struct{ Name, Value string }

// Refused is a value a link gave for a placeholder that was not filled in,
// and why.
type Refused struct{ Name, Value, Why string }

// filling is what a request fills into a playbook's placeholders.
type filling struct {
	Filled  []Filled
	Refused []Refused
	// Missing are the placeholders the request gave no value for.
	Missing []string
}

// fillingFor works out which of p's placeholders the query's values fill.
func fillingFor(p *Playbook, q url.Values) filling {
	var f filling
	for _, name := range p.Placeholders() {
		v, ok := q[name]
		switch {
		case !ok || len(v) == 0 || v[0] == "":
			f.Missing = append(f.Missing, name)
		case !fillableRE.MatchString(v[0]):
			f.Refused = append(f.Refused, Refused{Name: name, Value: v[0],
				Why: "it holds characters a shell or a query would read as more than a name; only letters, digits and . _ : / @ + - are filled in"})
		default:
			f.Filled = append(f.Filled, Filled{Name: name, Value: v[0]})
		}
	}
	return f
}

// replace fills the placeholders of text that f fills, each value passed
// through esc; the others are left as written.
func (f filling) replace(text string, esc func(string) string) string {
	if len(f.Filled) == 0 {
		return text
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(ph string) string {
		name := placeholderRE.FindStringSubmatch(ph)[1]
		for _, x := range f.Filled {
			if x.Name == name {
				return esc(x.Value)
			}
		}
		return ph
	})
}

// fillHTML fills rendered HTML: values are escaped for HTML text (they
// hold no character that needs it, but the page does not rely on that).
func (f filling) fillHTML(s string) string { return f.replace(s, html.EscapeString) }

// fillMarkdown fills the Markdown body as it is served raw.
func (f filling) fillMarkdown(b []byte) []byte {
	return []byte(f.replace(string(b), func(s string) string { return s }))
}
