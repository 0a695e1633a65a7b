package querylog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultMaxLine is the longest line read whole. A longer one (a query of
// megabytes, or its parameters) is skipped and counted in LongLines: its
// entry is lost, but memory stays bounded.
const DefaultMaxLine = 16 << 20

// readBuffer is the read buffer's size: lines up to it cost no copy.
const readBuffer = 64 << 10

// Tail follows a query log by its path: it reads the file to its end, and
// when the path names another file (Neo4j's log4j renames query.log to
// query.log.01 and starts a new one) it reads the old file to its end and
// goes on with the files written after it, the live one last. A file that
// shrank was truncated, and is read again from its start.
type Tail struct {
	path string
	f    *os.File
	id   fileID
	off  int64
	// head and headN cache the hash of the file's first headN bytes.
	head  string
	headN int

	rd   *bufio.Reader
	long []byte // a line longer than the read buffer, being put together
	// done are the rotated files read to their end since the live file
	// was last reached: never read again, whatever their times say.
	done map[fileID]bool

	// MaxLine is the longest line read (DefaultMaxLine when 0).
	MaxLine int
	// Counts of what happened, for the agent's own metrics.
	Rotations, Truncations, LongLines int
	// Lost says that the saved position's file could not be found: lines
	// written between it and the files read next may not have been read.
	Lost bool
}

// Open starts following path from a saved position (the zero Position
// reads the live file from its start). A path that does not exist yet is
// not an error: Read waits for it.
func Open(path string, from Position) (*Tail, error) {
	t := &Tail{path: path, rd: bufio.NewReaderSize(nil, readBuffer), done: map[fileID]bool{}}
	if from.IsZero() {
		return t, t.open(path, 0)
	}
	cands, err := t.candidates()
	if err != nil {
		return nil, err
	}
	for _, c := range cands {
		f, err := os.Open(c.name)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && sameFile(f, fi, from) {
			off := from.Offset
			if fi.Size() < off {
				off = 0 // truncated since
				t.Truncations++
			}
			t.adopt(f, fi, off)
			return t, nil
		}
		f.Close()
	}
	// The file is gone (rotated out, or the volume is new): read what was
	// written after it, oldest first.
	t.Lost = true
	for _, c := range cands {
		if c.mod > from.ModTime {
			return t, t.open(c.name, 0)
		}
	}
	return t, t.open(path, 0)
}

// open opens name at off; a missing file leaves the Tail waiting for it.
func (t *Tail) open(name string, off int64) error {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening query log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("opening query log: %w", err)
	}
	t.adopt(f, fi, off)
	return nil
}

func (t *Tail) adopt(f *os.File, fi os.FileInfo, off int64) {
	if t.f != nil {
		t.f.Close()
	}
	t.f, t.id, t.off = f, idOf(fi), off
	t.head, t.headN = "", 0
	t.long = t.long[:0]
}

// Close closes the file being read.
func (t *Tail) Close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}

// Read reads every complete line available now. For each it calls line
// with the line (without its line break; valid only during the call) and
// the offsets of its start and of the byte after it in the current file.
// Before leaving a file that was rotated away or truncated, it calls
// fileEnd. It returns at the end of the live file; a partial last line is
// left for a later Read.
func (t *Tail) Read(line func(b []byte, start, end int64) error, fileEnd func() error) error {
	for {
		if t.f == nil {
			if err := t.open(t.path, 0); err != nil || t.f == nil {
				return err
			}
		}
		if err := t.readLines(line); err != nil {
			return err
		}
		next, truncated, err := t.successor()
		if err != nil || (next == "" && !truncated) {
			return err
		}
		if err := fileEnd(); err != nil {
			return err
		}
		if truncated {
			t.off, t.head, t.headN = 0, "", 0
			continue
		}
		t.Rotations++
		t.done[t.id] = true
		if next == t.path {
			clear(t.done)
		}
		if err := t.open(next, 0); err != nil {
			return err
		}
	}
}

