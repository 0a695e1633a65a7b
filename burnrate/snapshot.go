package burnrate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// snapshotVersion is the format MarshalBinary writes: 2, the counts as
// varint deltas, about a fifth of version 1's fixed 16 bytes a count.
// UnmarshalBinary reads both.
const snapshotVersion = 2

// ErrLayoutChanged is returned by UnmarshalBinary for a snapshot taken
// under another layout (the SLO's period or policy changed): its history
// cannot be mapped onto the new one and the instance starts afresh.
var ErrLayoutChanged = errors.New("the instance's history was kept in another layout")

// MarshalBinary returns the instance's whole state — its history, alert
// states, totals and its part in the surge guard — for the service to
// keep across restarts.
func (in *Instance) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1024+len(in.store.ring)*4)
	b = append(b, snapshotVersion)
	b = in.store.appendCompact(b)
	for i := range numSeverities {
		b = append(b, byte(in.alerts[i].State), byte(in.fired[i]))
		b = binary.AppendVarint(b, in.alerts[i].Since)
	}
	for _, f := range []float64{in.Totals.Total, in.Totals.User, in.Totals.Ignore, in.Totals.Platform} {
		b = appendNumber(b, f)
	}
	if in.surge == nil {
		return append(b, 0), nil
	}
	g := in.surge
	g.flush()
	b = append(b, 1)
	b = g.store.appendCompact(b)
	b = binary.AppendVarint(b, g.judged)
	if !g.surging {
		return append(b, 0), nil
	}
	// A surge under way: its episode goes with it.
	b = append(b, 1)
	var ep Episode
	if g.episode >= 0 && g.episode < len(in.Spec.surge.episodes) {
		ep = in.Spec.surge.episodes[g.episode]
	}
	b = binary.AppendVarint(b, ep.From.UnixMilli())
	return appendNumber(b, ep.Peak), nil
}

// UnmarshalBinary restores a state that MarshalBinary returned into an
// instance of the same SLO, which must be new: a surge under way counts in
// its SLO's guard again.
func (in *Instance) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	switch v := r.byte(); v {
	case 1:
		return in.unmarshalV1(&r)
	case snapshotVersion:
	default:
		return fmt.Errorf("snapshot version %d, want %d or 1", v, snapshotVersion)
	}
	if err := in.store.readCompact(&r); err != nil {
		return err
	}
	for i := range numSeverities {
		in.alerts[i].State = State(r.byte())
		in.fired[i] = int8(r.byte())
		in.alerts[i].Since = r.varint()
	}
	in.Totals = Events{r.number(), r.number(), r.number(), r.number()}
	if r.byte() != 1 {
		return r.err
	}
	g := in.surge
	if g == nil {
		// The guard was turned off since: its part is read and dropped.
		var skip Store
		if err := skip.readCompact(&r); err != nil {
			return err
		}
		r.varint()
		if r.byte() == 1 {
			r.varint()
			r.number()
		}
		return r.err
	}
	if err := g.store.readCompact(&r); err != nil {
		if !errors.Is(err, ErrLayoutChanged) {
			return err
		}
		// The guard's layout changed (its resolution beyond the hour): it
		// starts afresh, the instance's history stays.
		g.store = NewStore(in.Spec.surge.layout)
	}
	g.judged = r.varint()
	if r.byte() == 1 {
		from, peak := r.varint(), r.number()
		if r.err == nil {
			in.Spec.surge.resume(in, time.UnixMilli(from).UTC(), peak)
		}
	}
	return r.err
}

// unmarshalV1 reads the rest of a version 1 snapshot.
func (in *Instance) unmarshalV1(r *reader) error {
	if err := in.store.read(r); err != nil {
		return err
	}
	for i := range numSeverities {
		in.alerts[i].State = State(r.byte())
		in.fired[i] = int8(r.byte())
		in.alerts[i].Since = int64(r.uint64())
	}
	in.Totals = Events{r.float64(), r.float64(), r.float64(), r.float64()}
	if r.byte() == 1 && in.surge != nil {
		if err := in.surge.store.read(r); err != nil {
			if !errors.Is(err, ErrLayoutChanged) {
				return err
			}
			// The guard's layout changed: it starts afresh, the
			// instance's history stays. Its part is the snapshot's last.
			in.surge.store = NewStore(in.Spec.surge.layout)
			return nil
		}
		in.surge.judged = int64(r.uint64())
	}
	return r.err
}

// SetAlert restores the state of the instance's alert of a severity.
func (in *Instance) SetAlert(sev slo.Severity, a Alert) {
	for i, s := range in.Spec.Severities {
		if s == sev {
			in.alerts[i] = a
		}
	}
}

func (s *Store) append(b []byte) []byte {
	for _, v := range []int64{int64(s.fine), int64(s.step), int64(len(s.ring)), s.head, s.start, s.headIx} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	for _, c := range s.ring {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Valid))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Bad))
	}
	return b
}

