package playbooks

import (
	"fmt"
	"strings"
)

// Ref is a config's reference to a playbook.
type Ref struct {
	Where string // the config field that holds it, e.g. slos[0].alerting.page.playbook
	ID    string // the playbook id it names; empty when the field is empty
}

// Lint checks a set against what a config references and defines, and
// returns every problem: each Ref must name a playbook of s (an empty one is
// a route with no playbook: give the refs of routes that must have one), and
// every playbook's applies_to must name alert kinds and severities that exist
// and SLOs among sloNames. That every playbook parses was checked when s was
// loaded.
func Lint(s *Set, refs []Ref, sloNames []string) []Problem {
	var probs []Problem
	ids := s.IDs()
	for _, r := range refs {
		switch _, ok := s.Get(r.ID); {
		case r.ID == "":
			probs = append(probs, Problem{Field: r.Where, Msg: "no playbook: every alert that can page must link one; the set has " + list(ids)})
		case !ok:
			probs = append(probs, Problem{Field: r.Where, Msg: fmt.Sprintf("playbook %q does not exist; the set has %s%s", r.ID, list(ids), didYouMean(r.ID, ids))})
		}
	}
	if sloNames == nil {
		sloNames = []string{} // none, rather than not known
	}
	for _, p := range s.all() {
		probs = append(probs, checkAppliesTo(p, sloNames)...)
	}
	return probs
}

func list(ids []string) string {
	if len(ids) == 0 {
		return "no playbooks"
	}
	return strings.Join(ids, ", ")
}
