package burnrate

import (
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// Spec is an SLO compiled for evaluation: its distinct windows in minutes
// and its pairs as indexes into them.
type Spec struct {
	SLO        *slo.SLO
	Layout     Layout
	Severities []slo.Severity // those the policy uses, in slo.Severities order
	Windows    []time.Duration
	budget     float64
	mins       []int64
	pairs      []pair
	surge      *surgeGuard // nil when the guard is off
	instances  []*Instance
}

type pair struct {
	long, short int // indexes into mins
	sev         int // index into Severities
	factor      float64
}

// maxWindows bounds the distinct windows of one policy (slo.MaxPairs pairs
// of two), so that evaluation keeps its rates on the stack.
const maxWindows = 2 * slo.MaxPairs

// NewSpec compiles an SLO for evaluation, with the user-fault surge guard
// configured by surge.
func NewSpec(s *slo.SLO, surge slo.Surge) *Spec {
	sp := &Spec{SLO: s, budget: s.Budget(), surge: newSurgeGuard(surge)}
	exact, retain := time.Duration(0), s.Window.Std()
	for _, p := range s.Pairs() {
		for _, w := range []time.Duration{p.Long.Std(), p.Short.Std()} {
			if !slices.Contains(sp.Windows, w) {
				sp.Windows = append(sp.Windows, w)
			}
		}
		exact = max(exact, p.Short.Std())
		retain = max(retain, p.Long.Std())
		if !slices.Contains(sp.Severities, p.Severity) {
			sp.Severities = append(sp.Severities, p.Severity)
		}
	}
	slices.SortFunc(sp.Severities, func(a, b slo.Severity) int {
		return slices.Index(slo.Severities, a) - slices.Index(slo.Severities, b)
	})
	for _, w := range sp.Windows {
		sp.mins = append(sp.mins, int64(w/time.Minute))
	}
	for _, p := range s.Pairs() {
		sp.pairs = append(sp.pairs, pair{
			long:   slices.Index(sp.Windows, p.Long.Std()),
			short:  slices.Index(sp.Windows, p.Short.Std()),
			sev:    slices.Index(sp.Severities, p.Severity),
			factor: p.Factor,
		})
	}
	sp.Layout = NewLayout(exact, retain)
	return sp
}

// Instances returns the SLO's instances in the order they were created.
func (sp *Spec) Instances() []*Instance { return sp.instances }

// Rate is the burn rate over one window.
type Rate struct {
	Window time.Duration
	Rate   float64
}

// BurnRate is how fast a window's events burn the budget:
//
//	burn = (bad ÷ valid) ÷ (1 − objective)
//
// A window with no valid events burns nothing.
func BurnRate(c Counts, budget float64) float64 {
	if c.Valid <= 0 {
		return 0
	}
	return c.Bad / c.Valid / budget
}

// numSeverities is len(slo.Severities), as a constant for array sizes.
const numSeverities = 2
