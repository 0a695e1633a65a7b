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

// hoursKept is how many hours an error series keeps its increases for, hour
// by hour: the history takes each hour from here once it is complete, and
// late samples (a backfill) reach back no further than the engine's exact
// six hours.
const hoursKept = 8

// hourly is a ring of an error series' increases per hour, in the hours of
// burnrate.HourOf.
type hourly struct {
	counts [hoursKept]float64
	head   int64 // the newest hour
}

func (r *hourly) add(ts int64, d float64) {
	k := burnrate.HourOf(burnrate.MinuteOf(ts))
	if k > r.head {
		for i := r.head + 1; i <= k && i <= r.head+hoursKept; i++ {
			r.counts[i%hoursKept] = 0
		}
		r.head = k
	}
	if k > r.head-hoursKept {
		r.counts[k%hoursKept] += d
	}
}

// at returns the increases of hour h, 0 if it is no longer kept.
func (r *hourly) at(h int64) float64 {
	if h > r.head || h <= r.head-hoursKept {
		return 0
	}
	return r.counts[h%hoursKept]
}

// HourCodes returns the instance's errors in hour h by code, every class,
// in code order; an hour more than a few hours old is no longer kept and
// gives nothing.
func (r *Router) HourCodes(in *burnrate.Instance, h int64) []burnrate.CodeCount {
	var codes []burnrate.CodeCount
	for _, s := range r.errors[in] {
		n := s.hourly.at(h)
		if n == 0 {
			continue
		}
		i := slices.IndexFunc(codes, func(c burnrate.CodeCount) bool { return c.Code == s.Code })
		if i < 0 {
			codes = append(codes, burnrate.CodeCount{Code: s.Code, Class: s.Decision.Class.String(), Rule: s.Decision.Rule})
			i = len(codes) - 1
		}
		codes[i].Count += n
	}
	slices.SortFunc(codes, func(a, b burnrate.CodeCount) int { return cmp.Compare(a.Code, b.Code) })
	return codes
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
	r.EachSeries(func(s *Series) {
		if !s.errors || s.Decision.Rule != classify.DefaultRule {
			return
		}
		i, ok := index[s.Code]
		if !ok {
			i = len(out)
			index[s.Code] = i
			out = append(out, Unclassified{Code: s.Code})
		}
		out[i].Count += s.Increase
		out[i].Series++
	})
	slices.SortFunc(out, func(a, b Unclassified) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out
}
