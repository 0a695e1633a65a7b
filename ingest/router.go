// Package ingest is the shared path from counter samples to evaluated
// alerts: it routes each series to the SLO instances it counts for, turns
// counter values into increases with Prometheus's reset rule, classifies
// error series once, and feeds the burn-rate engine. Replay and the live
// service run the very same code after their source.
package ingest

import (
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/slo"
)

// Classifier decides the class of an error code; *classify.Classifier is
// one. It is asked once per series, never per sample.
type Classifier interface {
	Classify(code string, lset labels.Labels) classify.Decision
	// Canonical is the code as its vendor spells it: Datadog lowercases
	// tag values.
	Canonical(code string, lset labels.Labels) string
}

// Router knows every SLO instance and which series count for which.
type Router struct {
	Specs      []*burnrate.Spec
	classifier Classifier
	instances  []map[string]*burnrate.Instance // per spec, by instance key
	all        []*burnrate.Instance
	// series are every series seen, by their labels' hash, those of one
	// hash chained through next; a series no SLO reads is kept too, as
	// one without targets, so that it is matched once.
	series map[uint64]*Series
	// errors lists each instance's error series, to tell which codes
	// burn its budget.
	errors map[*burnrate.Instance][]*Series
	// Excluded, when set, says whether an instance's failures at ts are
	// excluded from its budget (a maintenance window): they then count as
	// noise, neither valid nor bad.
	Excluded func(in *burnrate.Instance, ts int64) bool
	// spare and spareSeries are the spool and series list of the last
	// batch, kept for the next.
	spare       *spool
	spareSeries []*Series
	// dirty lists the series observed since TakeDirty last ran.
	dirty []*Series
	// inherited are the recent and hourly error counts of the series of
	// the router this one replaced, by series key, for Inherit.
	inherited map[string]*Series
	// limits bound the instances and series made (limits.go); drops
	// counts what they refused since TakeDrops.
	limits slo.Limits
	drops  Drops
}

// Inherit takes over the error counts of the last hours from the router
// this one replaces (a config reload), so that the codes behind the next
// page and the history's codes of the hours under way lose nothing. A
// series gets them when it is first seen here.
func (r *Router) Inherit(old *Router) {
	r.inherited = map[string]*Series{}
	old.EachSeries(func(s *Series) {
		if s.errors {
			r.inherited[s.key] = s
		}
	})
}

// newSeries makes the series of lset, known by key, with what the router
// it replaced had counted of it.
func (r *Router) newSeries(lset labels.Labels, key string) *Series {
	s := &Series{Labels: lset, key: key}
	if old, ok := r.inherited[key]; ok {
		s.recent, s.hourly = old.recent, old.hourly
		delete(r.inherited, key)
	}
	return s
}

// NewRouter compiles the config's SLOs for evaluation.
func NewRouter(cfg *slo.Config, c Classifier) *Router {
	r := &Router{
		classifier: c,
		series:     map[uint64]*Series{},
		errors:     map[*burnrate.Instance][]*Series{},
		limits:     cfg.Limits,
	}
	for _, s := range cfg.SLOs {
		r.Specs = append(r.Specs, burnrate.NewSpec(s, cfg.Classify.Surge))
		r.instances = append(r.instances, map[string]*burnrate.Instance{})
	}
	return r
}

// Instances returns every instance in the order they were first seen.
func (r *Router) Instances() []*burnrate.Instance { return r.all }

// Series is one counter series and what its increases count for.
type Series struct {
	Labels labels.Labels
	key    string // Labels as text: the router's key, and the store's
	// Code and Decision are the error code and its class, for series that
	// are some SLO's errors.
	Code     string
	Decision classify.Decision
	// Increase is the sum of the series' increases so far.
	Increase float64
	targets  []target
	next     *Series // the next of the same hash
	none     bool    // no SLO reads it
	// batch and ref are the series' index in the batch being gathered.
	batch  *Batch
	ref    uint32
	recent recent // increases of an error series over the last hour
	hourly hourly // and per hour over the last few
	errors bool
	last   float64
	lastTS int64
	seen   bool
	dirty  bool
}

// Cursor returns the series' last sample: what the next increase is
// measured from.
func (s *Series) Cursor() (ts int64, v float64, ok bool) { return s.lastTS, s.last, s.seen }

