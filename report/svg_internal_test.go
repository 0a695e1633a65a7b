package report

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// period returns a point every 2 hours from the start of a 30-day period to
// its end, the budget falling from 1 to end.
func period(start time.Time, end float64) []Point {
	var ps []Point
	n := 30 * 12
	for i := 0; i <= n; i++ {
		ps = append(ps, Point{T: start.Add(time.Duration(i) * 2 * time.Hour), V: 1 + (end-1)*float64(i)/float64(n)})
	}
	return ps
}

// maxX is the largest x of a path's points.
func maxX(path string) float64 {
	hi := math.Inf(-1)
	for _, f := range strings.Fields(path) {
		x, _, _ := strings.Cut(strings.TrimLeft(f, "MLZ"), ",")
		if v, err := strconv.ParseFloat(x, 64); err == nil {
			hi = math.Max(hi, v)
		}
	}
	return hi
}

func TestTheBurnDownOfTheWeekInProgressEndsNow(t *testing.T) {
	start := time.Date(2026, 10, 17, 0, 0, 0, 0, time.UTC)
	from := start.AddDate(0, 0, 23)
	now := from.Add(2*24*time.Hour + 5*time.Hour) // Wednesday 05:00 of the week
	c := burnDownChart("x", period(start, 0.4), from, from.AddDate(0, 0, 7), now)
	if got := maxX(c.Line); got != c.R {
		t.Errorf("the line ends at x=%v, want the right edge %v: the axis ends now", got, c.R)
	}
	for _, tk := range c.XTicks {
		if d, _ := time.Parse("Jan 2", tk.Label); d.Month() == now.Month() && d.Day() > now.Day() {
			t.Errorf("a day after now on the axis: %s", tk.Label)
		}
	}
	if c.Shade == nil || c.Shade.X1 != c.R {
		t.Errorf("the week's shade %+v, want it to end at now, the right edge", c.Shade)
	}
}

func TestBurnDownLabelsNeitherOverlapNorAreCutOff(t *testing.T) {
	start := time.Date(2026, 10, 17, 0, 0, 0, 0, time.UTC)
	for _, end := range []float64{0.4, -0.2, -3, -165.211} {
		c := burnDownChart("x", period(start, end), time.Time{}, time.Time{}, time.Time{})
		for i, a := range c.YTicks {
			for _, b := range c.YTicks[i+1:] {
				if math.Abs(a.At-b.At) < 11 {
					t.Errorf("budget down to %v: labels %q and %q are %.1f units apart", end, a.Label, b.Label, math.Abs(a.At-b.At))
				}
			}
			// A label is drawn right-aligned at L−4 and 10 units high:
			// about 6 units a character.
			if width := 6 * float64(utf8.RuneCountInString(a.Label)); c.L-4 < width {
				t.Errorf("budget down to %v: label %q (%.0f wide) does not fit left of the plot at %.0f", end, a.Label, width, c.L)
			}
		}
		if end < 0 && !strings.HasPrefix(c.YTicks[len(c.YTicks)-1].Label, "−") {
			t.Errorf("budget down to %v: the lowest label %q is not the overspent depth", end, c.YTicks[len(c.YTicks)-1].Label)
		}
	}
}
