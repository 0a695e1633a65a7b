package querylog

import "bytes"

// Parser turns the lines of a query log into entries. It reads both of
// Neo4j's formats, line by line, so a log that changes format (a server
// upgraded to JSON) needs no setting: a line that is a JSON object is a
// JSON entry; a line that starts with a time stamp starts a text entry,
// and the lines after it that do not are the rest of its query text.
//
// A text entry is complete only when the next one starts (its failure's
// message comes last, after a query text that may span lines), so the
// Parser holds it pending until then; Pending says from where the log must
// be read again for nothing to be lost.
type Parser struct {
	pending      Entry
	hasPending   bool
	pendingStart int64
	// Skipped counts lines that were neither an entry nor part of one.
	Skipped int
}

// Line reads one line (without its line break), which starts at offset
// start of its file, and calls emit for each entry it completes: none,
// one, or two (a pending text entry, then a JSON one).
func (p *Parser) Line(line []byte, start int64, emit func(Entry)) {
	line = bytes.TrimRight(line, "\r")
	if len(line) > 0 && line[0] == '{' {
		if e, counted, ok := parseJSON(line); ok {
			p.flushTo(emit)
			if counted {
				emit(e)
			}
			return
		}
	}
	h, ok := parseTextHeader(line)
	if !ok {
		switch {
		case p.hasPending:
			if c := findNeoCode(line); c != "" && p.pending.Failed {
				p.pending.Code = ChooseCode("", c)
			}
		case len(bytes.TrimSpace(line)) > 0:
			p.Skipped++
		}
		return
	}
	p.flushTo(emit)
	if !textEnd(h.message) {
		return
	}
	db := textDatabase(h.message)
	if db == "" {
		p.Skipped++
		return
	}
	e := Entry{Time: h.time, Database: db, Failed: string(h.level) == "ERROR"}
	if e.Failed {
		e.Code = ChooseCode("", findNeoCode(h.message))
	}
	p.pending, p.hasPending, p.pendingStart = e, true, start
}

func (p *Parser) flushTo(emit func(Entry)) {
	if e, ok := p.Flush(); ok {
		emit(e)
	}
}

// Flush returns the pending text entry, if any: at the end of a file, or
// when no more lines have come for a while (Neo4j writes an entry whole).
func (p *Parser) Flush() (Entry, bool) {
	if !p.hasPending {
		return Entry{}, false
	}
	e := p.pending
	p.pending, p.hasPending = Entry{}, false
	return e, true
}

// Pending reports whether a text entry is held, and the offset of its
// first line: after a restart the log must be read again from there.
func (p *Parser) Pending() (start int64, ok bool) { return p.pendingStart, p.hasPending }