// Key is the series' labels as text, as Labels.String writes them: its
// name in the router and in the store.
func (s *Series) Key() string { return s.key }

// Source is the name of the source the series is read from: its first
// SLO's (the one whose labels it carries, of an SLO reading several).
func (s *Series) Source() string {
	if len(s.targets) == 0 {
		return ""
	}
	return s.targets[0].inst.Spec.SLO.SourceFor(s.Labels)
}

// EachSeries calls fn with every series some SLO reads.
func (r *Router) EachSeries(fn func(*Series)) {
	for _, head := range r.series {
		for s := head; s != nil; s = s.next {
			if !s.none {
				fn(s)
			}
		}
	}
}

// lookup returns the series with these labels and hash, nil if it is not
// known.
func (r *Router) lookup(lset labels.Labels, h uint64) *Series {
	for s := r.series[h]; s != nil; s = s.next {
		if labels.Equal(s.Labels, lset) {
			return s
		}
	}
	return nil
}

// keep adds a series under its hash.
func (r *Router) keep(s *Series, h uint64) {
	s.next = r.series[h]
	r.series[h] = s
}

// Restore sets the series' last sample, as a restarted service knew it.
func (s *Series) Restore(ts int64, v float64) { s.lastTS, s.last, s.seen = ts, v, true }

// TakeDirty returns the series observed since it last ran.
func (r *Router) TakeDirty() []*Series {
	d := r.dirty
	for _, s := range d {
		s.dirty = false
	}
	r.dirty = nil
	return d
}

// target is an instance a series counts for, and how: an increase d
// counts as the events unit·d.
type target struct {
	inst *burnrate.Instance
	unit burnrate.Events
}

// Resolve returns the series with these labels, deciding on first sight
// which instances it counts for and, for error series, its class. It
// returns nil for a series that no SLO reads, and for one over a limit
// (limits.go): that one is counted in TakeDrops and not kept.
func (r *Router) Resolve(lset labels.Labels) *Series {
	h := lset.Hash()
	if s := r.lookup(lset, h); s != nil {
		if s.none {
			return nil
		}
		return s
	}
	key := lset.String()
	var s *Series
	read := false
	for i, sp := range r.Specs {
		role := sp.SLO.Role(lset)
		if role == 0 {
			continue
		}
		ls, keep := sp.SLO.Relabel(lset)
		if !keep {
			continue
		}
		read = true
		if reason, over := overLabels(r.limits, lset); over {
			r.drop(reason, sp.SLO.Name, lset)
			return nil
		}
		if s == nil {
			s = r.newSeries(lset.Copy(), key)
		}
		if len(sp.SLO.SLI.Relabel) == 0 {
			ls = s.Labels
		}
		var unit burnrate.Events
		if role&slo.RoleTotal != 0 {
			unit.Total = 1
		}
		in := r.limitedInstance(i, ls)
		if in == nil {
			continue
		}
		if role&slo.RoleErrors != 0 {
			if !r.roomForCode(in) {
				if unit.Total == 0 {
					continue
				}
			} else {
				unit = unit.Add(r.classifyErrors(s, in, ls.Get(sp.SLO.SLI.CodeLabel), ls))
			}
		}
		s.targets = append(s.targets, target{inst: in, unit: unit})
	}
	if !read {
		r.keep(&Series{Labels: lset.Copy(), key: key, none: true}, h)
		return nil
	}
	if s == nil || len(s.targets) == 0 {
		return nil // every target over a limit
	}
	r.keep(s, h)
	return s
}

// limitedInstance is instance, unless making it would pass the SLO's
// max_instances_per_slo: then it drops the series and returns nil.
func (r *Router) limitedInstance(i int, lset labels.Labels) *burnrate.Instance {
	sp := r.Specs[i]
	if n := r.limits.MaxInstancesPerSLO; n > 0 && len(r.instances[i]) >= n {
		if in := r.instances[i][sp.SLO.InstanceKey(lset)]; in != nil {
			return in
		}
		r.drop(DropInstances, sp.SLO.Name, lset)
		return nil
	}
	return r.instance(i, lset)
}

// roomForCode reports whether in may count one more error series, and
// drops the series when it may not.
func (r *Router) roomForCode(in *burnrate.Instance) bool {
	if n := r.limits.MaxCodesPerInstance; n > 0 && len(r.errors[in]) >= n {
		r.drop(DropCodes, in.Spec.SLO.Name, in.Labels)
		return false
	}
	return true
}

