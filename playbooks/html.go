package playbooks

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown renders playbook bodies: CommonMark with GitHub's tables,
// strikethrough, task lists and autolinks, and ids on headings so that a
// step can be linked. It is not unsafe: raw HTML in a playbook is left out
// (as an HTML comment) and javascript: links are dropped, so a playbook
// cannot run script in the responder's browser.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(
		parser.WithAutoHeadingID(),
		parser.WithASTTransformers(util.Prioritized(siblingLinks{}, 100)),
	),
)

//go:embed page.html
var pageHTML string

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(pageHTML))

// HTML renders the playbook as a complete HTML page, styles included and
// nothing loaded from elsewhere: its title, owner and applies_to, then the
// body, its placeholders as written. The title is shown as the heading
// unless the body has its own level-1 heading.
func (p *Playbook) HTML() ([]byte, error) {
	r, err := p.render()
	if err != nil {
		return nil, err
	}
	return r.page(p, filling{Missing: p.Placeholders()})
}

// rendered is a playbook's body rendered to HTML once, to be filled in
// and laid out per request.
type rendered struct {
	body  string // goldmark's output; raw HTML was left out
	hasH1 bool
}

func (p *Playbook) render() (rendered, error) {
	doc := markdown.Parser().Parse(text.NewReader(p.Body))
	var body bytes.Buffer
	if err := markdown.Renderer().Render(&body, p.Body, doc); err != nil {
		return rendered{}, fmt.Errorf("rendering playbook %q: %w", p.ID, err)
	}
	return rendered{body: body.String(), hasH1: hasH1(doc)}, nil
}

// page lays out the rendered playbook as a page, its placeholders filled
// as f says, and says what was filled.
func (r rendered) page(p *Playbook, f filling) ([]byte, error) {
	var out bytes.Buffer
	err := pages.ExecuteTemplate(&out, "playbook", map[string]any{
		"Playbook": p,
		"Body":     template.HTML(f.fillHTML(r.body)), // values escaped, and of names' characters only
		"HasH1":    r.hasH1,
		"Fill":     f,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering playbook %q: %w", p.ID, err)
	}
	return out.Bytes(), nil
}

func hasH1(doc ast.Node) bool {
	found := false
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if h, ok := n.(*ast.Heading); ok && entering && h.Level == 1 {
			found = true
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return found
}

// siblingLinks rewrites links to another playbook's file ("leader-election-
// churn.md", "./x.md#mitigate") to the page that serves it ("leader-election-
// churn"), so that the same Markdown links work when read as files in a
// repository and when served at /playbooks/{id}.
type siblingLinks struct{}

func (siblingLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			if dest, ok := siblingPage(string(l.Destination)); ok {
				l.Destination = []byte(dest)
			}
		}
		return ast.WalkContinue, nil
	})
}

// siblingPage returns the page address of a relative link to a playbook
// file in the same directory.
func siblingPage(dest string) (string, bool) {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "" || u.Host != "" || u.RawQuery != "" {
		return "", false
	}
	id, ok := strings.CutSuffix(strings.TrimPrefix(u.Path, "./"), ".md")
	if !ok || !idRE.MatchString(id) {
		return "", false
	}
	if u.Fragment != "" {
		id += "#" + u.EscapedFragment()
	}
	return id, true
}