// readLines reads the current file from t.off to its last line break.
func (t *Tail) readLines(line func(b []byte, start, end int64) error) error {
	maxLine := t.MaxLine
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	t.rd.Reset(io.NewSectionReader(t.f, t.off, math.MaxInt64-t.off))
	t.long = t.long[:0]
	skipping := false
	pos := t.off
	for {
		b, err := t.rd.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			if !skipping && len(t.long)+len(b) <= maxLine {
				t.long = append(t.long, b...)
			} else {
				skipping = true
				t.long = t.long[:0]
			}
			pos += int64(len(b))
			continue
		case err == io.EOF:
			// A partial line: read again next time, from its start.
			return nil
		case err != nil:
			return fmt.Errorf("reading query log %s: %w", t.f.Name(), err)
		}
		start := t.off
		pos += int64(len(b))
		if skipping || len(t.long)+len(b) > maxLine {
			t.LongLines++
			skipping = false
			t.long = t.long[:0]
			t.off = pos
			continue
		}
		if len(t.long) > 0 {
			b = append(t.long, b...)
			t.long = b[:0]
		}
		t.off = pos
		if err := line(b[:len(b)-1], start, pos); err != nil {
			return err
		}
	}
}

// successor says what to read after the current file's end: nothing
// while it is still the live file and whole; the same file from its start
// when it was truncated; else the next file written after it.
func (t *Tail) successor() (next string, truncated bool, err error) {
	fi, err := t.f.Stat()
	if err != nil {
		return "", false, fmt.Errorf("reading query log %s: %w", t.f.Name(), err)
	}
	if fi.Size() < t.off || t.rewritten(fi) {
		t.Truncations++
		return "", true, nil
	}
	live, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil // renamed, and the new one is not there yet
	}
	if err != nil {
		return "", false, fmt.Errorf("reading query log: %w", err)
	}
	if os.SameFile(live, fi) {
		return "", false, nil
	}
	cands, err := t.candidates()
	if err != nil {
		return "", false, err
	}
	mod := fi.ModTime().UnixNano()
	for _, c := range cands {
		if c.id != t.id && !t.done[c.id] && c.mod >= mod && c.name != t.path {
			return c.name, false, nil
		}
	}
	return t.path, false, nil
}

// rewritten reports whether the file's beginning changed since it was
// hashed: truncated and written past the old offset between two reads.
func (t *Tail) rewritten(fi os.FileInfo) bool {
	if t.headN == 0 || fi.Size() < int64(t.headN) {
		return false
	}
	sum, err := headSum(t.f, t.headN)
	return err == nil && sum != t.head
}

// candidate is a file that may hold the log: the live one or a rotated one.
type candidate struct {
	name string
	id   fileID
	mod  int64
}

// candidates lists the live file and the rotated ones beside it
// (query.log.01, query.log.2026-11-05…, but not compressed ones), oldest
// first by modification time, the live one last.
func (t *Tail) candidates() ([]candidate, error) {
	names, err := filepath.Glob(globEscape(t.path) + ".*")
	if err != nil {
		return nil, err
	}
	var cs []candidate
	for _, n := range names {
		if strings.HasSuffix(n, ".gz") || strings.HasSuffix(n, ".zip") || strings.HasSuffix(n, ".tmp") {
			continue
		}
		fi, err := os.Stat(n)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		cs = append(cs, candidate{name: n, id: idOf(fi), mod: fi.ModTime().UnixNano()})
	}
	// Oldest first; files of the same time (a coarse clock) in log4j's
	// order, where .02 is older than .01.
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].mod != cs[j].mod {
			return cs[i].mod < cs[j].mod
		}
		return cs[i].name > cs[j].name
	})
	if fi, err := os.Stat(t.path); err == nil {
		cs = append(cs, candidate{name: t.path, id: idOf(fi), mod: math.MaxInt64})
	}
	return cs, nil
}

// globEscape quotes the glob metacharacters of a path.
func globEscape(p string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(p)
}

// Position returns where reading stands in the current file, at offset
// off (the agent passes the start of a pending entry, or the end of the
// last line read).
func (t *Tail) Position(off int64) (Position, error) {
	if t.f == nil {
		return Position{}, nil
	}
	fi, err := t.f.Stat()
	if err != nil {
		return Position{}, fmt.Errorf("reading query log %s: %w", t.f.Name(), err)
	}
	if t.headN < headLen {
		n := int(min(fi.Size(), headLen))
		if n != t.headN {
			sum, err := headSum(t.f, n)
			if err != nil {
				return Position{}, fmt.Errorf("reading query log %s: %w", t.f.Name(), err)
			}
			t.head, t.headN = sum, n
		}
	}
	return Position{
		Dev: t.id.dev, Inode: t.id.inode,
		HeadLen: t.headN, Head: t.head,
		Offset: off, ModTime: fi.ModTime().UnixNano(), Path: t.f.Name(),
	}, nil
}

// Offset returns the offset after the last line read in the current file.
func (t *Tail) Offset() int64 { return t.off }
