package playbooks

import (
	"slices"
	"strings"
)

// Match returns the most specific playbook that applies to an alert, or nil
// when none does. codes are the alert's error codes, the most frequent first.
//
// A playbook applies when its alerts list the alert's kind and each of its
// other lists is empty or holds the alert's value: its SLO, its severity, or
// (for codes) a pattern that matches one of the alert's codes. A playbook
// with codes never applies to an alert without any.
//
// Of those that apply, the most specific is the one that
//  1. constrains more of SLO, severity and codes;
//  2. then, names codes (what failed says more than where it failed);
//  3. then, matches an earlier code of the alert, its dominant failure;
//  4. then, matches that code exactly rather than by prefix, or by a
//     longer prefix;
//  5. then, lists fewer values in its constraints (narrower);
//  6. then, has the id that sorts first, so that the choice is stable.
func (s *Set) Match(alert, slo, severity string, codes []string) *Playbook {
	var best *Playbook
	var bestRank rank
	for _, p := range s.all() {
		r, ok := p.AppliesTo.rank(alert, slo, severity, codes)
		if !ok {
			continue
		}
		if best == nil || r.beats(bestRank) {
			best, bestRank = p, r
		}
	}
	return best
}

// rank is how specifically an applicable playbook fits an alert.
type rank struct {
	constraints int  // how many of slos, severities and codes are not empty
	codes       bool // codes is not empty
	codeIndex   int  // the index in the alert's codes of the first one matched
	exact       bool // that code is matched exactly
	prefix      int  // otherwise, the length of the longest prefix matching it
	values      int  // values listed in the non-empty constraints
}

func (r rank) beats(o rank) bool {
	switch {
	case r.constraints != o.constraints:
		return r.constraints > o.constraints
	case r.codes != o.codes:
		return r.codes
	case r.codes && r.codeIndex != o.codeIndex:
		return r.codeIndex < o.codeIndex
	case r.codes && r.exact != o.exact:
		return r.exact
	case r.codes && r.prefix != o.prefix:
		return r.prefix > o.prefix
	}
	return r.values < o.values
}

// rank says whether a applies to the alert, and how specifically.
func (a AppliesTo) rank(alert, slo, severity string, codes []string) (rank, bool) {
	var r rank
	if !slices.Contains(a.Alerts, alert) {
		return r, false
	}
	for _, c := range [][]string{a.SLOs, a.Severities} {
		if len(c) > 0 {
			r.constraints++
			r.values += len(c)
		}
	}
	if len(a.SLOs) > 0 && !slices.Contains(a.SLOs, slo) {
		return r, false
	}
	if len(a.Severities) > 0 && !slices.Contains(a.Severities, severity) {
		return r, false
	}
	if len(a.Codes) == 0 {
		return r, true
	}
	r.constraints++
	r.values += len(a.Codes)
	r.codes = true
	for i, code := range codes {
		matched := false
		for _, pat := range a.Codes {
			exact, prefix, ok := matchCode(pat, code)
			if ok {
				matched = true
				r.exact = r.exact || exact
				r.prefix = max(r.prefix, prefix)
			}
		}
		if matched {
			r.codeIndex = i
			return r, true
		}
	}
	return r, false
}

// matchCode matches a code against a pattern: exactly, or, when the pattern
// ends in *, by the prefix before it (of length prefix).
func matchCode(pattern, code string) (exact bool, prefix int, ok bool) {
	if p, isPrefix := strings.CutSuffix(pattern, "*"); isPrefix {
		return false, len(p), strings.HasPrefix(code, p)
	}
	return pattern == code, 0, pattern == code
}
