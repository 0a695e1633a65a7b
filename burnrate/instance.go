package burnrate

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// Instance is one SLO instance: the events of one value set of the SLO's
// group_by labels, and its alerts.
type Instance struct {
	Spec   *Spec
	Labels labels.Labels
	// Ordinal numbers the instances of a router, from 0 in the order they
	// were made: an index for whoever keeps something per instance.
	Ordinal int
	store   Store
	alerts  [numSeverities]Alert
	// fired is, per severity, the pair that fired most recently; its
	// windows are the burn rates a transition reports.
	fired [numSeverities]int8
	// evaluated is the last time the instance was evaluated, so that a
	// caller can evaluate each touched instance once per timestamp.
	evaluated int64
	surge     *instanceSurge // nil when the guard is off
	// Totals are the instance's events since it was created, by class.
	Totals Events
}

// NewInstance returns an instance of the SLO with an empty history.
func NewInstance(sp *Spec, lset labels.Labels) *Instance {
	in := &Instance{Spec: sp, Labels: lset, store: NewStore(sp.Layout)}
	if sp.surge != nil {
		in.surge = &instanceSurge{store: NewStore(sp.surge.layout), episode: -1}
	}
	sp.instances = append(sp.instances, in)
	return in
}

// Add counts events that happened at time ts (milliseconds).
func (in *Instance) Add(ts int64, e Events) {
	k := MinuteOf(ts)
	// The history begins with the first events: samples that counted
	// nothing before them (a counter's baseline, a tenant not queried
	// yet) are not history, so that FirstData is when traffic began, as
	// the stored per-minute history (and an export's Replica) sees it.
	if in.store.head != 0 || e != (Events{}) {
		in.store.Add(k, e.Counts())
	}
	if g := in.surge; g != nil {
		// Gathered here and written to the guard's store once per
		// five-minute bucket: one touch of its memory instead of one a
		// sample.
		if b := surgeBucketOf(ts); b != g.bucket {
			g.flush()
			g.bucket = b
		}
		g.held.Valid += e.Total
		g.held.Bad += e.User
	}
	in.Totals = in.Totals.Add(e)
}

// AddOver counts events that happened over the span (ms) ending at ts, as
// a first start's history read by the hour brings them: they are counted
// at ts, and when they are the instance's first, its history begins with
// the span's first minute, as a replay of the same samples minute by
// minute begins it (the budget of a young instance depends on it).
func (in *Instance) AddOver(ts, span int64, e Events) {
	empty := in.store.head == 0
	in.Add(ts, e)
	if empty && in.store.head != 0 {
		// The minutes between are empty: their cumulative counts are
		// the fine ring's zeros.
		in.store.start = min(in.store.start, MinuteOf(ts-span)+1)
	}
}

// Sum returns the instance's events over the window w ending at ts.
func (in *Instance) Sum(ts int64, w time.Duration) Counts {
	return in.store.Sum(MinuteOf(ts), int64(w/time.Minute))
}

// Alert returns the state of the instance's alert of a severity.
func (in *Instance) Alert(sev slo.Severity) Alert {
	for i, s := range in.Spec.Severities {
		if s == sev {
			return in.alerts[i]
		}
	}
	return Alert{}
}

// BurnRates returns the burn rate over each of the policy's windows at ts.
func (in *Instance) BurnRates(ts int64) []Rate {
	sp := in.Spec
	burns := sp.burnRates(&in.store, MinuteOf(ts), make([]float64, 0, len(sp.mins)))
	rates := make([]Rate, len(burns))
	for i, b := range burns {
		rates[i] = Rate{sp.Windows[i], b}
	}
	return rates
}

// FiredWindows returns the indexes into Spec.Windows of the long and the
// short window of the pair of the severity Spec.Severities[sev] that
// fired most recently: the burn rates a page about the alert shows.
func (in *Instance) FiredWindows(sev int) (long, short int) {
	p := in.Spec.pairs[in.fired[sev]]
	return p.long, p.short
}

// AppendBurnRates appends to out the burn rate over each of the policy's
// windows (Spec.Windows, in order) at ts, allocating nothing else.
func (in *Instance) AppendBurnRates(ts int64, out []float64) []float64 {
	return in.Spec.burnRates(&in.store, MinuteOf(ts), out)
}

// Budget is the instance's error budget over the period ending at ts,
// extrapolated over the period when its history is shorter (Budget).
func (in *Instance) Budget(ts int64) Budget {
	return in.Spec.budgetAt(&in.store, in.store.start, MinuteOf(ts))
}

