package ingest

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"unsafe"
)

// record is one raw sample on its way from the file's order (series by
// series) to time order.
type record struct {
	ts  int64
	ref uint32 // index of the series
	_   uint32
	v   float64
}

const recordSize = int(unsafe.Sizeof(record{}))

// blockMS is the span of time sorted at once. Memory in the second pass is
// about series × samples per series in one block × 24 bytes.
const blockMS = int64(3600 * 1000)

// blockBuffer is how many records a block gathers before they go to disk.
const blockBuffer = 512

// spool reorders samples into time order without holding them in memory:
// records go to a temporary file, appended in runs per block of time, and
// come back one block at a time, sorted.
type spool struct {
	f      *os.File
	off    int64
	blocks map[int64]*block
	n      int
}

type block struct {
	buf  []record
	runs []run
}

type run struct {
	off int64
	n   int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "burnwatch-replay-*.spool")
	if err != nil {
		return nil, fmt.Errorf("creating the replay spool: %w", err)
	}
	os.Remove(f.Name()) // gone when closed, even after a crash
	return &spool{f: f, blocks: map[int64]*block{}}, nil
}

func (s *spool) close() error { return s.f.Close() }

func (s *spool) add(r record) error {
	k := r.ts / blockMS
	b := s.blocks[k]
	if b == nil {
		b = &block{buf: make([]record, 0, blockBuffer)}
		s.blocks[k] = b
	}
	b.buf = append(b.buf, r)
	s.n++
	if len(b.buf) == blockBuffer {
		return s.flush(b)
	}
	return nil
}

func (s *spool) flush(b *block) error {
	if len(b.buf) == 0 {
		return nil
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&b.buf[0])), len(b.buf)*recordSize)
	if _, err := s.f.WriteAt(raw, s.off); err != nil {
		return fmt.Errorf("writing the replay spool: %w", err)
	}
	b.runs = append(b.runs, run{s.off, len(b.buf)})
	s.off += int64(len(raw))
	b.buf = b.buf[:0]
	return nil
}

// each calls fn with every block's records in time order, sorted by time
// and then by series.
func (s *spool) each(fn func([]record) error) error {
	keys := make([]int64, 0, len(s.blocks))
	for k := range s.blocks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var (
		recs, sorted []record
		counts       []int32
	)
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
		sorted = sortByTime(recs, sorted[:0], k*blockMS, &counts)
		if err := fn(sorted); err != nil {
			return err
		}
		recs, sorted = sorted, recs
		continue
	}
	return nil
}

// sortByTime returns recs sorted by time and then by series, in out. The
// records of a block arrive series by series, each series in time order,
// mostly in ref order; so a stable counting sort by the second within the
// block puts them nearly in order, and each second is then checked and
// sorted if it needs to be.
func sortByTime(recs, out []record, start int64, counts *[]int32) []record {
	const seconds = blockMS / 1000
	c := slices.Grow((*counts)[:0], int(seconds)+1)[:seconds+1]
	clear(c)
	for _, r := range recs {
		c[(r.ts-start)/1000+1]++
	}
	for i := 1; i < len(c); i++ {
		c[i] += c[i-1]
	}
	out = slices.Grow(out[:0], len(recs))[:len(recs)]
	for _, r := range recs {
		i := (r.ts - start) / 1000
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
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	return cmp.Compare(a.ref, b.ref)
}
