package burnrate

import "time"

// HourOf is the hour a minute bucket belongs to: hour h holds the minute
// buckets 60h+1 … 60h+60, the samples with time in (h hours, h+1 hours].
func HourOf(minute int64) int64 { return (minute - 1) / 60 }

// Minutes calls fn with the events of each minute bucket k in (from, to],
// oldest first, as the instance's history holds them. It reports false,
// calling fn for none, when some of those minutes are older than the
// history keeps exactly (docs/semantics.md): a minute's own count is known
// only within the fine ring.
func (in *Instance) Minutes(from, to int64, fn func(k int64, c Counts)) bool {
	s := &in.store
	if !s.exact(from, to) {
		return false
	}
	prev := s.cum(from)
	for k := from + 1; k <= to; k++ {
		c := s.cum(k)
		fn(k, c.sub(prev))
		prev = c
	}
	return true
}

// exact reports whether the cumulative count through every minute of
// [from, to] is kept exactly: it is before the first data, within the fine
// ring, or after the newest minute.
func (s *Store) exact(from, to int64) bool {
	oldestFine := s.head - int64(s.fine) + 1
	return s.head == 0 || to < s.start || from >= oldestFine || s.start >= oldestFine
}

// Replica is an instance's history rebuilt minute by minute from stored
// counts, measured with the very arithmetic and layout of the live
// instance: fed the minutes the instance counted, it gives the burn rates
// the instance's alerts saw. Exports use it; it belongs to no Spec's
// instances and has no alerts.
type Replica struct {
	sp    *Spec
	store Store
	first int64 // the minute the instance's history began, 0 if not known
}

// NewReplica returns an empty replica of an instance of sp.
func NewReplica(sp *Spec) *Replica {
	return &Replica{sp: sp, store: NewStore(sp.Layout)}
}

// Add counts events in minute bucket k. Quiet minutes before the first
// events are not history: the live instance's began with its first
// events. After that every minute is added, quiet ones too, so that the
// newest minute is where the live instance's is while samples keep coming.
func (r *Replica) Add(k int64, c Counts) {
	if r.store.head == 0 && c == (Counts{}) {
		return
	}
	r.store.Add(k, c)
}

// Sum returns the events of the window w ending with minute k.
func (r *Replica) Sum(k int64, w time.Duration) Counts {
	return r.store.Sum(k, int64(w/time.Minute))
}

// Since says that the instance's history began with minute first (its
// FirstData), which may be before the first minute the replica is fed or
// before its first minute with events: Budget then extrapolates a young
// instance's traffic over the very span the live instance does.
func (r *Replica) Since(first int64) { r.first = first }

// Budget is the budget of the period ending with minute k, as the live
// instance's Budget counts it: its history began with the minute Since
// names, or else with the first minute with events fed.
func (r *Replica) Budget(k int64) Budget {
	first := r.store.start
	if r.first > 0 && (r.first < first || r.store.head == 0) {
		first = r.first
	}
	return r.sp.budgetAt(&r.store, first, k)
}

// BurnRates appends to out the burn rate over each of the policy's windows
// (Spec.Windows, in order) ending with minute k.
func (r *Replica) BurnRates(k int64, out []float64) []float64 {
	return r.sp.burnRates(&r.store, k, out)
}

// burnRates appends the burn rate of each window ending with minute k.
func (sp *Spec) burnRates(s *Store, k int64, out []float64) []float64 {
	now := s.cum(k)
	for _, w := range sp.mins {
		out = append(out, BurnRate(now.sub(s.cum(k-w)), sp.budget))
	}
	return out
}
