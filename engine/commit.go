package engine

import (
	"cmp"
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// pending is what the engine changed and the store has not committed yet.
// A failed commit keeps it for the next.
type pending struct {
	// Since the last cycle committed:
	alerts         map[string]store.AlertState
	records        []store.TransitionRecord
	transitions    []burnrate.Transition
	outbox         []store.OutboxEntry
	history        []store.HistoryHour
	historyCursors map[string]int64
	evaluated      map[string]int64
	consumed       []int64
	// Since the last checkpoint committed:
	journal journal
}

// journal gathers the increases counted since the last checkpoint: per
// instance (by its ordinal) the minute being counted, and the minutes done.
type journal struct {
	open []journalMinute
	done []journalEntry
}

type journalMinute struct {
	minute int64 // 0: none
	ev     burnrate.Events
}

type journalEntry struct {
	in     *burnrate.Instance
	minute int64
	ev     burnrate.Events
}

// add counts an increase of an instance in minute k. Minutes of an
// instance come mostly in order; one that comes back later is another
// entry for the same minute, which the store adds up.
func (j *journal) add(in *burnrate.Instance, k int64, ev burnrate.Events) {
	if in.Ordinal >= len(j.open) {
		j.open = append(j.open, make([]journalMinute, in.Ordinal+1-len(j.open))...)
	}
	m := &j.open[in.Ordinal]
	if m.minute == k {
		m.ev = m.ev.Add(ev)
		return
	}
	if m.minute != 0 {
		j.done = append(j.done, journalEntry{in, m.minute, m.ev})
	}
	*m = journalMinute{k, ev}
}

// entries are everything gathered, the open minutes too.
func (j *journal) entries(all []*burnrate.Instance) []journalEntry {
	out := j.done
	for i, m := range j.open {
		if m.minute != 0 && i < len(all) {
			out = append(out, journalEntry{all[i], m.minute, m.ev})
		}
	}
	return out
}

// clear empties the journal, keeping its memory.
func (j *journal) clear() {
	clear(j.open)
	j.done = j.done[:0]
}

// size is how many entries the journal holds, about.
func (j *journal) size() int { return len(j.done) + len(j.open) }

func (p *pending) reset() {
	journal := p.journal
	*p = pending{
		alerts:         map[string]store.AlertState{},
		historyCursors: map[string]int64{},
		evaluated:      map[string]int64{},
		journal:        journal,
	}
}

// addJournal notes an increase counted, for the next checkpoint.
func (e *Engine) addJournal(in *burnrate.Instance, ts int64, ev burnrate.Events) {
	e.pending.journal.add(in, burnrate.MinuteOf(ts), ev)
}

// AddOutbox adds notifications to the pending cycle, to be committed with
// its transitions.
func (e *Engine) AddOutbox(entries ...store.OutboxEntry) {
	e.pending.outbox = append(e.pending.outbox, entries...)
}

// PendingOutbox is the notifications the pending cycle holds.
func (e *Engine) PendingOutbox() []store.OutboxEntry { return e.pending.outbox }

// Kind is what a cycle writes besides what is new to the record.
type Kind uint8

const (
	// Record writes the transitions, alert states, outbox, history and
	// how far each source is evaluated: what a cycle changes for the
	// record. A restart reads the sources again from the last checkpoint.
	Record Kind = iota
	// Checkpoint also writes the journal of what was counted since the
	// last one, every series' cursor and each source's read cursor.
	Checkpoint
	// Snapshot writes every instance's whole state instead of the journal.
	Snapshot
)

// Cycle is what the store must commit for the pending changes, as of time
// at (ms). A Checkpoint is taken as a Snapshot while the engine has not
// written one since it started.
func (e *Engine) Cycle(at int64, kind Kind) store.Cycle {
	p := &e.pending
	c := store.Cycle{
		Time:           max(at, e.lastCommit+1),
		Transitions:    p.records,
		Outbox:         p.outbox,
		History:        p.history,
		HistoryCursors: p.historyCursors,
		Evaluated:      p.evaluated,
		Consumed:       p.consumed,
	}
	for _, a := range p.alerts {
		c.Alerts = append(c.Alerts, a)
	}
	slices.SortFunc(c.Alerts, func(a, b store.AlertState) int { return cmp.Compare(a.ID, b.ID) })
	if kind == Record || e.backfilling() {
		// No checkpoint while a backfill is under way: its counts are not
		// journalled, and a checkpoint would move its source's cursor past
		// what the store holds.
		return c
	}
	if e.needSnapshot {
		kind = Snapshot
	}
	c.SourceCursors = map[string]int64{}
	for _, f := range e.order {
		if f.Cursor > 0 {
			c.SourceCursors[f.Source.Name] = f.Cursor
		}
	}
	c.CursorSets = e.cursorSets()
	if kind == Snapshot {
		c.Snapshots = e.snapshots()
	} else {
		c.Journal = e.journalEntries()
	}
	return c
}

// backfilling reports whether a source's backfill is under way.
func (e *Engine) backfilling() bool {
	for _, f := range e.order {
		if f.Backfilling {
			return true
		}
	}
	return false
}

// CheckpointDue reports whether the next commit must be a checkpoint: a
// backfill ended, and its counts are in memory only.
func (e *Engine) CheckpointDue() bool { return e.needSnapshot && !e.backfilling() }

// cursorSets are every series' last sample, by source.
func (e *Engine) cursorSets() map[string][]store.SeriesCursor {
	sets := map[string][]store.SeriesCursor{}
	for _, f := range e.order {
		if f.Source.Events == nil && f.Cursor > 0 {
			sets[f.Source.Name] = nil
		}
	}
	e.router.EachSeries(func(s *ingest.Series) {
		ts, v, ok := s.Cursor()
		if !ok {
			return // pushed counts, which have no cursor
		}
		src := s.Source()
		if set, ok := sets[src]; ok {
			sets[src] = append(set, store.SeriesCursor{Source: src, Series: s.Key(), TS: ts, Value: v})
		}
	})
	return sets
}

// journalEntries are the increases counted since the last checkpoint, in
// instance and minute order.
func (e *Engine) journalEntries() []store.JournalEntry {
	entries := e.pending.journal.entries(e.router.Instances())
	out := make([]store.JournalEntry, 0, len(entries))
	for _, j := range entries {
		out = append(out, store.JournalEntry{
			Instance: e.keyOf(j.in), Minute: j.minute,
			Total: j.ev.Total, User: j.ev.User, Ignore: j.ev.Ignore, Platform: j.ev.Platform,
		})
	}
	slices.SortFunc(out, func(a, b store.JournalEntry) int {
		return cmp.Or(compareKeys(a.Instance, b.Instance), cmp.Compare(a.Minute, b.Minute))
	})
	return out
}

// snapshots are every instance's whole state. An instance without data
// for its whole period and its longest window (a tenant deleted long ago)
// has nothing left to say: it is not kept, and is gone at the next start.
func (e *Engine) snapshots() []store.Snapshot {
	now := e.now().UnixMilli()
	var out []store.Snapshot
	for _, in := range e.router.Instances() {
		idle := now - in.LastData()
		if !e.importing && idle > forgetAfter(in.Spec.SLO).Milliseconds() &&
			in.Alert(slo.Page).State != burnrate.Firing && in.Alert(slo.Ticket).State != burnrate.Firing {
			continue
		}
		state, err := in.MarshalBinary()
		if err != nil {
			continue // cannot fail: the instance writes to memory
		}
		k := e.keyOf(in)
		out = append(out, store.Snapshot{Instance: k, Labels: k.Key, State: state})
	}
	return out
}

// forgetAfter is how long an instance may go without data before a
// snapshot drops it: its SLO's period or longest window, whichever is
// longer.
func forgetAfter(x *slo.SLO) time.Duration {
	d := x.Window.Std()
	for _, p := range x.Pairs() {
		d = max(d, p.Long.Std())
	}
	return d
}

// Committed tells the engine that the store committed c: what it held is
// no longer pending.
func (e *Engine) Committed(c store.Cycle) {
	e.lastCommit = c.Time
	p := &e.pending
	if c.SourceCursors != nil {
		// A checkpoint: the journal is in.
		p.journal.clear()
	}
	// The pushed batches counted are marked so in the store.
	for _, f := range e.order {
		clear(f.counted)
	}
	if len(c.Snapshots) > 0 {
		e.needSnapshot = false
	}
	p.reset()
}

// Pending reports whether the pending cycle holds anything to commit.
func (e *Engine) Pending() bool {
	p := &e.pending
	return len(p.records) > 0 || len(p.alerts) > 0 || len(p.outbox) > 0 || len(p.history) > 0 ||
		len(p.historyCursors) > 0 || len(p.evaluated) > 0 || len(p.consumed) > 0
}

// Transitions are the pending cycle's transitions, in order.
func (e *Engine) Transitions() []burnrate.Transition { return e.pending.transitions }

// Retention of what the store keeps, judged by the clock: nothing while
// importing a recording, whose time is its own.
type Retention struct {
	Transitions, Tidy, History int64 // ms: prune before these; 0: keep
}

// Retention is what the store may prune now.
func (e *Engine) Retention() Retention {
	if e.importing {
		return Retention{}
	}
	now := e.now()
	return Retention{
		Transitions: now.Add(-transitionRetention).UnixMilli(),
		Tidy:        now.Add(-tidyAfter).UnixMilli(),
		History:     now.Add(-HistoryRetention(e.cfg)).UnixMilli() / hourMS,
	}
}
