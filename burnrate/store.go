// Package burnrate keeps the per-instance event history of an SLO, measures
// burn rates over the windows of its alert policy and steps the alerts'
// state machines. It knows nothing of where the events come from or where
// the alerts go.
package burnrate

import (
	"time"
	"unsafe"
)

// Counts are events of an SLO instance.
type Counts struct {
	Valid float64 // events that count toward the SLI: total − user faults − ignored
	Bad   float64 // platform failures
}

func (c Counts) add(d Counts) Counts { return Counts{c.Valid + d.Valid, c.Bad + d.Bad} }

// Plus returns the sum of c and d.
func (c Counts) Plus(d Counts) Counts { return c.add(d) }
func (c Counts) sub(d Counts) Counts  { return Counts{c.Valid - d.Valid, c.Bad - d.Bad} }

// minuteMS is the store's fine resolution in milliseconds.
const minuteMS = int64(time.Minute / time.Millisecond)

// MinuteOf returns the minute bucket of a timestamp in milliseconds: bucket k
// holds the samples with time in (k−1, k] minutes since the epoch. With this
// rounding, a window (T−W, T] of whole minutes is exactly the buckets
// (MinuteOf(T)−W, MinuteOf(T)] whenever the samples share T's offset within
// the minute — as samples of one scrape target do.
func MinuteOf(ms int64) int64 {
	k := ms / minuteMS
	if ms%minuteMS > 0 {
		k++
	}
	return k
}

// MaxInstanceBytes is what one instance's history may take: 30 days at
// tens of thousands of instances must fit in memory.
const MaxInstanceBytes = 16 << 10

// Layout sizes an instance's history.
//
// The fine ring holds the cumulative counts at the end of each of the last
// Fine minutes, so any window of up to Fine−1 minutes is exact to the minute.
// The coarse ring holds the cumulative counts at every Step-minute boundary
// for the retention. A window whose far edge lies beyond the fine ring takes
// the cumulative count there by interpolating between the two coarse
// boundaries around the edge: since cumulative counts never fall, the error
// is at most the counts of one coarse bucket (Step minutes) at the far edge.
type Layout struct {
	Fine   int64 // minute buckets kept exactly
	Step   int64 // minutes per coarse bucket
	Coarse int64 // coarse boundaries kept
}

// minExact is the shortest span kept exactly: the short windows of the
// workbook policy go up to 6h.
const minExact = 6 * time.Hour

// coarseSteps are the coarse resolutions tried, finest first. None exceeds
// minExact, so a coarse bucket around a window's far edge always has its
// later boundary inside the retained history.
var coarseSteps = []int64{60, 120, 180, 240, 360}

// NewLayout returns the finest layout within MaxInstanceBytes that keeps
// windows up to exact exact to the minute and retains retain of history.
func NewLayout(exact, retain time.Duration) Layout {
	exact = max(exact, minExact)
	fine := int64(exact/time.Minute) + 1
	retainMin := int64((retain + time.Minute - 1) / time.Minute)
	var l Layout
	for _, step := range coarseSteps {
		l = Layout{Fine: fine, Step: step, Coarse: retainMin/step + 2}
		if l.Bytes() <= MaxInstanceBytes {
			break
		}
	}
	return l
}

// Bytes is the memory one Store of this layout takes.
func (l Layout) Bytes() int {
	return int(unsafe.Sizeof(Store{})) + int(l.Fine+l.Coarse)*int(unsafe.Sizeof(Counts{}))
}

// Store is the event history of one SLO instance as cumulative counts, so
// that the sum over any window is one subtraction:
//
//	sum(k−W, k] = cum(k) − cum(k−W)
type Store struct {
	ring   []Counts // fine buckets, then coarse boundaries: one allocation
	head   int64    // newest minute with data; 0 when empty
	start  int64    // first minute with data
	headIx int64    // head % fine
	fine   int32
	step   int32
}