func (s *Store) read(r *reader) error {
	fine, step, n := int64(r.uint64()), int64(r.uint64()), int64(r.uint64())
	if r.err != nil {
		return r.err
	}
	if fine != int64(s.fine) || step != int64(s.step) || n != int64(len(s.ring)) {
		return ErrLayoutChanged
	}
	s.head, s.start, s.headIx = int64(r.uint64()), int64(r.uint64()), int64(r.uint64())
	for i := range s.ring {
		s.ring[i] = Counts{r.float64(), r.float64()}
	}
	return r.err
}

// appendCompact writes the store in version 2's form: the layout and
// positions as varints, then each ring's counts oldest first as the
// difference from the count before, so that a steady instance's minutes
// take a byte or two each.
func (s *Store) appendCompact(b []byte) []byte {
	for _, v := range []int64{int64(s.fine), int64(s.step), int64(len(s.ring)), s.head, s.start, s.headIx} {
		b = binary.AppendVarint(b, v)
	}
	var prev Counts
	s.eachSlot(func(i int) {
		c := s.ring[i]
		b = appendNumber(b, c.Valid-prev.Valid)
		b = appendNumber(b, c.Bad-prev.Bad)
		prev = c
	})
	return b
}

// readCompact reads what appendCompact wrote into a store of the same
// layout.
func (s *Store) readCompact(r *reader) error {
	fine, step, n := r.varint(), r.varint(), r.varint()
	if r.err != nil {
		return r.err
	}
	if s.ring == nil {
		// A store only read to be skipped takes the layout it finds.
		if n < 0 || n > 1<<20 || fine < 0 || fine > n {
			return errors.New("snapshot holds an impossible layout")
		}
		*s = Store{ring: make([]Counts, n), fine: int32(fine), step: int32(step)}
	}
	if fine != int64(s.fine) || step != int64(s.step) || n != int64(len(s.ring)) {
		// Read past it, so that what follows can still be read.
		if n < 0 || n > 1<<20 || fine < 0 || fine > n {
			return errors.New("snapshot holds an impossible layout")
		}
		skip := Store{ring: make([]Counts, n), fine: int32(fine), step: int32(step)}
		if err := skip.readCompactBody(r); err != nil {
			return err
		}
		return ErrLayoutChanged
	}
	return s.readCompactBody(r)
}

// readCompactBody reads what follows the layout: the positions and the
// rings.
func (s *Store) readCompactBody(r *reader) error {
	s.head, s.start, s.headIx = r.varint(), r.varint(), r.varint()
	if s.headIx < 0 || s.headIx >= int64(s.fine) {
		return errors.New("snapshot holds an impossible position")
	}
	var prev Counts
	s.eachSlot(func(i int) {
		prev = Counts{prev.Valid + r.number(), prev.Bad + r.number()}
		s.ring[i] = prev
	})
	return r.err
}

// eachSlot calls fn with the index of every slot of the ring, each ring
// oldest first: the fine minutes from the one after the head round to the
// head, then the coarse boundaries from the one after the newest.
func (s *Store) eachSlot(fn func(i int)) {
	n := int(s.fine)
	for j := 1; j <= n; j++ {
		fn((int(s.headIx) + j) % n)
	}
	cn := len(s.ring) - n
	if cn <= 0 || s.step <= 0 {
		return
	}
	newest := int((s.head - 1) / int64(s.step) % int64(cn))
	if newest < 0 {
		newest += cn
	}
	for j := 1; j <= cn; j++ {
		fn(n + (newest+j)%cn)
	}
}

// appendNumber writes a count: an integer (the usual case) as a zigzag
// varint shifted left by one, anything else as a 1 and its 8 bytes.
func appendNumber(b []byte, f float64) []byte {
	if i := int64(f); float64(i) == f && i > -1<<61 && i < 1<<61 && !(f == 0 && math.Signbit(f)) {
		return binary.AppendUvarint(b, zigzag(i)<<1)
	}
	b = binary.AppendUvarint(b, 1)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func zigzag(i int64) uint64 { return uint64(i<<1) ^ uint64(i>>63) }

// reader reads a snapshot, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil || len(r.b) < n {
		if r.err == nil {
			r.err = errors.New("snapshot is truncated")
		}
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) byte() byte       { return r.take(1)[0] }
func (r *reader) uint64() uint64   { return binary.LittleEndian.Uint64(r.take(8)) }
func (r *reader) float64() float64 { return math.Float64frombits(r.uint64()) }

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errors.New("snapshot is truncated or corrupt")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("snapshot is truncated or corrupt")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// number reads what appendNumber wrote.
func (r *reader) number() float64 {
	u := r.uvarint()
	if u&1 == 0 {
		z := u >> 1
		return float64(int64(z>>1) ^ -int64(z&1))
	}
	return r.float64()
}
