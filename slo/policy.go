package slo

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Severity is how urgently an alert needs a human.
type Severity string

const (
	Page   Severity = "page"   // wake someone up
	Ticket Severity = "ticket" // look at it during working hours
)

// Severities lists the severities in the order alerts are kept and printed.
var Severities = []Severity{Page, Ticket}

// MaxPairs is the most pairs a policy may have; the workbook has four.
const MaxPairs = 8

// Policy is an SLO's alert policy: a named preset or a list of pairs.
type Policy struct {
	Preset string
	Pairs  []PairSpec
}

// PairSpec is one multiwindow alert condition, stated as budget consumption:
// alert when BudgetPercent of the period's error budget burns within Long,
// confirmed by Short still burning at the same rate.
type PairSpec struct {
	Severity      Severity `yaml:"severity"`
	BudgetPercent float64  `yaml:"budget_percent"`
	Long          Duration `yaml:"long"`
	Short         Duration `yaml:"short"`
}

// Pair is a PairSpec with its burn-rate factor derived from the SLO's period.
type Pair struct {
	PairSpec
	// Factor is the burn rate above which both windows must be:
	//
	//	factor = budget_percent/100 × period / long
	//
	// Burning at rate 1 spends exactly the budget in one period, so burning
	// budget_percent of it within long takes that many times the rate.
	Factor float64
}

// Presets are the built-in policies.
var Presets = map[string][]PairSpec{
	// workbook follows the SRE Workbook's multiwindow, multi-burn-rate alerts:
	// page on 2% of the budget in 1h or 5% in 6h, ticket on 10% in 1d or 3d.
	"workbook": {
		{Severity: Page, BudgetPercent: 2, Long: Duration(time.Hour), Short: Duration(5 * time.Minute)},
		{Severity: Page, BudgetPercent: 5, Long: Duration(6 * time.Hour), Short: Duration(30 * time.Minute)},
		{Severity: Ticket, BudgetPercent: 10, Long: Duration(24 * time.Hour), Short: Duration(2 * time.Hour)},
		{Severity: Ticket, BudgetPercent: 10, Long: Duration(72 * time.Hour), Short: Duration(6 * time.Hour)},
	},
}

// Factor derives a pair's burn-rate factor for an SLO period.
func Factor(budgetPercent float64, period, long time.Duration) float64 {
	// Multiply before dividing: both durations are exact integers, so the
	// result is the float nearest the true factor (14.4, not 14.399999…).
	return budgetPercent * float64(period) / (100 * float64(long))
}

// Derive returns the pairs of a policy with their factors for period.
func (p Policy) Derive(period time.Duration) ([]Pair, error) {
	specs := p.Pairs
	if p.Preset != "" {
		var ok bool
		if specs, ok = Presets[p.Preset]; !ok {
			return nil, fmt.Errorf("unknown policy %q; valid: workbook, or a list of {severity, budget_percent, long, short}", p.Preset)
		}
	}
	pairs := make([]Pair, len(specs))
	for i, s := range specs {
		pairs[i] = Pair{PairSpec: s, Factor: Factor(s.BudgetPercent, period, s.Long.Std())}
	}
	return pairs, nil
}

func (p Policy) isZero() bool { return p.Preset == "" && p.Pairs == nil }

// UnmarshalYAML reads either a preset name or a list of pairs.
func (p *Policy) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Decode(&p.Preset)
	case yaml.SequenceNode:
		return n.Decode(&p.Pairs)
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a policy is a preset name (workbook) or a list of {severity, budget_percent, long, short}", n.Line)}}
}

// MarshalYAML writes the preset name or the list.
func (p Policy) MarshalYAML() (any, error) {
	if p.Preset != "" {
		return p.Preset, nil
	}
	return p.Pairs, nil
}
