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
	var codes []burnrate.CodeCount
	for _, in := range insts {
		for _, s := range r.errors[in] {
			if s.Decision.Class != class {
				continue
			}
			n := s.recent.sum(ts)
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
