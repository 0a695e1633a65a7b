package ingest

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"unsafe"
)

// record is one raw sample on its way from the file's order (series by
// series) to time order. Its time is kept relative to its block.
type record struct {
	off uint32 // milliseconds since the start of the block
	ref uint32 // index of the series
	v   float64
}

const recordSize = int(unsafe.Sizeof(record{}))

// blockMS is the span of time sorted at once. Memory in the second pass is
// about the series' samples in one block × 16 bytes.
const blockMS = int64(3600 * 1000)

// spoolMemory is how many records the spool holds in memory before it
// writes them out: 64 MiB. A recording smaller than that never touches the
// disk; a larger one is written out in runs of about that size.
const spoolMemory = 64 << 20 / recordSize

// spool reorders samples into time order without holding them all in
// memory: records gather per block of time, spill to a temporary file in
// runs when too many are held, and come back one block at a time, sorted.
type spool struct {
	f      *os.File
	off    int64
	blocks map[int64]*block
	held   int // records in memory
	last   *block
	lastK  int64
	// free are emptied blocks, kept for their buffers, and recs, sorted
	// and counts the buffers of each.
	free         []*block
	recs, sorted []record
	counts       []int32
}

type block struct {
	buf  []record
	runs []run
}

type run struct {
	off int64
	n   int
}

func newSpool() *spool {
	return &spool{blocks: map[int64]*block{}, lastK: -1}
}

// reset empties a spool held in memory, keeping its buffers.
func (s *spool) reset() {
	for k, b := range s.blocks {
		b.buf, b.runs = b.buf[:0], b.runs[:0]
		s.free = append(s.free, b)
		delete(s.blocks, k)
	}
	s.held, s.last, s.lastK = 0, nil, -1
}

func (s *spool) close() error {
	if s.f == nil {
		return nil
	}
	return s.f.Close()
}

func (s *spool) add(ts int64, ref uint32, v float64) error {
	k := ts / blockMS
	b := s.last
	if k != s.lastK {
		if b = s.blocks[k]; b == nil {
			if n := len(s.free); n > 0 {
				b, s.free = s.free[n-1], s.free[:n-1]
			} else {
				b = &block{}
			}
			s.blocks[k] = b
		}
		s.last, s.lastK = b, k
	}
	b.buf = append(b.buf, record{off: uint32(ts - k*blockMS), ref: ref, v: v})
	if s.held++; s.held >= spoolMemory {
		return s.spill()
	}
	return nil
}

// spill writes every block's records held in memory to the spool file.
func (s *spool) spill() error {
	if s.f == nil {
		f, err := os.CreateTemp("", "burnwatch-replay-*.spool")
		if err != nil {
			return fmt.Errorf("creating the replay spool: %w", err)
		}
		os.Remove(f.Name()) // gone when closed, even after a crash
		s.f = f
	}
	for _, b := range s.blocks {
		if len(b.buf) == 0 {
			continue
		}
		raw := unsafe.Slice((*byte)(unsafe.Pointer(&b.buf[0])), len(b.buf)*recordSize)
		if _, err := s.f.WriteAt(raw, s.off); err != nil {
			return fmt.Errorf("writing the replay spool: %w", err)
		}
		b.runs = append(b.runs, run{s.off, len(b.buf)})
		s.off += int64(len(raw))
		b.buf = b.buf[:0]
	}
	s.held = 0
	return nil
}

// each calls fn with every block's records in time order, sorted by time
// and then by series, and the block's start in milliseconds.
func (s *spool) each(fn func(start int64, recs []record) error) error {
	keys := make([]int64, 0, len(s.blocks))
	for k := range s.blocks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	recs, sorted, counts := s.recs, s.sorted, s.counts
	defer func() { s.recs, s.sorted, s.counts = recs, sorted, counts }()
	for _, k := range keys {
		b := s.blocks[k]
		n := len(b.buf)
		for _, r := range b.runs {
			n += r.n
		}
		recs = slices.Grow(recs[:0], n)[:0]
		for _, r := range b.runs {
			start := len(recs)
			recs = recs[:start+r.n]
			raw := unsafe.Slice((*byte)(unsafe.Pointer(&recs[start])), r.n*recordSize)
			if _, err := s.f.ReadAt(raw, r.off); err != nil {
				return fmt.Errorf("reading the replay spool: %w", err)
			}
		}
		recs = append(recs, b.buf...)
		delete(s.blocks, k)
		b.buf, b.runs = b.buf[:0], b.runs[:0]
		s.free = append(s.free, b)
		sorted = sortByTime(recs, sorted, &counts)
		if err := fn(k*blockMS, sorted); err != nil {
			return err
		}
		recs, sorted = sorted, recs
	}
	return nil
}

// sortByTime returns recs sorted by time and then by series, in out. The
// records of a block arrive series by series, each series in time order,
// mostly in ref order; so a stable counting sort by the second within the
// block puts them nearly in order, and each second is then checked and
// sorted if it needs to be.
func sortByTime(recs, out []record, counts *[]int32) []record {
	const seconds = blockMS / 1000
	c := slices.Grow((*counts)[:0], int(seconds)+1)[:seconds+1]
	clear(c)
	for _, r := range recs {
		c[r.off/1000+1]++
	}
	for i := 1; i < len(c); i++ {
		c[i] += c[i-1]
	}
	out = slices.Grow(out[:0], len(recs))[:len(recs)]
	for _, r := range recs {
		i := r.off / 1000
		out[c[i]] = r
		c[i]++
	}
	*counts = c
	// c[i] is now where second i ends.
	from := int32(0)
	for _, to := range c[:seconds] {
		if run := out[from:to]; !slices.IsSortedFunc(run, compare) {
			slices.SortFunc(run, compare)
		}
		from = to
	}
	return out
}

func compare(a, b record) int {
	if c := cmp.Compare(a.off, b.off); c != 0 {
		return c
	}
	return cmp.Compare(a.ref, b.ref)
}
