package burnrate

import "time"

// Budget is an instance's error budget over its SLO's period ending at some
// minute: what pages, the API, reports and exports all state the budget
// left or consumed as a share of.
//
// The budget is (1 − objective) × the valid events of the period. An
// instance with less history than the period (a tenant created an hour
// ago) has its observed valid traffic extrapolated over the whole period:
//
//	observed = the minutes from its first one with data to the end, at most the period
//	valid    = the period's valid events × period ÷ observed
//
// so that a 2-minute full outage of a steady 3-hour-old tenant costs 2 of
// the 43.2 minutes a 99.9% 30d budget allows, as it would an old one,
// rather than 11 budgets of the 3 hours' few events.
// Burn rates are not touched: they are ratios over their windows.
type Budget struct {
	// Period are the events counted over the period.
	Period Counts
	// Valid are the valid events the budget is a share of: Period.Valid,
	// extrapolated over the whole period when the history is shorter.
	Valid float64
	// Allowed is the budget in events: (1 − objective) × Valid.
	Allowed float64
}

// Consumed is the share of the budget that bad failures take; 0 with no
// valid events.
func (b Budget) Consumed(bad float64) float64 {
	if b.Allowed <= 0 {
		return 0
	}
	return bad / b.Allowed
}

// Remaining is the share of the budget left after the period's failures:
// 1 − bad ÷ allowed; negative when overspent, 1 with no valid events.
func (b Budget) Remaining() float64 { return 1 - b.Consumed(b.Period.Bad) }

// Plus returns the budget of two instances together, as an SLO's figures
// sum its instances'.
func (b Budget) Plus(o Budget) Budget {
	return Budget{Period: b.Period.add(o.Period), Valid: b.Valid + o.Valid, Allowed: b.Allowed + o.Allowed}
}

// budgetAt is the budget of the period ending with minute k of a history
// s that began with minute first.
func (sp *Spec) budgetAt(s *Store, first, k int64) Budget {
	period := int64(sp.SLO.Window.Std() / time.Minute)
	b := Budget{Period: s.Sum(k, period)}
	b.Valid = b.Period.Valid
	// The minutes (first−1, k] are observed, k − first + 1 of them.
	if observed := k - first + 1; observed > 0 && observed < period && b.Valid > 0 {
		b.Valid = b.Valid * float64(period) / float64(observed)
	}
	b.Allowed = sp.budget * b.Valid
	return b
}
