package burnrate

import (
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/slo"
)

// surgeGuard is the per-SLO state of the user-fault surge guard: how many
// of the SLO's instances surge now, and the fleet-wide alert.
type surgeGuard struct {
	cfg      slo.Surge
	window   int64 // minutes
	baseline int64 // minutes
	layout   Layout
	surging  int
	alert    Alert
	episodes []Episode
}

// maxSurgeInstances bounds the instances a surge transition lists; Surging
// says how many there are.
const maxSurgeInstances = 20

// maxEpisodes bounds the surges kept per SLO for the record.
const maxEpisodes = 1000

// Episode is one instance's surge of user faults: recorded and visible even
// when it stays below the fleet-wide threshold and alerts no one.
type Episode struct {
	Labels labels.Labels
	From   time.Time
	To     time.Time // zero while it lasts
	Peak   float64   // the highest ratio of the recent to the baseline user-fault ratio
}

// surgeBucketMS is the guard's resolution: it keeps an instance's events in
// five-minute buckets and judges the instance once per bucket, a fifth of
// the memory traffic of minute buckets for an alert that watches hours.
const surgeBucketMS = 5 * minuteMS

// flush moves the held events into the store.
func (s *instanceSurge) flush() {
	if s.held != (Counts{}) {
		s.store.Add(s.bucket, s.held)
		s.held = Counts{}
	}
}

// surgeBucketOf is the five-minute bucket of a time, rounded like MinuteOf.
func surgeBucketOf(ms int64) int64 { return (ms + surgeBucketMS - 1) / surgeBucketMS }

// instanceSurge is an instance's part in the guard: its total and user
// events (as Valid and Bad of a Store, whose buckets here are five
// minutes) exact over the window and hourly beyond, and whether it surges
// now.
type instanceSurge struct {
	store   Store
	held    Counts // events of bucket not yet in store
	bucket  int64
	judged  int64 // the bucket it was last judged in
	surging bool
	episode int // index into the guard's episodes while surging, else -1
}

func newSurgeGuard(cfg slo.Surge) *surgeGuard {
	if cfg.Disabled {
		return nil
	}
	bucket := time.Duration(surgeBucketMS) * time.Millisecond
	g := &surgeGuard{
		cfg:      cfg,
		window:   int64(cfg.Window.Std() / bucket),
		baseline: int64(cfg.Baseline.Std() / bucket),
	}
	// Exact to the bucket over the window; the baseline's far edge is
	// interpolated within two hours (24 buckets), which a seven-day
	// baseline forgives.
	const step = 24
	g.layout = Layout{Fine: g.window + 1, Step: step, Coarse: (g.window+g.baseline)/step + 3}
	return g
}

// step judges whether an instance surges at five-minute bucket k:
//
//	recent   = user ÷ total over (k−window, k]
//	baseline = user ÷ total over (k−window−baseline, k−window]
//	surging  = recent ≥ factor × max(baseline, min_baseline)
//	           and user ≥ min_events over the window
//
// An instance with no events in its baseline has no normal to compare
// with and does not surge.
func (g *surgeGuard) step(in *Instance, k int64, ts int64) {
	s := in.surge
	s.flush()
	st := &s.store
	now, edge := st.cum(k), st.cum(k-g.window)
	recent, base := now.sub(edge), edge.sub(st.cum(k-g.window-g.baseline))
	surging := false
	var ratio float64
	if recent.Valid > 0 && base.Valid > 0 && recent.Bad >= g.cfg.MinEvents {
		ratio = (recent.Bad / recent.Valid) / max(base.Bad/base.Valid, g.cfg.MinBaseline)
		surging = ratio >= g.cfg.Factor
	}
	switch {
	case surging && !s.surging:
		g.surging++
		s.episode = -1
		if len(g.episodes) < maxEpisodes {
			s.episode = len(g.episodes)
			g.episodes = append(g.episodes, Episode{Labels: in.Labels, From: time.UnixMilli(ts).UTC()})
		}
	case !surging && s.surging:
		g.surging--
		if s.episode >= 0 {
			g.episodes[s.episode].To = time.UnixMilli(ts).UTC()
		}
	}
	if surging && s.episode >= 0 {
		g.episodes[s.episode].Peak = max(g.episodes[s.episode].Peak, ratio)
	}
	s.surging = surging
}

// resume counts an instance restored in the middle of a surge: it surges
// again, with the episode it was in.
func (g *surgeGuard) resume(in *Instance, from time.Time, peak float64) {
	s := in.surge
	if s.surging {
		return
	}
	s.surging = true
	g.surging++
	s.episode = -1
	if len(g.episodes) < maxEpisodes {
		s.episode = len(g.episodes)
		g.episodes = append(g.episodes, Episode{Labels: in.Labels, From: from, Peak: peak})
	}
}

// EvaluateSurge steps the SLO's user-fault surge alert at time ts from
// the instances' latest judgements, and calls emit if it changed. It fires
// when at least min_instances and at least min_percent of the SLO's
// instances surge at once.
func (sp *Spec) EvaluateSurge(ts int64, emit func(Transition)) {
	g := sp.surge
	if g == nil {
		return
	}
	n := len(sp.instances)
	firing := g.surging >= g.cfg.MinInstances && float64(g.surging)*100 >= g.cfg.MinPercent*float64(n)
	if !g.alert.Step(ts, firing) {
		return
	}
	t := Transition{
		Time:     time.UnixMilli(ts).UTC(),
		Alert:    UserFaultSurgeAlert,
		SLO:      sp.SLO.Name,
		Labels:   labels.EmptyLabels(),
		Severity: g.cfg.Severity,
		State:    g.alert.State,
		Playbook: g.cfg.Playbook,
		ID:       ID(UserFaultSurgeAlert, sp.SLO.Name, labels.EmptyLabels(), g.cfg.Severity),
		Surging:  g.surging,
		Fleet:    n,
	}
	for _, in := range sp.instances {
		if in.surge.surging {
			t.Instances = append(t.Instances, in.Labels)
		}
	}
	// In label order, whatever order the instances were first seen in.
	slices.SortFunc(t.Instances, labels.Compare)
	t.Instances = t.Instances[:min(len(t.Instances), maxSurgeInstances)]
	emit(t)
}

// Surging reports whether the instance's user faults surge now.
func (in *Instance) Surging() bool { return in.surge != nil && in.surge.surging }

// Surging is how many of the SLO's instances surge now; 0 when the guard
// is off.
func (sp *Spec) Surging() int {
	if sp.surge == nil {
		return 0
	}
	return sp.surge.surging
}

// Episodes returns the SLO's instance surges so far, alerting or not.
func (sp *Spec) Episodes() []Episode {
	if sp.surge == nil {
		return nil
	}
	return sp.surge.episodes
}

// SurgeConfig returns the surge guard's settings.
func (sp *Spec) SurgeConfig() slo.Surge {
	if sp.surge == nil {
		return slo.Surge{Disabled: true}
	}
	return sp.surge.cfg
}

// SurgeAlert returns the state of the SLO's user-fault surge alert.
func (sp *Spec) SurgeAlert() Alert {
	if sp.surge == nil {
		return Alert{}
	}
	return sp.surge.alert
}

// SetSurgeAlert restores the state of the SLO's user-fault surge alert.
func (sp *Spec) SetSurgeAlert(a Alert) {
	if sp.surge != nil {
		sp.surge.alert = a
	}
}