// NewStore returns an empty history of layout l.
func NewStore(l Layout) Store {
	return Store{ring: make([]Counts, l.Fine+l.Coarse), fine: int32(l.Fine), step: int32(l.Step)}
}

func (s *Store) fineRing() []Counts   { return s.ring[:s.fine] }
func (s *Store) coarseRing() []Counts { return s.ring[s.fine:] }

// Head is the newest minute with data, 0 if none.
func (s *Store) Head() int64 { return s.head }

// Add counts events at minute k. Events for an earlier minute than the
// newest one are folded into every later cumulative count kept.
func (s *Store) Add(k int64, d Counts) {
	fine := s.fineRing()
	n := int64(s.fine)
	switch {
	case s.head == 0:
		s.head, s.start, s.headIx = k, k, k%n
	case k > s.head:
		s.advance(k)
	case k < s.head:
		s.addLate(k, d)
		return
	}
	fine[s.headIx] = fine[s.headIx].add(d)
}

// advance moves the head to minute k, carrying the cumulative count into
// the minutes between and recording every coarse boundary passed.
func (s *Store) advance(k int64) {
	fine, coarse := s.fineRing(), s.coarseRing()
	n, step, cn := int64(s.fine), int64(s.step), int64(len(coarse))
	carry := fine[s.headIx]
	// Boundaries b in [head, k): the count through b is the head's, since
	// no events came after it.
	first := (s.head + step - 1) / step
	last := (k - 1) / step
	if last-first >= cn {
		first = last - cn + 1
	}
	for b := first; b <= last; b++ {
		coarse[b%cn] = carry
	}
	gap := min(k-s.head, n)
	for m := k - gap + 1; m <= k; m++ {
		fine[m%n] = carry
	}
	s.head, s.headIx = k, k%n
}

// addLate folds events of an earlier minute k into every kept count after it.
func (s *Store) addLate(k int64, d Counts) {
	fine, coarse := s.fineRing(), s.coarseRing()
	n, step, cn := int64(s.fine), int64(s.step), int64(len(coarse))
	if k < s.start {
		s.start = k
	}
	for m := max(k, s.head-n+1); m <= s.head; m++ {
		fine[m%n] = fine[m%n].add(d)
	}
	first := max((k+step-1)/step, s.head/step-cn+1)
	for b := first; b*step < s.head; b++ {
		coarse[b%cn] = coarse[b%cn].add(d)
	}
}

// cum returns the cumulative counts through minute m.
func (s *Store) cum(m int64) Counts {
	fine := s.fineRing()
	if m >= s.head {
		return fine[s.headIx]
	}
	if m < s.start {
		return Counts{}
	}
	if d := s.head - m; d < int64(s.fine) {
		ix := s.headIx - d
		if ix < 0 {
			ix += int64(s.fine)
		}
		return fine[ix]
	}
	// Beyond the fine ring: interpolate between the coarse boundaries
	// around m. The true count lies between the two, so the error is at
	// most one coarse bucket.
	step := int64(s.step)
	b := m / step * step
	lo, hi := s.boundary(b), s.boundary(b+step)
	f := float64(m-b) / float64(step)
	return Counts{lo.Valid + (hi.Valid-lo.Valid)*f, lo.Bad + (hi.Bad-lo.Bad)*f}
}

// boundary returns the cumulative count through boundary minute b.
func (s *Store) boundary(b int64) Counts {
	if b >= s.head-int64(s.fine)+1 {
		return s.cum(b)
	}
	if b < s.start {
		return Counts{}
	}
	coarse := s.coarseRing()
	cn := int64(len(coarse))
	step := int64(s.step)
	if oldest := (s.head/step - cn + 1) * step; b < oldest {
		b = oldest // older than retained: windows never reach here
	}
	return coarse[(b/step)%cn]
}

// Sum returns the events in the window of w minutes ending with minute k:
// the minutes (k−w, k].
func (s *Store) Sum(k, w int64) Counts {
	return s.cum(k).sub(s.cum(k - w))
}