func (r *Router) instance(i int, lset labels.Labels) *burnrate.Instance {
	sp := r.Specs[i]
	key := sp.SLO.InstanceKey(lset)
	in, ok := r.instances[i][key]
	if !ok {
		in = burnrate.NewInstance(sp, sp.SLO.Instance(lset))
		in.Ordinal = len(r.all)
		r.instances[i][key] = in
		r.all = append(r.all, in)
	}
	return in
}

// Instance returns the instance of the named SLO that lset belongs to,
// creating it if need be; nil if there is no such SLO.
func (r *Router) Instance(sloName string, lset labels.Labels) *burnrate.Instance {
	for i, sp := range r.Specs {
		if sp.SLO.Name == sloName {
			return r.instance(i, lset)
		}
	}
	return nil
}

// Lookup returns the instance of the named SLO that lset belongs to, or
// nil if there is none yet: unlike Instance, it creates nothing.
func (r *Router) Lookup(sloName string, lset labels.Labels) *burnrate.Instance {
	for i, sp := range r.Specs {
		if sp.SLO.Name == sloName {
			return r.instances[i][sp.SLO.InstanceKey(lset)]
		}
	}
	return nil
}

// Known reports whether every instance a series with these labels counts
// for exists already.
func (r *Router) Known(lset labels.Labels) bool {
	for i, sp := range r.Specs {
		if sp.SLO.Role(lset) != 0 {
			ls, keep := sp.SLO.Relabel(lset)
			if _, ok := r.instances[i][sp.SLO.InstanceKey(ls)]; keep && !ok {
				return false
			}
		}
	}
	return true
}

// Pushed returns the series that pushed counts of an SLO instance's code
// are kept as; code "" is the instance's total. Its increments are counted
// with Increment, not Observe: pushed counts are increases already. It
// returns nil when the instance or the code is over a limit.
func (r *Router) Pushed(sloName string, lset labels.Labels, code string) *Series {
	i := slices.IndexFunc(r.Specs, func(sp *burnrate.Spec) bool { return sp.SLO.Name == sloName })
	if i < 0 {
		return nil
	}
	sp := r.Specs[i]
	b := labels.NewBuilder(sp.SLO.Instance(lset))
	b.Set(labels.MetricName, "burnwatch_pushed:"+sloName)
	if code != "" {
		b.Set(sp.SLO.SLI.CodeLabel, code)
	}
	id := b.Labels()
	h := id.Hash()
	if s := r.lookup(id, h); s != nil {
		return s
	}
	in := r.limitedInstance(i, id)
	if in == nil || code != "" && !r.roomForCode(in) {
		return nil
	}
	s := r.newSeries(id, id.String())
	unit := burnrate.Events{Total: 1}
	if code != "" {
		unit = r.classifyErrors(s, in, code, lset)
	}
	s.targets = []target{{inst: in, unit: unit}}
	r.keep(s, h)
	return s
}

// classifyErrors makes s an error series of in with the given code,
// classified once, and returns what one of its errors counts as.
func (r *Router) classifyErrors(s *Series, in *burnrate.Instance, code string, lset labels.Labels) burnrate.Events {
	s.errors = true
	s.Code = r.classifier.Canonical(code, lset)
	s.Decision = r.classifier.Classify(code, lset)
	r.errors[in] = append(r.errors[in], s)
	switch s.Decision.Class {
	case classify.User:
		return burnrate.Events{User: 1}
	case classify.Ignore:
		return burnrate.Events{Ignore: 1}
	}
	return burnrate.Events{Platform: 1}
}

// Observe takes a counter sample of s at ts (milliseconds) and counts its
// increase for the series' instances. fresh says whether a first sample
// is an increase from zero (a series that appeared while we watched) or
// only a baseline. touch is called for each instance counted for.
func (r *Router) Observe(s *Series, ts int64, v float64, fresh bool, touch func(*burnrate.Instance)) {
	d, ok := r.delta(s, ts, v, func(int64) bool { return fresh })
	if !ok {
		return
	}
	if !s.dirty {
		s.dirty = true
		r.dirty = append(r.dirty, s)
	}
	r.count(s, ts, d, MinuteBins, touch, nil)
}

