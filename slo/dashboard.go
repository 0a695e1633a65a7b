package slo

import (
	"strings"
	"text/template"
	"text/template/parse"
)

// ParseDashboardURL parses dashboard_url, a text/template filled with an
// instance's labels, into a template whose every value is URL-encoded:
// {{.database}} of a database named "a&b=c d" writes "a%26b%3Dc%20d", so
// that a label value can neither add query parameters nor leave the path
// segment it is in. A value the template already passes to urlquery, or
// to urlvalue (the encoder itself), is encoded once. The template is
// executed with a map[string]string of the labels; a label the instance
// lacks is empty.
func ParseDashboardURL(text string) (*template.Template, error) {
	t, err := template.New("dashboard").Option("missingkey=zero").Funcs(template.FuncMap{encoderName: URLValue}).Parse(text)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			encodeActions(tt.Tree.Root)
		}
	}
	return t, nil
}

// encoderName is the function ParseDashboardURL appends to every action.
const encoderName = "urlvalue"

// encodeActions appends the encoder to every action that writes output:
// {{.database}} becomes {{.database | urlvalue}}, as html/template adds
// its escapers. The pipelines of if, range and with decide, not write,
// and are left alone; their bodies are walked.
func encodeActions(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			encodeActions(c)
		}
	case *parse.ActionNode:
		p := n.Pipe
		if len(p.Decl) > 0 || encodes(p) {
			return // {{$x := .a}} writes nothing
		}
		p.Cmds = append(p.Cmds, &parse.CommandNode{
			NodeType: parse.NodeCommand, Pos: p.Pos,
			Args: []parse.Node{&parse.IdentifierNode{NodeType: parse.NodeIdentifier, Pos: p.Pos, Ident: encoderName}},
		})
	case *parse.IfNode:
		encodeActions(n.List)
		encodeActions(n.ElseList)
	case *parse.RangeNode:
		encodeActions(n.List)
		encodeActions(n.ElseList)
	case *parse.WithNode:
		encodeActions(n.List)
		encodeActions(n.ElseList)
	}
}

// encodes reports whether a pipeline ends in a URL encoder already.
func encodes(p *parse.PipeNode) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	last := p.Cmds[len(p.Cmds)-1]
	if id, ok := last.Args[0].(*parse.IdentifierNode); ok {
		return id.Ident == encoderName || id.Ident == "urlquery"
	}
	return false
}

// URLValue percent-encodes every byte of s but the unreserved characters
// of RFC 3986 (letters, digits, "-", ".", "_", "~"), so that the result is
// one value wherever in a URL it stands: a path segment, a query value, a
// fragment. A space is %20, which both a path and a query read as a space.
func URLValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
