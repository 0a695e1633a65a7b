package readable_test

import (
	"math"
	"testing"

	"github.com/burnwatch/burnwatch/readable"
)

func TestNumberIsWrittenAsPeopleWriteIt(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    float64
		want string
	}{
		{"a round thousand has no exponent", 1000, "1000"},
		{"float noise on a count is dropped", 20500.000000000004, "20500"},
		{"a burn rate keeps three significant digits", 16.666666666666668, "16.7"},
		{"a third keeps three significant digits", 1.0 / 3, "0.333"},
		{"a small fraction keeps its significant digits", 0.000123456, "0.000123"},
		{"trailing zeros are dropped", 200.0, "200"},
		{"a large number keeps every digit of its integer part", 123456789, "123456789"},
		{"the integer part is rounded, not truncated", 117.6, "118"},
		{"a value rounding up to the next power of ten reads as it", 99.96, "100"},
		{"negative values keep their sign", -12.345, "-12.3"},
		{"negative zero is zero", math.Copysign(0, -1), "0"},
		{"zero is zero", 0, "0"},
		{"a huge value has no exponent", 1e21, "1000000000000000000000"},
		{"infinity is a symbol", math.Inf(1), "∞"},
		{"NaN says so", math.NaN(), "NaN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readable.Number(tt.v); got != tt.want {
				t.Errorf("Number(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestRateCarriesTheTimesSign(t *testing.T) {
	if got := readable.Rate(1000); got != "1000×" {
		t.Errorf("Rate(1000) = %q, want 1000×", got)
	}
	if got := readable.Rate(39.4123); got != "39.4×" {
		t.Errorf("Rate(39.4123) = %q, want 39.4×", got)
	}
}

func TestPercentNeverRoundsOntoZeroOrAHundred(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    float64
		want string
	}{
		{"one decimal is the rule", 0.405, "40.5%"},
		{"a whole budget is 100.0%", 1, "100.0%"},
		{"nothing is 0.0%", 0, "0.0%"},
		{"a budget all but spent is not 0.0%", 0.0004, "0.04%"},
		{"an SLI just under a hundred is not 100.0%", 0.99996, "99.996%"},
		{"an overspent budget is negative", -0.123, "-12.3%"},
		{"a tiny negative value keeps its significant digits", -0.0000001, "-0.00001%"},
		{"a value a hair under a hundred is cut, not rounded up", 0.99999999, "99.9999%"},
		{"float noise is gone", 0.30000000000000004, "30.0%"},
		{"NaN says so", math.NaN(), "NaN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readable.Percent(tt.v); got != tt.want {
				t.Errorf("Percent(%v) = %q, want %q", tt.v, got, tt.want)
			}
		})
	}
}

func TestTextCannotForgeLinesOrReorderWhatIsRead(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{"plain text is kept", "Neo.ClientError.Statement.SyntaxError", "Neo.ClientError.Statement.SyntaxError"},
		{"letters of any script are kept", "数据库-é", "数据库-é"},
		{"a line break cannot start a forged line", "db-1\n20:36:00  PAGE RESOLVED", `db-1\n20:36:00  PAGE RESOLVED`},
		{"a carriage return cannot overwrite the line", "db-1\rRESOLVED", `db-1\rRESOLVED`},
		{"an ANSI escape does not reach the terminal", "\x1b[2J\x1b[31mdb\x1b[0m", `\x1b[2J\x1b[31mdb\x1b[0m`},
		{"a bidi override is shown, not obeyed", "db-\u202e1-gnp.exe", `db-\u202e1-gnp.exe`},
		{"an isolate is shown", "a\u2066b\u2069", `a\u2066b\u2069`},
		{"a line separator is shown", "a\u2028b", `a\u2028b`},
		{"a C1 control is shown", "a\u0085b", `a\u0085b`},
		{"bytes that are not UTF-8 are shown", "a\xffb", `a\xffb`},
		{"a tab is shown", "a\tb", `a\tb`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := readable.Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
