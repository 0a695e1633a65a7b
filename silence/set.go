package silence

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// ExpiredRetention is how long List keeps showing a silence after it ends,
// so that on-call can see what was silenced overnight and re-create it.
// Expire removes silences older than that.
const ExpiredRetention = 24 * time.Hour

// Set holds the silences and maintenance windows in force and decides
// whether a notification is held. It is safe for concurrent use: the
// pipeline calls Decide while the API adds and deletes.
type Set struct {
	mu       sync.RWMutex
	silences map[string]*entry
	windows  []*window
}

// entry is a held silence with its matchers compiled.
type entry struct {
	sil Silence
	ms  []matcher // nil when a restored silence no longer compiles: matches nothing
}

func (e *entry) matches(lset map[string]string) bool {
	return len(e.ms) > 0 && matchAll(e.ms, lset)
}

// NewSet returns a Set with the maintenance windows of the config and no
// silences. Its error, a FieldErrors, names every problem with fields such
// as maintenance[2].schedule.
func NewSet(windows []Window) (*Set, error) {
	s := &Set{silences: map[string]*entry{}}
	if err := s.SetWindows(windows); err != nil {
		return nil, err
	}
	return s, nil
}

// SetWindows replaces the maintenance windows, as on a config reload, and
// keeps the silences. With a problem in any window it changes nothing and
// returns every problem, as NewSet does.
func (s *Set) SetWindows(windows []Window) error {
	var errs []FieldError
	compiled := make([]*window, 0, len(windows))
	seen := map[string]int{}
	for i, w := range windows {
		prefix := fmt.Sprintf("maintenance[%d].", i)
		c, es := w.compile()
		errs = append(errs, prefixed(prefix, es)...)
		if j, dup := seen[w.Name]; dup && w.Name != "" {
			errs = append(errs, FieldError{prefix + "name", fmt.Sprintf("%q is also the name of maintenance[%d]: names must be unique", w.Name, j)})
		} else {
			seen[w.Name] = i
		}
		if c != nil {
			c.SLOs = slices.Clone(c.SLOs)
			compiled = append(compiled, c)
		}
	}
	if len(errs) > 0 {
		return FieldErrors(errs)
	}
	s.mu.Lock()
	s.windows = compiled
	s.mu.Unlock()
	return nil
}

