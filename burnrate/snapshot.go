package burnrate

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/burnwatch/burnwatch/slo"
)

// snapshotVersion is the format of MarshalBinary; a change that a running
// service cannot read back bumps it.
const snapshotVersion = 1

// ErrLayoutChanged is returned by UnmarshalBinary for a snapshot taken
// under another layout (the SLO's period or policy changed): its history
// cannot be mapped onto the new one and the instance starts afresh.
var ErrLayoutChanged = errors.New("the instance's history was kept in another layout")

// MarshalBinary returns the instance's state — its history, alert states
// and totals — for the service to keep across restarts.
func (in *Instance) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 64+len(in.store.ring)*16)
	b = append(b, snapshotVersion)
	b = in.store.append(b)
	for i := range numSeverities {
		b = append(b, byte(in.alerts[i].State), byte(in.fired[i]))
		b = binary.LittleEndian.AppendUint64(b, uint64(in.alerts[i].Since))
	}
	for _, f := range []float64{in.Totals.Total, in.Totals.User, in.Totals.Ignore, in.Totals.Platform} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	}
	if in.surge == nil {
		return append(b, 0), nil
	}
	b = append(b, 1)
	in.surge.flush()
	b = in.surge.store.append(b)
	return binary.LittleEndian.AppendUint64(b, uint64(in.surge.judged)), nil
}

// UnmarshalBinary restores a state that MarshalBinary returned into an
// instance of the same SLO.
func (in *Instance) UnmarshalBinary(b []byte) error {
	r := reader{b: b}
	if v := r.byte(); v != snapshotVersion {
		return fmt.Errorf("snapshot version %d, want %d", v, snapshotVersion)
	}
	if err := in.store.read(&r); err != nil {
		return err
	}
	for i := range numSeverities {
		in.alerts[i].State = State(r.byte())
		in.fired[i] = int8(r.byte())
		in.alerts[i].Since = int64(r.uint64())
	}
	in.Totals = Events{r.float64(), r.float64(), r.float64(), r.float64()}
	if r.byte() == 1 && in.surge != nil {
		if err := in.surge.store.read(&r); err != nil {
			return err
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
