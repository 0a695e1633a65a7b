package playbooks

import (
	"strings"
	"sync"
	"testing"
)

func render(t *testing.T, body string) string {
	t.Helper()
	p := &Playbook{ID: "x", Title: "Disk <full> & writes fail", Owner: "dbaas-oncall", Source: "x.md",
		AppliesTo: AppliesTo{Alerts: []string{AlertBurnRate}}, Body: []byte(body)}
	page, err := p.HTML()
	if err != nil {
		t.Fatal(err)
	}
	return string(page)
}

func TestHTMLRendersAFullPage(t *testing.T) {
	page := render(t, "# Disk full\n\n| code | means |\n|---|---|\n| `Neo.DatabaseError.General.UnknownError` | look at the logs |\n\n```sh\nkubectl -n $NS get pvc\n```\n")
	for _, want := range []string{
		"<!DOCTYPE html>",
		"<title>Disk &lt;full&gt; &amp; writes fail · playbook x</title>",
		"<style>",
		`<h1 id="disk-full">Disk full</h1>`,
		"<table>", "<th>code</th>", "<td><code>Neo.DatabaseError.General.UnknownError</code></td>",
		`<pre><code class="language-sh">kubectl -n $NS get pvc`,
		"owner: dbaas-oncall",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Count(page, "<h1") != 1 {
		t.Error("the title was added as a second h1")
	}
	for _, external := range []string{"<script", "<link", "src=\"http"} {
		if strings.Contains(page, external) {
			t.Errorf("page is not self-contained: has %q", external)
		}
	}
}

func TestHTMLUsesTheTitleWhenTheBodyHasNoHeading(t *testing.T) {
	page := render(t, "Restart it.\n")
	if !strings.Contains(page, "<h1>Disk &lt;full&gt; &amp; writes fail</h1>") {
		t.Errorf("no h1 from the title:\n%s", page)
	}
}

func TestHTMLDoesNotRenderRawHTML(t *testing.T) {
	page := render(t, "# Steps\n\n<script>alert(1)</script>\n\nInline <img src=x onerror=alert(1)> too.\n\n[click](javascript:alert(1))\n")
	for _, bad := range []string{"<script>alert", "<img src=x", "onerror", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has %q:\n%s", bad, page)
		}
	}
	if !strings.Contains(page, "raw HTML omitted") {
		t.Error("raw HTML was not replaced")
	}
}

func TestHTMLLinksSiblingPlaybooksToTheirPages(t *testing.T) {
	page := render(t, "See [a](leader-election-churn.md), [b](./database-unavailable.md#3-the-pods), [c](https://example.com/x.md), [d](../other/x.md).\n")
	for _, want := range []string{
		`href="leader-election-churn"`,
		`href="database-unavailable#3-the-pods"`,
		`href="https://example.com/x.md"`,
		`href="../other/x.md"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func TestURL(t *testing.T) {
	for _, c := range []struct{ base, want string }{
		{"https://burnwatch.example.com", "https://burnwatch.example.com/playbooks/database-unavailable"},
		{"https://burnwatch.example.com/", "https://burnwatch.example.com/playbooks/database-unavailable"},
		{"https://ops.example.com/burnwatch//", "https://ops.example.com/burnwatch/playbooks/database-unavailable"},
		{"", "/playbooks/database-unavailable"},
	} {
		if got := URL(c.base, "database-unavailable"); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.base, got, c.want)
		}
	}
}

func TestHTMLRendersConcurrently(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		for _, p := range s.all() {
			wg.Go(func() {
				if _, err := p.HTML(); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}
