// Package readable writes numbers and text as people read them, for
// everything burnwatch prints for a human: pages, the console, reports and
// exports.
//
// Numbers carry no float noise and no exponent: a burn rate of 1000 is
// "1000×", not "1e+03×"; 20500.000000000004 events are "20500"; a third of
// an hour is "0.333". Text carries no control characters and no bidi
// overrides: a label value or error code that holds a line break, an ANSI
// escape or U+202E cannot forge a line or reorder what on-call reads; they
// are shown escaped, as Go quotes them, so that the oddity stays visible.
package readable

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// sigDigits is how many significant digits a fraction keeps: enough to
// tell 16.7× from 16.8×, few enough that float noise never shows. The
// integer part of a number is never rounded: 20500 stays 20500.
const sigDigits = 3

// Number formats v in plain decimal notation with at most sigDigits
// significant digits after its integer part, trailing zeros dropped:
//
//	1000 → "1000"   20500.000000000004 → "20500"   16.6667 → "16.7"
//	0.33333 → "0.333"   0.000123456 → "0.000123"   -0 → "0"
//
// NaN is "NaN", and the infinities are "∞" and "-∞".
func Number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "-∞"
	case v == 0:
		return "0"
	}
	// decimals = sigDigits − (digits before the point), at least 0: for
	// |v| = 16.67 that is 3 − 2 = 1; for 0.0123 it is 3 − (−1) = 4.
	decimals := max(0, sigDigits-1-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		return "0"
	}
	return s
}

// Rate formats a burn rate: Number followed by "×" ("1000×", "39.4×").
func Rate(v float64) string { return Number(v) + "×" }

// maxPercentDecimals bounds the decimals Percent adds to keep a value off
// 0% and 100%.
const maxPercentDecimals = 4

// Percent formats a fraction as a percentage with one decimal (0.405 →
// "40.5%", −0.123 → "-12.3%"), adding decimals, up to four, where one
// would round a value that is not 0 or 1 onto "0.0%" or "100.0%": a budget
// all but spent reads "0.04%", never "0.0%", and an SLI of 0.99996 reads
// "99.996%", never "100.0%". Closer still, a value near 0 gets its
// significant digits ("0.00001%") and one near 100% is cut, not rounded
// ("99.9999%"). NaN and the infinities are as in Number.
func Percent(fraction float64) string {
	if math.IsNaN(fraction) || math.IsInf(fraction, 0) {
		return Number(fraction)
	}
	p := fraction * 100
	if p == 0 {
		return "0.0%"
	}
	for d := 1; d <= maxPercentDecimals; d++ {
		s := strconv.FormatFloat(p, 'f', d, 64)
		r, _ := strconv.ParseFloat(s, 64)
		if r != 0 && (math.Abs(r) != 100 || math.Abs(p) == 100) {
			return s + "%"
		}
	}
	if math.Abs(p) < 1 {
		return Number(p) + "%"
	}
	scale := math.Pow10(maxPercentDecimals)
	return strconv.FormatFloat(math.Trunc(p*scale)/scale, 'f', maxPercentDecimals, 64) + "%"
}

// Text returns s with every character that could change how the text
// around it reads written as Go escapes it: control characters (a line
// break becomes \n, ESC \x1b), line and paragraph separators, bidi
// controls (U+202E becomes \u202e) and bytes that are not UTF-8 (\xff).
// Everything else, including any printable letter or symbol, is kept.
func Text(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unsafe(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case unsafe(r):
			q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafe reports whether r is a control character, a line or paragraph
// separator, or a bidi control (Unicode's Bidi_Control property: ALM, LRM,
// RLM, the embeddings and overrides, the isolates).
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}