// Add validates sil and holds it, returning it as held. An empty Start
// means now; an empty ID gets a random one. A silence with the ID of one
// already held replaces it (an edit through the API, or a config silence
// on reload). A silence that has already ended is refused. The error is a
// FieldErrors.
func (s *Set) Add(sil Silence, now time.Time) (Silence, error) {
	sil = sil.clone()
	if sil.Start.IsZero() {
		sil.Start = now.Round(0)
	}
	ms, errs := sil.compile()
	if !sil.End.IsZero() && !sil.End.After(now) {
		errs = append(errs, FieldError{"end", fmt.Sprintf("%s has already passed", sil.End.Format(time.RFC3339))})
	}
	if len(errs) > 0 {
		return Silence{}, FieldErrors(errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sil.ID == "" {
		sil.ID = s.newID()
	}
	s.silences[sil.ID] = &entry{sil: sil, ms: ms}
	return sil.clone(), nil
}

// newID returns an unused random ID: 26 characters of base32 (128 bits),
// lower-cased, safe in a URL. The caller holds the lock.
func (s *Set) newID() string {
	for {
		id := strings.ToLower(rand.Text())
		if _, taken := s.silences[id]; !taken {
			return id
		}
	}
}

// Delete removes the silence with id and reports whether there was one.
// The alerts it held are paged again from their next transition.
func (s *Set) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.silences[id]
	delete(s.silences, id)
	return ok
}

// Get returns the silence with id.
func (s *Set) Get(id string) (Silence, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.silences[id]
	if !ok {
		return Silence{}, false
	}
	return e.sil.clone(), true
}

// List returns the silences that have not ended, and those that ended
// within ExpiredRetention of now, by start (then ID): pending, active and
// recently expired together, each with its Status(now) for the caller.
func (s *Set) List(now time.Time) []Silence {
	cutoff := now.Add(-ExpiredRetention)
	s.mu.RLock()
	out := make([]Silence, 0, len(s.silences))
	for _, e := range s.silences {
		if e.sil.End.After(cutoff) {
			out = append(out, e.sil.clone())
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Silence) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Expire removes the silences that ended ExpiredRetention or more before
// now and returns their IDs, sorted, for the store to delete too.
func (s *Set) Expire(now time.Time) []string {
	cutoff := now.Add(-ExpiredRetention)
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, e := range s.silences {
		if !e.sil.End.After(cutoff) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		delete(s.silences, id)
	}
	slices.Sort(ids)
	return ids
}

// Restore puts back silences read from the store after a restart,
// replacing held ones with the same ID. They were validated when added and
// are not refused now, ended or not; one without an ID gets one, and one
// whose matchers no longer compile is kept (List shows it) but matches
// nothing.
func (s *Set) Restore(sils []Silence) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sil := range sils {
		sil = sil.clone()
		ms, errs := compileMatchers(sil.Matchers)
		if len(errs) > 0 {
			ms = nil
		}
		if sil.ID == "" {
			sil.ID = s.newID()
		}
		s.silences[sil.ID] = &entry{sil: sil, ms: ms}
	}
}

// Decide tells whether a notification for the alert with labels lset (its
// instance's labels plus slo, alert and severity) must not be sent at now,
// and why: Silenced with the silence's ID, InMaintenance with the window's
// name, or Send with "". A silence wins over a window, since it is the
// more specific and deliberate act; among several silences, the one that
// started first (then the lowest ID) is named, among windows the first in
// the config.
func (s *Set) Decide(now time.Time, lset map[string]string) (Decision, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *Silence
	for _, e := range s.silences {
		if !e.sil.Active(now) || !e.matches(lset) {
			continue
		}
		if best == nil || e.sil.Start.Before(best.Start) || e.sil.Start.Equal(best.Start) && e.sil.ID < best.ID {
			best = &e.sil
		}
	}
	if best != nil {
		return Silenced, best.ID
	}
	slo := lset[LabelSLO]
	for _, w := range s.windows {
		if w.applies(slo, lset) && w.activeAt(now) {
			return InMaintenance, w.Name
		}
	}
	return Send, ""
}

// Excluded returns the time in [from, to) that maintenance windows with
// ExcludeFromBudget remove from the budget of the SLO instance of slo with
// instance labels lset, as spans merged and in order, in UTC.
//
// Each occurrence is widened to whole minutes (its start rounded down, its
// end up: a minute the window touches is out) and then clipped to
// [from, to), so with from and to on whole minutes every span is whole
// minutes. In the burnrate store, where minute bucket k holds the samples
// with time in (k−1, k] minutes, a span [S, E) is the buckets
// S/1m < k ≤ E/1m: its bad events are cum(E) − cum(S).
func (s *Set) Excluded(slo string, lset map[string]string, from, to time.Time) []Span {
	labels := maps.Clone(lset)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelSLO] = slo
	s.mu.RLock()
	windows := s.windows
	s.mu.RUnlock()
	var spans []Span
	for _, w := range windows {
		if !w.ExcludeFromBudget || !w.applies(slo, labels) {
			continue
		}
		for _, sp := range w.occurrences(from, to) {
			sp = Span{floorMinute(sp.Start), ceilMinute(sp.End)}
			if sp.Start.Before(from) {
				sp.Start = from.UTC()
			}
			if sp.End.After(to) {
				sp.End = to.UTC()
			}
			if sp.Start.Before(sp.End) {
				spans = append(spans, sp)
			}
		}
	}
	return merge(spans)
}

func floorMinute(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

func ceilMinute(t time.Time) time.Time {
	f := floorMinute(t)
	if f.Before(t) {
		return f.Add(time.Minute)
	}
	return f
}

// merge sorts spans and joins those that overlap or touch.
func merge(spans []Span) []Span {
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	out := spans[:1]
	for _, sp := range spans[1:] {
		last := &out[len(out)-1]
		if sp.Start.After(last.End) {
			out = append(out, sp)
		} else if sp.End.After(last.End) {
			last.End = sp.End
		}
	}
	return out
}
