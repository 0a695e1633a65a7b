package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A chart is the geometry of one inline SVG chart, computed here and drawn by
// html.tmpl, so that html/template escapes everything that reaches the page.
// Coordinates are SVG user units; y grows downwards.
type chart struct {
	Class, Label string  // Class is the svg's class; Label its accessible name
	W, H         int     // viewBox size
	L, T, R, B   float64 // plot area: left, top, right, bottom
	Line, Area   string  // path data; empty when there is nothing to draw
	Shade        *band   // an x range to shade (the report's week), or nil
	Refs         []ref   // horizontal reference lines
	YTicks       []tick
	XTicks       []tick
	Empty        bool // no finite point: the chart says "no data"
}

type band struct{ X0, X1 float64 }

type ref struct {
	Y            float64
	Label, Class string
}

type tick struct {
	At    float64 // x or y, depending on the axis
	Label string
}

const (
	chartW, chartH = 560, 200
	chartL, chartT = 48.0, 12.0   // room for the y labels on the left
	chartR, chartB = 532.0, 176.0 // room for the last x label on the right
	sparkW, sparkH = 100, 20
)

// burnDownChart draws the budget remaining over the period, from 100% down,
// with a line at 0 (budget spent) and the report's week shaded. The y range is
// [min(0, lowest), max(1, highest)], so an overspent budget shows below zero.
// Points after now, the time the report is made, are not drawn: the chart of
// the week in progress ends today, not on Sunday.
func burnDownChart(name string, ps []Point, from, to, now time.Time) chart {
	c := newChart("chart burndown", "Budget remaining over the period: "+name)
	ps = until(ps, now)
	lo, hi, t0, t1, ok := extent(ps)
	if !ok {
		c.Empty = true
		return c
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 1)
	// The labels in the order they are kept when two would overlap: the
	// top, the lowest (an overspent budget's depth), then the middle.
	labels := []tick{{1, "100%"}}
	if lo < 0 {
		labels = append(labels, tick{lo, fmtBudget(lo)})
	}
	labels = append(labels, tick{0.5, "50%"})
	c.L = leftMargin(labels)
	x, y := c.scales(t0, t1, lo, hi)
	c.Line, c.Area = paths(ps, x, y, y(0))
	c.Refs = []ref{{Y: r1(y(0)), Label: "0%", Class: "zero"}}
	c.YTicks = spaced(labels, y)
	if !from.IsZero() && !to.IsZero() && to.After(t0) && from.Before(t1) {
		c.Shade = &band{X0: r1(x(maxTime(from, t0))), X1: r1(x(minTime(to, t1)))}
	}
	c.XTicks = dayTicks(t0, t1, x, 5)
	return c
}

// until returns the points up to now; a zero now keeps them all.
func until(ps []Point, now time.Time) []Point {
	if now.IsZero() {
		return ps
	}
	for i, p := range ps {
		if p.T.After(now) {
			return ps[:i:i]
		}
	}
	return ps
}

// Tick labels are 10 units high (html.tmpl: svg text { font-size: 10px })
// and a figure is at most about 6 units wide.
const (
	tickGap     = 12.0 // the least distance between two y labels' centres
	labelWidth  = 6.0  // the width of one character of a label, generously
	labelMargin = 8.0  // between the viewBox's edge and a label, and a label and the plot
)

// leftMargin is the plot's left edge: room for the longest y label, so
// that a label such as −16521.1% is not cut off by the viewBox, and never
// less than chartL.
func leftMargin(labels []tick) float64 {
	longest := 0
	for _, l := range labels {
		longest = max(longest, utf8.RuneCountInString(l.Label))
	}
	return math.Max(chartL, labelMargin+labelWidth*float64(longest)+4)
}

// spaced places the labels at their y, in order, leaving out one that
// would overlap a label kept before it: with an overspent budget of
// −16521%, 100% and 50% are a few units apart and only 100% is shown.
func spaced(labels []tick, y func(float64) float64) []tick {
	var out []tick
	for _, l := range labels {
		at := r1(y(l.At))
		if !slices.ContainsFunc(out, func(k tick) bool { return math.Abs(k.At-at) < tickGap }) {
			out = append(out, tick{At: at, Label: l.Label})
		}
	}
	slices.SortFunc(out, func(a, b tick) int { return cmp.Compare(a.At, b.At) })
	return out
}

// burnRateChart draws the burn rate of every 2 hours of the week with a line at 1×,
// the rate that spends exactly the budget over the period. The y range is
// [0, max(2, 1.1 × highest)] so that 1× is always in view.
func burnRateChart(name string, ps []Point, now time.Time) chart {
	c := newChart("chart burnrate", "Burn rate every 2 hours over the week: "+name)
	ps = until(ps, now)
	_, hi, t0, t1, ok := extent(ps)
	if !ok {
		c.Empty = true
		return c
	}
	hi = math.Max(2, hi*1.1)
	x, y := c.scales(t0, t1, 0, hi)
	c.Line, c.Area = paths(ps, x, y, y(0))
	c.Refs = []ref{{Y: r1(y(1)), Label: "1×", Class: "pace"}}
	c.YTicks = []tick{{r1(y(0)), "0×"}, {r1(y(hi)), fmtRate(hi)}}
	c.XTicks = dayTicks(t0, t1, x, 8)
	return c
}

