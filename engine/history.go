package engine

import (
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// The per-minute history: every instance's valid and bad events minute by
// minute, and its error codes hour by hour, written to the store once an
// hour is complete, for reports and postmortem exports. The engine keeps
// minutes exactly only for its last six hours; the history keeps them for
// historyRetention.
const (
	// historySettle is how long after an hour ends, by its source's
	// cursor, its history is written: the time a pushed batch or a late
	// scrape has to arrive.
	historySettle = 5 * time.Minute
	// historyReach is how many hours back a flush can take exactly: the
	// engine's fine ring holds six hours.
	historyReach = 6
	// historyExtra is how much longer than its longest SLO period the
	// history is kept: a postmortem of last week's incident still has the
	// whole period before it.
	historyExtra = 8 * 24 * time.Hour
)

const hourMS = int64(time.Hour / time.Millisecond)

// flushHistory adds to the pending cycle the complete hours of the
// history of every SLO read from f, now that f has been read through
// through (ms).
func (e *Engine) flushHistory(f *Feed, through int64) {
	for _, sp := range e.specsOf(f) {
		e.flushSLOHistory(sp, f, through)
	}
}

// FlushHistory adds to the pending cycle the hours of every SLO's history
// complete by its source's cursor, without waiting for late data: a stop
// writes them, since their codes are only in memory.
func (e *Engine) FlushHistory() {
	for _, f := range e.order {
		if f.Cursor > 0 {
			e.flushHistory(f, f.Cursor)
		}
	}
}

// flushSLOHistory adds to the pending cycle the hours of an SLO's history
// that are complete by through (ms), f's cursor, and not yet written: of
// the instances f owns, for an SLO that reads several sources, each of
// which has its own cursor.
func (e *Engine) flushSLOHistory(sp *burnrate.Spec, f *Feed, through int64) {
	next := through / hourMS // the first hour not complete
	name := historyKey(sp.SLO, f.Source.Name)
	// From the cursor, however far behind: whether an hour is still
	// held exactly is each instance's own question (Minutes), and after a
	// long stop the engine still holds the hours before it. A first start
	// takes what the engine can hold; nothing older than the retention.
	from := e.historyCursor[name]
	if from == 0 {
		from = next - historyReach
	}
	from = max(from, next-int64(HistoryRetention(e.cfg)/time.Hour))
	if from >= next {
		return
	}
	lost := 0
	for _, in := range sp.Instances() {
		if last := in.LastData(); (last > 0 && last <= from*hourMS) || !owns(f, sp, in) {
			continue // nothing since the hours to write, or another source's
		}
		for h := from; h < next; h++ {
			row, ok := e.HistoryHour(in, e.keyOf(in), h)
			if !ok {
				lost++
				continue
			}
			if !row.Empty() {
				e.pending.history = append(e.pending.history, row)
			}
		}
	}
	if lost > 0 {
		e.log.Warn("history hours no longer held exactly were not written", "slo", name, "hours", lost)
	}
	e.historyCursor[name] = next
	e.pending.historyCursors[name] = next
}

// HistoryHour is an instance's hour h as its history row, false when the
// engine no longer holds its minutes exactly.
func (e *Engine) HistoryHour(in *burnrate.Instance, key store.InstanceKey, h int64) (store.HistoryHour, bool) {
	row := store.HistoryHour{Instance: key, Hour: h}
	first := h * store.MinutesPerHour
	ok := in.Minutes(first, first+store.MinutesPerHour, func(k int64, c burnrate.Counts) {
		row.Valid[k-first-1], row.Bad[k-first-1] = c.Valid, c.Bad
	})
	if !ok {
		return row, false
	}
	for _, c := range e.router.HourCodes(in, h) {
		row.Codes = append(row.Codes, store.HourCode{Code: c.Code, Class: c.Class, Rule: c.Rule, Count: c.Count})
	}
	return row, true
}

// HistoryRetention is how long the history is kept: the longest period
// or window of any SLO, and historyExtra.
func HistoryRetention(cfg *slo.Config) time.Duration {
	d := time.Duration(0)
	for _, x := range cfg.SLOs {
		d = max(d, x.Window.Std())
		for _, p := range x.Pairs() {
			d = max(d, p.Long.Std())
		}
	}
	return d + historyExtra
}

// HistoryCursor is the hour before which an SLO's history is written (of
// every source, for an SLO that reads several).
func (e *Engine) HistoryCursor(sloName string) int64 {
	x := e.cfg.SLO(sloName)
	if x == nil || !x.MultiSource() {
		return e.historyCursor[sloName]
	}
	cursor := int64(-1)
	for _, src := range x.SourceNames() {
		if c := e.historyCursor[historyKey(x, src)]; cursor < 0 || c < cursor {
			cursor = c
		}
	}
	if cursor <= 0 {
		return e.historyCursor[x.Name] // an import's, if any
	}
	return cursor
}

// historyKey names an SLO's history cursor: the SLO's name, and for one
// reading several sources, the source's too (name@source).
func historyKey(x *slo.SLO, source string) string {
	if !x.MultiSource() || !x.Reads(source) {
		return x.Name
	}
	return x.Name + "@" + source
}
