package playbooks

import "fmt"

// closest returns the option nearest to s, if one is near enough to be a
// slip of the keyboard: a quarter of s's length in edits, at least one and
// at most three.
func closest(s string, options []string) string {
	best, bestD := "", min(3, max(1, len(s)/4))+1
	for _, o := range options {
		if d := distance(s, o); d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// didYouMean is closest as a suffix for a message: " (did you mean X?)".
func didYouMean(s string, options []string) string {
	if c := closest(s, options); c != "" && c != s {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in bytes: the ids
// and names it compares are ASCII.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