// sparkFloor is the least full scale of a sparkline: 5% of the period's budget
// in a day, 1.5× the pace that spends a 30-day budget exactly. Scaling a
// quiet week to its own maximum would magnify noise into peaks.
const sparkFloor = 0.05

// sparkline draws daily values scaled to their maximum, at least sparkFloor.
func sparkline(vs []float64) chart {
	c := chart{Class: "spark", Label: "daily burn", W: sparkW, H: sparkH, L: 1, T: 2, R: sparkW - 1, B: sparkH - 2}
	ps := make([]Point, len(vs))
	hi := sparkFloor
	for n, v := range vs {
		ps[n] = Point{T: time.Unix(int64(n), 0), V: v}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			hi = math.Max(hi, v)
		}
	}
	_, _, t0, t1, ok := extent(ps)
	if !ok {
		c.Empty = true
		return c
	}
	if !t1.After(t0) {
		t1 = t0.Add(time.Second)
	}
	x, y := c.scales(t0, t1, 0, hi)
	c.Line, c.Area = paths(ps, x, y, y(0))
	return c
}

func newChart(class, label string) chart {
	return chart{Class: class, Label: label, W: chartW, H: chartH, L: chartL, T: chartT, R: chartR, B: chartB}
}

// scales maps times onto [L, R] and values onto [B, T]:
// x(t) = L + (t − t0)/(t1 − t0) × (R − L), y(v) = B − (v − lo)/(hi − lo) × (B − T).
func (c chart) scales(t0, t1 time.Time, lo, hi float64) (func(time.Time) float64, func(float64) float64) {
	span := t1.Sub(t0).Seconds()
	if span <= 0 {
		span = 1
	}
	if hi <= lo {
		hi = lo + 1
	}
	x := func(t time.Time) float64 { return c.L + t.Sub(t0).Seconds()/span*(c.R-c.L) }
	y := func(v float64) float64 { return c.B - (v-lo)/(hi-lo)*(c.B-c.T) }
	return x, y
}

// extent returns the range of the finite values and of their times.
func extent(ps []Point) (lo, hi float64, t0, t1 time.Time, ok bool) {
	for _, p := range ps {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		if !ok {
			lo, hi, t0, t1, ok = p.V, p.V, p.T, p.T, true
			continue
		}
		lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		t0, t1 = minTime(t0, p.T), maxTime(t1, p.T)
	}
	return lo, hi, t0, t1, ok
}

// paths returns the line through the points and the area between it and the
// baseline. An unknown value (NaN) breaks both, so a gap in the data shows as
// a gap rather than as a straight line across it.
func paths(ps []Point, x func(time.Time) float64, y func(float64) float64, base float64) (line, area string) {
	var l, a strings.Builder
	var seg [][2]float64
	flush := func() {
		if len(seg) == 0 {
			return
		}
		for n, p := range seg {
			l.WriteString(cmd(n == 0, p[0], p[1]))
		}
		a.WriteString(cmd(true, seg[0][0], base))
		for _, p := range seg {
			a.WriteString(cmd(false, p[0], p[1]))
		}
		a.WriteString(cmd(false, seg[len(seg)-1][0], base) + "Z")
		seg = seg[:0]
	}
	for _, p := range ps {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			flush()
			continue
		}
		seg = append(seg, [2]float64{x(p.T), y(p.V)})
	}
	flush()
	return strings.TrimSpace(l.String()), strings.TrimSpace(a.String())
}

func cmd(move bool, x, y float64) string {
	c := "L"
	if move {
		c = "M"
	}
	return c + coord(x) + "," + coord(y) + " "
}

// r1 rounds a coordinate to a tenth of a unit, which is finer than a pixel.
func r1(v float64) float64 { return math.Round(v*10) / 10 }

// coord formats a coordinate rounded by r1.
func coord(v float64) string {
	s := strconv.FormatFloat(r1(v), 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}

// dayTicks labels the x axis at midnights (in t0's zone) between t0 and t1,
// at most max of them, spaced evenly by whole days.
func dayTicks(t0, t1 time.Time, x func(time.Time) float64, max int) []tick {
	first := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, t0.Location())
	if first.Before(t0) {
		first = first.AddDate(0, 0, 1)
	}
	days := int(t1.Sub(first).Hours()/24) + 1
	step := 1
	for days/step > max {
		step++
	}
	var ts []tick
	for d := first; !d.After(t1); d = d.AddDate(0, 0, step) {
		ts = append(ts, tick{At: r1(x(d)), Label: d.Format("Jan 2")})
	}
	return ts
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
