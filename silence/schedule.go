package silence

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// starBit is robfig/cron's mark on a day-of-month or day-of-week field given
// as * (spec.go): with it, a day must match both fields; without, either.
const starBit = 1 << 63

// maxDSTShift bounds how far back a DST change can repeat local time. Every
// change in the tz database is at most 2h (Antarctica/Troll); most are 1h.
const maxDSTShift = 3 * time.Hour

// schedule is a recurring window's cron expression read as local wall-clock
// times in its time zone.
//
// robfig/cron parses the expression, but its Next is not used: it steps
// through the hours in absolute time, so on a night when clocks fall back it
// fires twice ("0 2 * * *" at 02:00 summer time and again at 02:00 winter
// time) and on a night when they spring forward it skips the day. A window
// must run once a night, so schedule walks local calendar days instead and
// asks instant for the moment each matching wall-clock time happens.
type schedule struct {
	spec *cron.SpecSchedule
	loc  *time.Location
}

// parseSchedule reads a standard five-field cron expression (or a
// descriptor such as @daily) in the time zone tz (IANA; UTC when empty).
// Its errors name the fields schedule and time_zone.
func parseSchedule(expr, tz string) (*schedule, []FieldError) {
	var errs []FieldError
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			errs = append(errs, FieldError{"time_zone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Berlin or UTC: %v", tz, err)})
		} else {
			loc = l
		}
	}
	var spec *cron.SpecSchedule
	switch {
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		errs = append(errs, FieldError{"schedule", "give the time zone in time_zone, not in the expression"})
	case strings.HasPrefix(expr, "@every"):
		errs = append(errs, FieldError{"schedule", "@every has no fixed start times; use a cron expression such as \"0 2 * * SUN\""})
	default:
		sched, err := cron.ParseStandard(expr)
		if err != nil {
			errs = append(errs, FieldError{"schedule", fmt.Sprintf("%q is not a cron expression (minute hour day-of-month month day-of-week, such as \"0 2 * * SUN\"): %v", expr, err)})
			break
		}
		s, ok := sched.(*cron.SpecSchedule)
		if !ok {
			errs = append(errs, FieldError{"schedule", fmt.Sprintf("%q has no fixed start times", expr)})
			break
		}
		spec = s
		if !(&schedule{spec: spec, loc: loc}).firesEver() {
			errs = append(errs, FieldError{"schedule", fmt.Sprintf("%q names no day that exists (such as 30 February)", expr)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &schedule{spec: spec, loc: loc}, nil
}

// firesEver reports whether some day matches: eight years hold every
// combination of month, day and weekday, 29 February included.
func (s *schedule) firesEver() bool {
	d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for end := d.AddDate(8, 0, 0); d.Before(end); d = d.AddDate(0, 0, 1) {
		if s.dayMatches(d) {
			return true
		}
	}
	return false
}

// dayMatches reports whether the calendar day d (its date, read in UTC)
// matches the month, day-of-month and day-of-week fields, with cron's rule
// for the two day fields.
func (s *schedule) dayMatches(d time.Time) bool {
	if s.spec.Month&(1<<uint(d.Month())) == 0 {
		return false
	}
	dom := s.spec.Dom&(1<<uint(d.Day())) != 0
	dow := s.spec.Dow&(1<<uint(d.Weekday())) != 0
	if s.spec.Dom&starBit != 0 || s.spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// startsOn appends to out the instants of the starts scheduled on the
// local calendar day d (its date, read in UTC), in no particular order.
func (s *schedule) startsOn(out []time.Time, d time.Time) []time.Time {
	if !s.dayMatches(d) {
		return out
	}
	for h := 0; h < 24; h++ {
		if s.spec.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if s.spec.Minute&(1<<uint(m)) != 0 {
				out = append(out, s.instant(d.Year(), d.Month(), d.Day(), h, m))
			}
		}
	}
	return out
}

// instant returns the moment the local clock reads y-mo-d h:mi.
//
//   - A time that a DST change skips (02:30 when clocks jump from 02:00 to
//     03:00) happens as late as the gap is long (03:30): time.Date's rule.
//   - A time that a DST change repeats (02:30 when clocks fall back from
//     03:00 to 02:00) happens at its first occurrence, in summer time, as
//     cron runs such jobs once. time.Date leaves the choice unspecified (it
//     picks the second east of Greenwich), so instant looks maxDSTShift
//     back: if the offset was larger then, by Δ, and t−Δ reads the same on
//     the clock, t−Δ is the first occurrence.
func (s *schedule) instant(y int, mo time.Month, d, h, mi int) time.Time {
	t := time.Date(y, mo, d, h, mi, 0, 0, s.loc)
	_, off := t.Zone()
	_, before := t.Add(-maxDSTShift).Zone()
	if before > off {
		first := t.Add(-time.Duration(before-off) * time.Second)
		if sameClock(first, t) {
			return first
		}
	}
	return t
}

// sameClock reports whether a and b read the same on a clock of their zone.
func sameClock(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute()
}

// localDay returns t's calendar day in the schedule's zone, as midnight UTC.
func (s *schedule) localDay(t time.Time) time.Time {
	y, m, d := t.In(s.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// starts returns the scheduled starts in (lo, hi), in order, each once.
// It walks the local days from lo's to hi's, with one more on each side: a
// start's instant can fall on the day after its wall-clock date when a DST
// gap straddles midnight.
func (s *schedule) starts(lo, hi time.Time) []time.Time {
	if !lo.Before(hi) {
		return nil
	}
	var out []time.Time
	end := s.localDay(hi).AddDate(0, 0, 1)
	for d := s.localDay(lo).AddDate(0, 0, -1); !d.After(end); d = d.AddDate(0, 0, 1) {
		out = s.startsOn(out, d)
	}
	out = slices.DeleteFunc(out, func(t time.Time) bool { return !t.After(lo) || !t.Before(hi) })
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	// Two wall-clock times can meet in one instant (02:00 in a DST gap and
	// 03:00 both happen at 03:00).
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// anyIn reports whether a start falls in (lo, hi], walking the local days
// back from hi's so that a frequent schedule answers on the first.
func (s *schedule) anyIn(lo, hi time.Time) bool {
	var buf []time.Time
	first := s.localDay(lo).AddDate(0, 0, -1)
	for d := s.localDay(hi).AddDate(0, 0, 1); !d.Before(first); d = d.AddDate(0, 0, -1) {
		buf = s.startsOn(buf[:0], d)
		for _, t := range buf {
			if t.After(lo) && !t.After(hi) {
				return true
			}
		}
	}
	return false
}
