package ingest

import (
	"cmp"
	"slices"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
)

// recentStep and recentBuckets: a series' recent increases are kept in
// five-minute buckets over the last hour, enough to name the codes behind
// a page without keeping history per code.
const (
	recentStep    = int64(5 * 60 * 1000)
	recentBuckets = 12
)

// dayMS and dailyDays: an error series also keeps its increases per UTC
// day for the last two weeks and a day, for the weekly report's codes.
const (
	dayMS     = int64(24 * 3600 * 1000)
	dailyDays = 15
)

// daily is a ring of an error series' increases per UTC day.
type daily struct {
	days [dailyDays]float64
	head int64 // the newest day, ts / dayMS
}

func (r *daily) add(ts int64, d float64) {
	k := (ts - 1) / dayMS // a sample at midnight closes the day before
	if k > r.head {
		for i := r.head + 1; i <= k && i <= r.head+dailyDays; i++ {
			r.days[i%dailyDays] = 0
		}
		r.head = k
	}
	if k > r.head-dailyDays {
		r.days[k%dailyDays] += d
	}
}

// between returns the increases of the whole UTC days in [from, to).
func (r *daily) between(from, to int64) float64 {
	var t float64
	for k := max(from/dayMS, r.head-dailyDays+1); k < to/dayMS && k <= r.head; k++ {
		t += r.days[k%dailyDays]
	}
	return t
}

// CodesBetween returns the codes of class that occurred most in the whole
// UTC days of [from, to) across the instances' error series, as kept since
// the service started (at most the last two weeks).
func (r *Router) CodesBetween(from, to int64, class classify.Class, insts ...*burnrate.Instance) []burnrate.CodeCount {
	return r.codes(class, func(s *Series) float64 { return s.daily.between(from, to) }, insts...)
}

// maxCodes is how many codes a transition lists.
const maxCodes = 5

// recent is a ring of the last hour's increases of one series.
type recent struct {
	buckets [recentBuckets]float64
	head    int64 // the newest bucket's index, ts / recentStep
}

func (r *recent) add(ts int64, d float64) {
	k := ts / recentStep
	if k > r.head {
		for i := r.head + 1; i <= k && i <= r.head+recentBuckets; i++ {
			r.buckets[i%recentBuckets] = 0
		}
		r.head = k
	}
	if k > r.head-recentBuckets {
		r.buckets[k%recentBuckets] += d
	}
}

// sum returns the increases of the hour up to ts.
func (r *recent) sum(ts int64) float64 {
	k := ts / recentStep
	var t float64
	for i := max(k-recentBuckets+1, r.head-recentBuckets+1); i <= min(k, r.head); i++ {
		t += r.buckets[i%recentBuckets]
	}
	return t
}

// TopCodes returns the codes of class that occurred most in the last hour
// up to ts across the instances' error series.
func (r *Router) TopCodes(ts int64, class classify.Class, insts ...*burnrate.Instance) []burnrate.CodeCount {
	return r.codes(class, func(s *Series) float64 { return s.recent.sum(ts) }, insts...)
}

// codes sums count over the instances' error series of class, by code,
// most first.
func (r *Router) codes(class classify.Class, count func(*Series) float64, insts ...*burnrate.Instance) []burnrate.CodeCount {
	var codes []burnrate.CodeCount
	for _, in := range insts {
		for _, s := range r.errors[in] {
			if s.Decision.Class != class {
				continue
			}
			n := count(s)
			if n <= 0 {
				continue
			}
			i := slices.IndexFunc(codes, func(c burnrate.CodeCount) bool { return c.Code == s.Code })
			if i < 0 {
				codes = append(codes, burnrate.CodeCount{Code: s.Code, Class: class.String(), Rule: s.Decision.Rule})
				i = len(codes) - 1
			}
			codes[i].Count += n
		}
	}
	slices.SortStableFunc(codes, func(a, b burnrate.CodeCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return codes[:min(len(codes), maxCodes)]
}

// Unclassified is an error code that no rule matched: counted as a
// platform failure until someone writes a rule for it.
type Unclassified struct {
	Code   string
	Count  float64 // increases seen
	Series int
}

// Unclassified returns the codes that fell through to the default, most
// frequent first.
func (r *Router) Unclassified() []Unclassified {
	var out []Unclassified
	index := map[string]int{}
	for _, s := range r.series {
		if !s.errors || s.Decision.Rule != classify.DefaultRule {
			continue
		}
		i, ok := index[s.Code]
		if !ok {
			i = len(out)
			index[s.Code] = i
			out = append(out, Unclassified{Code: s.Code})
		}
		out[i].Count += s.Increase
		out[i].Series++
	}
	slices.SortFunc(out, func(a, b Unclassified) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}

// ClassBetween sums an instance's errors of class in the whole UTC days of
// [from, to), as kept since the service started.
func (r *Router) ClassBetween(in *burnrate.Instance, class classify.Class, from, to int64) float64 {
	var t float64
	for _, s := range r.errors[in] {
		if s.Decision.Class == class {
			t += s.daily.between(from, to)
		}
	}
	return t
}

// UnclassifiedBetween returns the codes no rule knew, with their errors in
// the whole UTC days of [from, to) across the instances, most first.
func (r *Router) UnclassifiedBetween(from, to int64, insts ...*burnrate.Instance) []Unclassified {
	var out []Unclassified
	index := map[string]int{}
	for _, in := range insts {
		for _, s := range r.errors[in] {
			if s.Decision.Rule != classify.DefaultRule {
				continue
			}
			n := s.daily.between(from, to)
			if n <= 0 {
				continue
			}
			i, ok := index[s.Code]
			if !ok {
				i = len(out)
				index[s.Code] = i
				out = append(out, Unclassified{Code: s.Code})
			}
			out[i].Count += n
			out[i].Series++
		}
	}
	slices.SortFunc(out, func(a, b Unclassified) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}
