package playbooks

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseReadsEveryField(t *testing.T) {
	data := "\ufeff---\r\n" + `id: database-down
title: The database is down
owner: dbaas-oncall
applies_to:
  alerts: burn-rate
  slos: [cypher-availability]
  severities: [page, ticket]
  codes:
    - Neo.DatabaseError.*
    - CrashLoopBackOff
---
# Steps

Restart it.
`
	p, probs := parse("x.md", []byte(data))
	if len(probs) > 0 {
		t.Fatalf("parse: %v", probs)
	}
	want := AppliesTo{
		Alerts:     []string{"burn-rate"},
		SLOs:       []string{"cypher-availability"},
		Severities: []string{"page", "ticket"},
		Codes:      []string{"Neo.DatabaseError.*", "CrashLoopBackOff"},
	}
	if p.ID != "database-down" || p.Title != "The database is down" || p.Owner != "dbaas-oncall" || p.Source != "x.md" {
		t.Errorf("got %q %q %q %q", p.ID, p.Title, p.Owner, p.Source)
	}
	if !equalAppliesTo(p.AppliesTo, want) {
		t.Errorf("applies_to = %+v, want %+v", p.AppliesTo, want)
	}
	if got := string(p.Body); got != "# Steps\n\nRestart it.\n" {
		t.Errorf("body = %q", got)
	}
	for field, line := range map[string]int{"id": 2, "applies_to.alerts[0]": 6, "applies_to.severities[1]": 8, "applies_to.codes[1]": 11} {
		if got := p.line(field); got != line {
			t.Errorf("line of %s = %d, want %d", field, got, line)
		}
	}
}

func equalAppliesTo(a, b AppliesTo) bool {
	return slices.Equal(a.Alerts, b.Alerts) && slices.Equal(a.SLOs, b.SLOs) &&
		slices.Equal(a.Severities, b.Severities) && slices.Equal(a.Codes, b.Codes)
}

// Each file of testdata/bad is broken in one way, and must produce exactly
// these problems.
var badFiles = map[string][]string{
	"no-front-matter.md": {`:1: no front matter: a playbook starts with a line of ---`},
	"unclosed.md":        {`:1: the front matter opened on line 1 is never closed`},
	"yaml-syntax.md":     {`:3: front matter is not valid YAML: mapping values are not allowed in this context; quote a value`},
	"missing-fields.md": {
		`:1: title: missing`,
		`:1: owner: missing`,
		`:1: applies_to: missing; a playbook applies at least to one alert kind`,
	},
	"wrong-types.md": {
		`:3: title: must be a string, not a list`,
		`:6: applies_to.alerts: must be a list of strings, not a mapping`,
	},
	"unknown-field.md": {
		`:1: owner: missing`,
		`:4: ownr: unknown field; the fields here are id, title, owner, applies_to (did you mean owner?)`,
		`:7: applies_to.severity: unknown field; the fields here are alerts, slos, severities, codes`,
	},
	"bad-values.md": {
		`:2: id: "Bad_ID" is not a playbook id`,
		`:6: applies_to.alerts[0]: "burn_rate" is not an alert kind; the kinds are burn-rate, user-fault-surge, no-data (did you mean burn-rate?)`,
		`:7: applies_to.slos[0]: "Cypher Availability" is not an SLO name`,
		`:8: applies_to.severities[0]: "critical" is not a severity; the severities are page, ticket`,
		`:9: applies_to.codes[0]: "Neo.*.SyntaxError" is not a code pattern: * may only end a prefix`,
		`:9: applies_to.codes[1]: an empty code matches nothing`,
	},
	"empty-body.md":    {`:7: the playbook has no steps`},
	"duplicate-key.md": {`:4: title: given twice (first on line 3); keep one`},
	"not-a-mapping.md": {`:2: the front matter must be fields (id, title, owner, applies_to), not a list`},
	"applies-to-string.md": {
		`:5: applies_to: must be fields (alerts, slos, severities, codes), not "burn-rate"`,
	},
}

func TestParseReportsEachBrokenFileAtItsLineAndField(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.md")
	if len(files) != len(badFiles) {
		t.Errorf("testdata/bad has %d files, the table %d: keep them in step", len(files), len(badFiles))
	}
	for name, want := range badFiles {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, probs := parse(path, data)
			if p != nil {
				t.Error("a broken file gave a playbook")
			}
			if len(probs) != len(want) {
				t.Errorf("got %d problems, want %d:\n%v", len(probs), len(want), probs)
			}
			for i := range min(len(probs), len(want)) {
				if got := probs[i].Error(); !strings.HasPrefix(got, path+want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s%s…", i, got, path, want[i])
				}
			}
		})
	}
}

func TestParseAcceptsAnEmptyListAsAny(t *testing.T) {
	p, probs := parse("x.md", []byte("---\nid: x\ntitle: X\nowner: o\napplies_to:\n  alerts: [no-data]\n  slos:\n  codes: []\n---\nsteps\n"))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if p.AppliesTo.SLOs != nil || len(p.AppliesTo.Codes) != 0 {
		t.Errorf("applies_to = %+v", p.AppliesTo)
	}
}

func TestProblemErrorLeavesOutWhatIsUnknown(t *testing.T) {
	for _, c := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.md", Line: 3, Field: "id", Msg: "m"}, "a.md:3: id: m"},
		{Problem{File: "a.md", Msg: "m"}, "a.md: m"},
		{Problem{Field: "slos[0].alerting.page.playbook", Msg: "m"}, "slos[0].alerting.page.playbook: m"},
	} {
		if got := c.p.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// FuzzParse checks that no input makes parse panic, and that what it accepts
// is a playbook Load would keep.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.md")
	defaults, _ := filepath.Glob("defaults/*.md")
	for _, name := range append(files, defaults...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, probs := parse("f.md", data)
		if (p == nil) == (len(probs) == 0) {
			t.Fatalf("playbook %v with problems %v", p, probs)
		}
		for _, pr := range probs {
			if pr.File != "f.md" || pr.Msg == "" {
				t.Fatalf("problem without file or message: %+v", pr)
			}
		}
		if p != nil && (!idRE.MatchString(p.ID) || p.Title == "" || p.Owner == "" || len(p.AppliesTo.Alerts) == 0) {
			t.Fatalf("accepted an incomplete playbook: %+v", p)
		}
	})
}
