package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The spool is a directory of batch files, one per batch, named by the
// batch's sequence number (00000000000000000042.ndjson), holding the exact
// body that is posted. A batch is written whole (temporary file, sync,
// rename) before the state that counts it as spooled; it is removed once
// serve answered 202, and moved to dead/ when serve refused it for good.
type spool struct {
	dir string

	mu    sync.Mutex
	seqs  []uint64 // in order
	sizes map[uint64]int64
	bytes int64
}

const (
	spoolExt = ".ndjson"
	deadDir  = "dead"
)

func spoolName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, spoolExt) }

// openSpool opens the spool in dir, removing the batch files numbered
// nextSeq or later: a step wrote them and was killed before its state was
// committed, so the lines they counted will be read and spooled again.
func openSpool(dir string, nextSeq uint64) (*spool, error) {
	if err := os.MkdirAll(filepath.Join(dir, deadDir), 0o700); err != nil {
		return nil, fmt.Errorf("opening spool: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("opening spool: %w", err)
	}
	s := &spool{dir: dir, sizes: map[uint64]int64{}}
	for _, e := range ents {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if !strings.HasSuffix(name, spoolExt) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, spoolExt), 10, 64)
		if err != nil {
			continue
		}
		if seq >= nextSeq {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("opening spool: removing uncommitted batch: %w", err)
			}
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("opening spool: %w", err)
		}
		s.seqs = append(s.seqs, seq)
		s.sizes[seq] = info.Size()
		s.bytes += info.Size()
	}
	sort.Slice(s.seqs, func(i, j int) bool { return s.seqs[i] < s.seqs[j] })
	return s, syncDir(dir)
}

// write stores batch seq durably.
func (s *spool) write(seq uint64, body []byte) error {
	if err := writeFileAtomic(s.dir, spoolName(seq), body); err != nil {
		return fmt.Errorf("spooling batch %d: %w", seq, err)
	}
	s.mu.Lock()
	s.seqs = append(s.seqs, seq)
	s.sizes[seq] = int64(len(body))
	s.bytes += int64(len(body))
	s.mu.Unlock()
	return nil
}

// oldest returns the first batch numbered below before (the committed
// ones), if any.
func (s *spool) oldest(before uint64) (uint64, []byte, bool, error) {
	s.mu.Lock()
	if len(s.seqs) == 0 || s.seqs[0] >= before {
		s.mu.Unlock()
		return 0, nil, false, nil
	}
	seq := s.seqs[0]
	s.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(s.dir, spoolName(seq)))
	if err != nil {
		return 0, nil, false, fmt.Errorf("reading spooled batch %d: %w", seq, err)
	}
	return seq, b, true, nil
}

// remove forgets batch seq, sent; dead moves it to dead/ instead.
func (s *spool) remove(seq uint64) error {
	err := os.Remove(filepath.Join(s.dir, spoolName(seq)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing sent batch %d: %w", seq, err)
	}
	s.drop(seq)
	return nil
}

func (s *spool) dead(seq uint64) error {
	if err := os.Rename(filepath.Join(s.dir, spoolName(seq)), filepath.Join(s.dir, deadDir, spoolName(seq))); err != nil {
		return fmt.Errorf("setting aside refused batch %d: %w", seq, err)
	}
	s.drop(seq)
	return syncDir(s.dir)
}

func (s *spool) drop(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) > 0 && s.seqs[0] == seq {
		s.seqs = s.seqs[1:]
	}
	s.bytes -= s.sizes[seq]
	delete(s.sizes, seq)
}

// discardFrom removes the batches numbered from on: written by a step
// whose state was not committed.
func (s *spool) discardFrom(from uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.seqs) > 0 && s.seqs[len(s.seqs)-1] >= from {
		seq := s.seqs[len(s.seqs)-1]
		if err := os.Remove(filepath.Join(s.dir, spoolName(seq))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing uncommitted batch %d: %w", seq, err)
		}
		s.seqs = s.seqs[:len(s.seqs)-1]
		s.bytes -= s.sizes[seq]
		delete(s.sizes, seq)
	}
	return nil
}

// size returns the batches and bytes waiting.
func (s *spool) size() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs), s.bytes
}