// BudgetRemaining is the fraction of the period's error budget left at
// ts: 1 − bad ÷ budget over the period; negative when overspent, 1 with
// no valid events.
func (in *Instance) BudgetRemaining(ts int64) float64 { return in.Budget(ts).Remaining() }

// FirstData is the time of the first minute with events, 0 if none.
func (in *Instance) FirstData() int64 { return in.store.start * minuteMS }

// LastData is the time of the newest minute with events, 0 if none.
func (in *Instance) LastData() int64 { return in.store.Head() * minuteMS }

// Evaluated reports whether the instance was evaluated at ts already, and
// marks it evaluated at ts.
func (in *Instance) Evaluated(ts int64) bool {
	if in.evaluated == ts {
		return true
	}
	in.evaluated = ts
	return false
}

// Evaluate measures the burn rates at time ts, steps the alerts and calls
// emit for each alert whose state changed.
func (in *Instance) Evaluate(ts int64, emit func(Transition)) {
	sp := in.Spec
	r := rates{in: in, k: MinuteOf(ts)}
	r.now = in.store.cum(r.k)
	var firing [numSeverities]bool
	for i, p := range sp.pairs {
		// The short window first: it is the cheaper, and while it is
		// quiet the long one need not be measured.
		if !firing[p.sev] && r.get(p.short) > p.factor && r.get(p.long) > p.factor {
			firing[p.sev] = true
			in.fired[p.sev] = int8(i)
		}
	}
	for i := range sp.Severities {
		if in.alerts[i].Step(ts, firing[i]) {
			emit(in.transition(ts, i, &r))
		}
	}
	if sp.surge != nil {
		// Judge each five-minute bucket once, when the first sample
		// after it shows it is complete.
		if b := surgeBucketOf(ts); b != in.surge.judged {
			in.surge.judged = b
			sp.surge.step(in, b-1, ts)
		}
	}
}

// rates measures an instance's burn rates at minute k, each window once
// and only when asked.
type rates struct {
	in   *Instance
	k    int64
	now  Counts
	done uint32 // bit i: rate[i] is measured
	rate [maxWindows]float64
}

func (r *rates) get(i int) float64 {
	if r.done&(1<<i) == 0 {
		sp := r.in.Spec
		r.rate[i] = BurnRate(r.now.sub(r.in.store.cum(r.k-sp.mins[i])), sp.budget)
		r.done |= 1 << i
	}
	return r.rate[i]
}

func (in *Instance) transition(ts int64, sev int, rates *rates) Transition {
	sp := in.Spec
	p := sp.pairs[in.fired[sev]]
	severity := sp.Severities[sev]
	return Transition{
		Time:     time.UnixMilli(ts).UTC(),
		Alert:    BurnRateAlert,
		SLO:      sp.SLO.Name,
		Labels:   in.Labels,
		Severity: severity,
		State:    in.alerts[sev].State,
		BurnRates: []Rate{
			{sp.Windows[p.long], rates.get(p.long)},
			{sp.Windows[p.short], rates.get(p.short)},
		},
		Playbook:        sp.SLO.Playbook(severity),
		ID:              ID(BurnRateAlert, sp.SLO.Name, in.Labels, severity),
		BudgetRemaining: in.BudgetRemaining(ts),
	}
}

// ID is the stable identity of an alert, and the PagerDuty dedup key: the
// one place alerts are named. An SLO instance's burn-rate alert is named
// by its SLO, labels and severity; an SLO's own alerts (the surge guard's,
// no-data) by their kind besides.
func ID(kind, sloName string, lset labels.Labels, sev slo.Severity) string {
	if kind != BurnRateAlert {
		sloName += "/" + kind
	}
	return AlertID(sloName, lset, sev)
}

// AlertID is the hash behind ID: of a name, the labels in name order and
// the severity. Use ID.
func AlertID(sloName string, lset labels.Labels, sev slo.Severity) string {
	h := sha256.New()
	h.Write([]byte(sloName))
	h.Write([]byte{0xff})
	lset.Range(func(l labels.Label) {
		h.Write([]byte(l.Name))
		h.Write([]byte{0xfe})
		h.Write([]byte(l.Value))
		h.Write([]byte{0xff})
	})
	h.Write([]byte(sev))
	return hex.EncodeToString(h.Sum(nil)[:16])
}