// MaxSampleValue is the largest counter value counted: 2^63, which no
// 64-bit counter passes. A sample above it, negative or infinite is no
// counter's and is ignored; with samples bounded, every sum the engine
// makes of their increases stays finite.
const MaxSampleValue = 1 << 63

// delta moves s's cursor to the sample (ts, v) and returns the increase
// since the sample before, by Prometheus's counter-reset rule; false for a
// sample to ignore: read before, not a number (a staleness marker), or not
// a counter's value (see MaxSampleValue). For a series' first sample,
// fresh says whether it counts from zero.
func (r *Router) delta(s *Series, ts int64, v float64, fresh func(ts int64) bool) (float64, bool) {
	if s.seen && ts <= s.lastTS || !(v >= 0 && v <= MaxSampleValue) {
		// Read before: a live source re-reads from its cursor after a
		// failed cycle, and counting a sample twice would be wrong.
		return 0, false
	}
	var d float64
	switch {
	case !s.seen:
		s.seen = true
		if fresh(ts) {
			d = v
		}
	case v < s.last:
		// Prometheus's counter reset rule: a lower value means the
		// counter restarted from zero, so all of v is new.
		d = v
	default:
		d = v - s.last
	}
	s.last, s.lastTS = v, ts
	return d, true
}

// Increment counts an increase d of s at ts, as pushed events are.
func (r *Router) Increment(s *Series, ts int64, d float64, touch func(*burnrate.Instance)) {
	r.count(s, ts, d, MinuteBins, touch, nil)
}

// countWith counts an increase d of s over the bin of step ms ending at
// ts, telling journal.
func (r *Router) countWith(s *Series, ts int64, d float64, step int64, journal func(*burnrate.Instance, int64, burnrate.Events)) {
	r.count(s, ts, d, step, nil, journal)
}

func (r *Router) count(s *Series, ts int64, d float64, step int64, touch func(*burnrate.Instance), journal func(*burnrate.Instance, int64, burnrate.Events)) {
	s.Increase += d
	excluded := false
	for _, t := range s.targets {
		e := t.unit.Scale(d)
		if e.Platform != 0 && r.Excluded != nil && r.Excluded(t.inst, ts) {
			e.Ignore, e.Platform = e.Ignore+e.Platform, 0
			excluded = true
		}
		if step > MinuteBins {
			// An hour's increase, of a first start's older history:
			// it began with the hour (burnrate.Instance.AddOver).
			t.inst.AddOver(ts, step, e)
		} else {
			t.inst.Add(ts, e)
		}
		if journal != nil {
			journal(t.inst, ts, e)
		}
		if touch != nil {
			touch(t.inst)
		}
	}
	if s.errors {
		s.recent.add(ts, d)
		// Failures a maintenance window excluded burned no budget: the
		// history's codes, which say what burned it, leave them out.
		if !excluded {
			s.hourly.add(ts, d)
		}
	}
}

// Evaluate evaluates the instances at ts, then each SLO's user-fault surge
// guard, and calls emit for every transition with the error codes behind
// it.
func (r *Router) Evaluate(ts int64, insts []*burnrate.Instance, emit func(burnrate.Transition)) {
	r.EvaluateInstances(ts, insts, emit)
	r.EvaluateSurges(ts, r.Specs, emit)
}

// EvaluateInstances evaluates the instances at ts and calls emit for every
// transition, with the platform codes behind it.
func (r *Router) EvaluateInstances(ts int64, insts []*burnrate.Instance, emit func(burnrate.Transition)) {
	for _, in := range insts {
		in.Evaluate(ts, func(t burnrate.Transition) {
			t.Codes = r.TopCodes(ts, classify.Platform, in)
			emit(t)
		})
	}
}

// EvaluateSurges steps the user-fault surge alerts of the SLOs at ts and
// calls emit for every transition, with the user codes behind it.
func (r *Router) EvaluateSurges(ts int64, specs []*burnrate.Spec, emit func(burnrate.Transition)) {
	for _, sp := range specs {
		sp.EvaluateSurge(ts, func(t burnrate.Transition) {
			var surging []*burnrate.Instance
			for _, in := range sp.Instances() {
				if in.Surging() {
					surging = append(surging, in)
				}
			}
			t.Codes = r.TopCodes(ts, classify.User, surging...)
			emit(t)
		})
	}
}
