package silence

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is a maintenance window: while it runs, the alerts it applies to
// are not paged, and with ExcludeFromBudget its minutes leave the error
// budget of the SLO instances it applies to. It is one-off (Start and End)
// or recurring (Schedule, in TimeZone, for Duration from each start).
type Window struct {
	// Name identifies the window in decisions and logs; unique in a Set.
	Name string `yaml:"name"`
	// SLOs limits the window to these SLOs; empty, it applies to every SLO.
	SLOs []string `yaml:"slos,omitempty"`
	// Matchers limit it to the alerts (and, for the budget, the SLO
	// instances) whose labels they all match; empty, to all.
	Matchers []Matcher `yaml:"matchers,omitempty"`
	// Start and End bound a one-off window: Start ≤ t < End.
	Start time.Time `yaml:"start,omitempty"`
	End   time.Time `yaml:"end,omitempty"`
	// Schedule is a recurring window's start times, a standard five-field
	// cron expression ("0 2 * * SUN") or a descriptor (@daily) read on the
	// wall clock of TimeZone (IANA; UTC when empty). A start that a DST
	// change skips happens as late as the gap is long (02:30 → 03:30); one
	// that it repeats happens once, at its first occurrence.
	Schedule string `yaml:"schedule,omitempty"`
	TimeZone string `yaml:"time_zone,omitempty"`
	// Duration is how long each occurrence lasts, in elapsed time (a 4h
	// window from 02:00 on the night clocks fall back ends at 05:00).
	Duration time.Duration `yaml:"duration,omitempty"`
	// ExcludeFromBudget removes the window's minutes from the error budget
	// of the SLO instances it applies to (Set.Excluded).
	ExcludeFromBudget bool `yaml:"exclude_from_budget,omitempty"`
}

// Span is a stretch of time, Start ≤ t < End.
type Span struct{ Start, End time.Time }

// Contains reports whether t lies in sp.
func (sp Span) Contains(t time.Time) bool { return !t.Before(sp.Start) && t.Before(sp.End) }

// window is a Window ready to use: matchers compiled, schedule parsed.
type window struct {
	Window
	ms    []matcher
	sched *schedule // nil for a one-off window
}

// Validate returns every problem of w, each naming its field; nil when
// there is none. Whether the SLOs it names exist is for the config loader.
func (w Window) Validate() []FieldError {
	_, errs := w.compile()
	return errs
}

func (w Window) compile() (*window, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(w.Name) == "" {
		bad("name", "is required: it names the window in logs and in why a page was held")
	}
	for i, slo := range w.SLOs {
		if slo == "" {
			bad(fmt.Sprintf("slos[%d]", i), "is empty: name an SLO, or leave slos out to cover every SLO")
		}
	}
	ms, merrs := compileMatchers(w.Matchers)
	errs = append(errs, merrs...)
	if w.ExcludeFromBudget {
		for i, m := range w.Matchers {
			if m.Name == LabelAlert || m.Name == LabelSeverity {
				bad(fmt.Sprintf("matchers[%d].name", i), "%s is a label of alerts, not of SLO instances: a window that excludes minutes from the budget selects instances (by slos and instance labels)", m.Name)
			}
		}
	}
	c := &window{Window: w, ms: ms}
	if w.Schedule == "" {
		if w.Start.IsZero() {
			bad("start", "is required for a one-off window (or give schedule and duration for a recurring one)")
		}
		if w.End.IsZero() {
			bad("end", "is required for a one-off window (or give schedule and duration for a recurring one)")
		} else if !w.Start.IsZero() && !w.End.After(w.Start) {
			bad("end", "%s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
		if w.TimeZone != "" {
			bad("time_zone", "applies to a schedule only: a one-off window's start and end carry their own offsets")
		}
		if w.Duration != 0 {
			bad("duration", "applies to a schedule only: a one-off window lasts from start to end")
		}
	} else {
		if !w.Start.IsZero() || !w.End.IsZero() {
			bad("start", "a recurring window (schedule) takes no start or end: give either start and end, or schedule and duration")
		}
		if w.Duration <= 0 {
			bad("duration", "is required for a recurring window and must be positive, such as 2h")
		}
		sched, serrs := parseSchedule(w.Schedule, w.TimeZone)
		errs = append(errs, serrs...)
		c.sched = sched
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// Occurrences returns w's spans that overlap [from, to), in order and
// whole (not clipped): for a recurring window, each scheduled start with
// its duration, in the window's time zone. An invalid window has none.
// (A Set compiles its windows once; this compiles w on each call.)
func (w Window) Occurrences(from, to time.Time) []Span {
	c, errs := w.compile()
	if len(errs) > 0 {
		return nil
	}
	return c.occurrences(from, to)
}

// ActiveAt reports whether an occurrence of w contains t. An invalid window
// is never active.
func (w Window) ActiveAt(t time.Time) bool {
	c, errs := w.compile()
	return len(errs) == 0 && c.activeAt(t)
}

// Applies reports whether w covers the alert or SLO instance of slo with
// labels lset: slo is one of SLOs (or SLOs is empty) and every matcher
// matches. An invalid window applies to nothing.
func (w Window) Applies(slo string, lset map[string]string) bool {
	c, errs := w.compile()
	return len(errs) == 0 && c.applies(slo, lset)
}

func (w *window) applies(slo string, lset map[string]string) bool {
	if len(w.SLOs) > 0 && !slices.Contains(w.SLOs, slo) {
		return false
	}
	return matchAll(w.ms, lset)
}

// occurrences: a span [s, s+d) overlaps [from, to) when s < to and
// s + d > from, so the starts wanted are those in (from − d, to).
func (w *window) occurrences(from, to time.Time) []Span {
	if !from.Before(to) {
		return nil
	}
	if w.sched == nil {
		if w.Start.Before(to) && w.End.After(from) {
			return []Span{{w.Start, w.End}}
		}
		return nil
	}
	starts := w.sched.starts(from.Add(-w.Duration), to)
	out := make([]Span, len(starts))
	for i, s := range starts {
		out[i] = Span{s, s.Add(w.Duration)}
	}
	return out
}

// activeAt: an occurrence from s contains t when s ≤ t < s + d, that is
// when a start lies in (t − d, t].
func (w *window) activeAt(t time.Time) bool {
	if w.sched == nil {
		return Span{w.Start, w.End}.Contains(t)
	}
	return w.sched.anyIn(t.Add(-w.Duration), t)
}
