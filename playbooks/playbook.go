package playbooks

import (
	"fmt"
	"regexp"
	"strings"
)

// Playbook is one playbook document.
type Playbook struct {
	ID        string
	Title     string
	Owner     string // who keeps it current: a team or rotation
	AppliesTo AppliesTo
	Body      []byte // Markdown, everything after the front matter
	Source    string // the file's path, or "embedded:NAME.md" for the default set

	// lines maps a front matter field's path (id, applies_to.slos[1]) to
	// its line in Source, so that Lint can point at it.
	lines map[string]int
}

// AppliesTo says which alerts a playbook is for. An empty list, other than
// Alerts, places no constraint.
type AppliesTo struct {
	Alerts     []string `yaml:"alerts"`     // alert kinds: burn-rate, user-fault-surge, no-data
	SLOs       []string `yaml:"slos"`       // SLO names
	Severities []string `yaml:"severities"` // page, ticket
	Codes      []string `yaml:"codes"`      // error codes; a trailing * makes a prefix
}

// Alert kinds, as transitions name them in their "alert" field.
const (
	AlertBurnRate       = "burn-rate"        // an SLO's own multiwindow burn-rate alert
	AlertUserFaultSurge = "user-fault-surge" // the classifier's fleet-wide user-fault guard
	AlertNoData         = "no-data"          // burnwatch receives no samples for an SLO
)

// Severities of alerts.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

var (
	alertKinds = []string{AlertBurnRate, AlertUserFaultSurge, AlertNoData}
	severities = []string{SeverityPage, SeverityTicket}

	// idRE is the form of playbook ids, and of SLO names: the same as the
	// config's, so that any id a config accepts can name a playbook.
	idRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// line returns the line in Source of the field at path, or 0.
func (p *Playbook) line(path string) int { return p.lines[path] }

// Problem is one thing wrong with a playbook or with a reference to one,
// located by file, line and field.
type Problem struct {
	File  string // the playbook's Source; empty for a problem in the config's references
	Line  int    // 1-based; 0 when unknown
	Field string // a front matter path such as applies_to.slos[0], or a Ref's Where
	Msg   string
}

// Error formats the problem as "file:line: field: msg", leaving out the parts
// that are unknown.
func (p Problem) Error() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found, one a line when printed. Load returns it
// as its error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}
