package querylog

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// logFile is a query log being written by the test as Neo4j's log4j would.
type logFile struct {
	t    *testing.T
	path string
	n    int
}

func newLogFile(t *testing.T) *logFile {
	return &logFile{t: t, path: filepath.Join(t.TempDir(), "query.log")}
}

// line returns the next JSON success line, numbered in its database name.
func (l *logFile) line() string {
	l.n++
	return fmt.Sprintf(`{"time":"2026-11-05 10:%02d:%02d.000+0000","level":"INFO","type":"query","event":"success","database":"q%d","query":"RETURN 1"}`+"\n", l.n/60, l.n%60, l.n)
}

func (l *logFile) write(s string) {
	l.t.Helper()
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		l.t.Fatal(err)
	}
	f.Close()
}

func (l *logFile) lines(n int) {
	for range n {
		l.write(l.line())
	}
}

// rotate renames the live file as log4j's DefaultRolloverStrategy with
// fileIndex="min" does: .01 is the newest, the others move up.
func (l *logFile) rotate() {
	l.t.Helper()
	for i := 6; i >= 1; i-- {
		from := fmt.Sprintf("%s.%02d", l.path, i)
		if _, err := os.Stat(from); err == nil {
			if err := os.Rename(from, fmt.Sprintf("%s.%02d", l.path, i+1)); err != nil {
				l.t.Fatal(err)
			}
		}
	}
	if err := os.Rename(l.path, l.path+".01"); err != nil {
		l.t.Fatal(err)
	}
	// A later modification time for the next file, as a real clock gives.
	time.Sleep(2 * time.Millisecond)
}

// reader reads a Tail as the agent does and keeps the databases read.
type reader struct {
	t       *testing.T
	tail    *Tail
	got     []string
	lastEnd int64
}

func (r *reader) read() {
	r.t.Helper()
	var p Parser
	err := r.tail.Read(func(b []byte, start, end int64) error {
		p.Line(b, start, func(e Entry) { r.got = append(r.got, e.Database) })
		r.lastEnd = end
		return nil
	}, func() error { r.lastEnd = 0; return nil })
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *reader) position() Position {
	r.t.Helper()
	p, err := r.tail.Position(r.lastEnd)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func open(t *testing.T, path string, from Position) *reader {
	t.Helper()
	tl, err := Open(path, from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	return &reader{t: t, tail: tl, lastEnd: tl.Offset()}
}

func want(from, to int) []string {
	var w []string
	for i := from; i <= to; i++ {
		w = append(w, fmt.Sprintf("q%d", i))
	}
	return w
}

func TestTailFollowsRotationInTheMiddleOfAMinute(t *testing.T) {
	l := newLogFile(t)
	l.lines(3)
	r := open(t, l.path, Position{})
	r.read()
	l.lines(2) // written to the old file after the last read
	l.rotate()
	l.lines(2) // the new file, same minute
	r.read()
	if !reflect.DeepEqual(r.got, want(1, 7)) {
		t.Errorf("read %v, want every line once in order: %v", r.got, want(1, 7))
	}
	if r.tail.Rotations != 1 {
		t.Errorf("%d rotations counted, want 1", r.tail.Rotations)
	}
}

func TestTailLeavesAPartialLastLineForLater(t *testing.T) {
	l := newLogFile(t)
	l.lines(1)
	full := l.line()
	l.write(full[:40]) // log4j's buffer was flushed in the middle of a line
	r := open(t, l.path, Position{})
	r.read()
	if !reflect.DeepEqual(r.got, want(1, 1)) {
		t.Fatalf("read %v with a partial last line, want only %v", r.got, want(1, 1))
	}
	pos := r.position()
	l.write(full[40:])
	r.read()
	if !reflect.DeepEqual(r.got, want(1, 2)) {
		t.Errorf("read %v once the line was whole, want %v", r.got, want(1, 2))
	}
	// A restart from the position taken before the line was whole reads it.
	r2 := open(t, l.path, pos)
	r2.read()
	if !reflect.DeepEqual(r2.got, want(2, 2)) {
		t.Errorf("after a restart read %v, want %v", r2.got, want(2, 2))
	}
}

func TestTailReadsATruncatedFileFromItsStart(t *testing.T) {
	l := newLogFile(t)
	l.lines(5)
	r := open(t, l.path, Position{})
	r.read()
	if err := os.Truncate(l.path, 0); err != nil {
		t.Fatal(err)
	}
	l.lines(2)
	r.read()
	if !reflect.DeepEqual(r.got, want(1, 7)) {
		t.Errorf("read %v, want %v", r.got, want(1, 7))
	}
	if r.tail.Truncations != 1 {
		t.Errorf("%d truncations counted, want 1", r.tail.Truncations)
	}
}

func TestTailResumesAcrossRotationsWhileStopped(t *testing.T) {
	l := newLogFile(t)
	l.lines(4)
	r := open(t, l.path, Position{})
	r.read()
	pos := r.position()
	r.tail.Close()

	// While the agent is down: more lines, two rotations, more lines.
	l.lines(2)
	l.rotate()
	l.lines(3)
	l.rotate()
	l.lines(1)

	r2 := open(t, l.path, pos)
	r2.read()
	if !reflect.DeepEqual(r2.got, want(5, 10)) {
		t.Errorf("after a restart read %v, want exactly the lines after the position: %v", r2.got, want(5, 10))
	}
	if r2.tail.Lost {
		t.Errorf("the saved file was found as query.log.02, yet the position was reported lost")
	}
}

func TestTailTellsANewFileWithTheOldInodeFromTheOld(t *testing.T) {
	l := newLogFile(t)
	l.lines(3)
	r := open(t, l.path, Position{})
	r.read()
	pos := r.position()
	r.tail.Close()
	// The file is deleted and a new one written: it may get the same inode,
	// but its beginning differs, and it is read from its start.
	os.Remove(l.path)
	l.n = 100
	l.lines(4)
	r2 := open(t, l.path, pos)
	r2.read()
	if !reflect.DeepEqual(r2.got, want(101, 104)) {
		t.Errorf("read %v from a new file, want all of it: %v", r2.got, want(101, 104))
	}
}

func TestTailSkipsALineLongerThanTheLimit(t *testing.T) {
	l := newLogFile(t)
	l.lines(1)
	l.write(`{"time":"2026-11-05 10:00:02.000+0000","type":"query","event":"success","database":"huge","query":"` + string(make([]byte, 300<<10)) + "\"}\n")
	l.lines(1)
	r := open(t, l.path, Position{})
	r.tail.MaxLine = 200 << 10
	r.read()
	if !reflect.DeepEqual(r.got, []string{"q1", "q2"}) || r.tail.LongLines != 1 {
		t.Errorf("read %v with %d long lines, want [q1 q2] and one line skipped", r.got, r.tail.LongLines)
	}
}

func TestTailWaitsForAFileThatDoesNotExistYet(t *testing.T) {
	l := newLogFile(t)
	r := open(t, l.path, Position{})
	r.read()
	l.lines(2)
	r.read()
	if !reflect.DeepEqual(r.got, want(1, 2)) {
		t.Errorf("read %v, want %v", r.got, want(1, 2))
	}
}
