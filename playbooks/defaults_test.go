package playbooks

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestDefaultsParseAndLintClean(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"burnwatch-no-data", "database-unavailable", "error-budget-slow-burn", "leader-election-churn", "operator-reconcile-failures", "user-fault-surge"}
	if got := s.IDs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	var refs []Ref
	for i, id := range s.IDs() {
		refs = append(refs, Ref{Where: fmt.Sprintf("refs[%d]", i), ID: id})
	}
	if probs := Lint(s, refs, []string{"cypher-availability"}); len(probs) > 0 {
		t.Errorf("the default set does not lint clean:\n%v", Problems(probs))
	}
	for _, p := range s.all() {
		if !strings.HasPrefix(p.Source, "embedded:") || !strings.HasSuffix(p.Source, p.ID+".md") {
			t.Errorf("%s: Source %q, want embedded:%s.md", p.ID, p.Source, p.ID)
		}
	}
}

// TestDefaultsHaveRealSteps keeps the default playbooks honest: each says
// what to run (PromQL and kubectl), how to mitigate, how to tell the user's
// fault from the platform's, and when to escalate.
func TestDefaultsHaveRealSteps(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	required := [][]string{ // each: any one of
		{"```promql"},
		{"kubectl "},
		{"## Before you start"},
		{"Mitigate", "## 3. Decide"},
		{"The user's fault, or the platform's?", "When it really is the users"},
		{"Escalate"},
	}
	for _, p := range s.all() {
		body := string(p.Body)
		for _, anyOf := range required {
			found := false
			for _, want := range anyOf {
				found = found || strings.Contains(body, want)
			}
			if !found {
				t.Errorf("%s: none of %q", p.ID, anyOf)
			}
		}
	}
}

var mdLink = regexp.MustCompile(`\]\(([a-z0-9-]+)\.md(#[a-z0-9-]+)?\)`)

// TestDefaultsLinkToPlaybooksAndSectionsThatExist follows every link from one
// default playbook to another, anchor included.
func TestDefaultsLinkToPlaybooksAndSectionsThatExist(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{}
	for _, p := range s.all() {
		page, err := p.HTML()
		if err != nil {
			t.Fatal(err)
		}
		pages[p.ID] = string(page)
	}
	links := 0
	for _, p := range s.all() {
		for _, m := range mdLink.FindAllStringSubmatch(string(p.Body), -1) {
			links++
			target, ok := pages[m[1]]
			if !ok {
				t.Errorf("%s links to %s.md, which is not a playbook", p.ID, m[1])
				continue
			}
			if m[2] != "" && !strings.Contains(target, `id="`+m[2][1:]+`"`) {
				t.Errorf("%s links to %s%s, which has no such section", p.ID, m[1], m[2])
			}
		}
	}
	if links == 0 {
		t.Error("found no links between the default playbooks; is the pattern right?")
	}
}
