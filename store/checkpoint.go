package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A checkpoint is a commit that makes the engine's state restorable: the
// journal of what was counted since the last one and every series'
// cursor, and now and then a snapshot of every instance. Its writes follow
// what changed: the journal is one blob of a few bytes per instance and
// minute, the cursors one blob a source; the snapshots (a few KB an
// instance) are rewritten only every few hours.

// writeJournalBlob stores the cycle's journal as one blob.
func writeJournalBlob(ctx context.Context, tx *sql.Tx, inst *instanceIDs, c *Cycle) error {
	if len(c.Journal) == 0 {
		return nil
	}
	b := binary.AppendUvarint(make([]byte, 0, 8*len(c.Journal)), uint64(len(c.Journal)))
	var prevID, prevMinute int64
	for _, e := range c.Journal {
		id, err := inst.id(ctx, e.Instance)
		if err != nil {
			return fmt.Errorf("writing journal: %w", err)
		}
		b = binary.AppendVarint(b, id-prevID)
		b = binary.AppendVarint(b, e.Minute-prevMinute)
		for _, v := range [4]float64{e.Total, e.User, e.Ignore, e.Platform} {
			b = appendCount(b, v)
		}
		prevID, prevMinute = id, e.Minute
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO journal_blobs (time, entries) VALUES (?, ?)`, c.Time, b); err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	return nil
}

// journalEntry is a decoded journal entry with its instance's id.
type journalEntry struct {
	id                            int64
	minute                        int64
	total, user, ignore, platform float64
}

var errJournalBlob = errors.New("malformed journal blob")

func decodeJournal(b []byte, fn func(journalEntry)) error {
	r := countReader{b: b}
	n := r.uvarint()
	var e journalEntry
	for range n {
		e.id += r.varint()
		e.minute += r.varint()
		e.total, e.user, e.ignore, e.platform = r.count(), r.count(), r.count(), r.count()
		if r.err != nil {
			return r.err
		}
		fn(e)
	}
	if r.err == nil && len(r.b) > 0 {
		return errJournalBlob
	}
	return r.err
}

// forgetBare deletes the instances left with neither a snapshot nor a
// history.
func forgetBare(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE id NOT IN (SELECT instance FROM snapshots)
		AND NOT EXISTS (SELECT 1 FROM history h WHERE h.instance = instances.id)
		AND NOT EXISTS (SELECT 1 FROM history_codes c WHERE c.instance = instances.id)`); err != nil {
		return fmt.Errorf("forgetting instances: %w", err)
	}
	return nil
}

// seriesKey names one series of a source.
type seriesKey struct{ source, series string }

// writeCursorSets replaces each source's series cursors with one blob:
// per series its id, its time as a difference from the one before, and
// its value.
func (db *DB) writeCursorSets(ctx context.Context, tx *sql.Tx, c *Cycle, created map[seriesKey]int64) error {
	if len(c.CursorSets) == 0 {
		return nil
	}
	if db.series == nil {
		var err error
		if db.series, err = loadSeriesIDs(ctx, tx); err != nil {
			return err
		}
	}
	var insert *sql.Stmt
	defer func() {
		if insert != nil {
			insert.Close()
		}
	}()
	for source, set := range c.CursorSets {
		b := binary.AppendUvarint(make([]byte, 0, 14*len(set)), uint64(len(set)))
		var prevTS int64
		for _, cur := range set {
			if math.IsNaN(cur.Value) {
				return fmt.Errorf("cursor %s %s: value is NaN", source, cur.Series)
			}
			k := seriesKey{source, cur.Series}
			id, ok := db.series[k]
			if !ok {
				id, ok = created[k]
			}
			if !ok {
				if insert == nil {
					var err error
					if insert, err = tx.PrepareContext(ctx, `INSERT INTO series (source, key) VALUES (?, ?) RETURNING id`); err != nil {
						return fmt.Errorf("writing series cursors: %w", err)
					}
				}
				if err := insert.QueryRowContext(ctx, source, []byte(cur.Series)).Scan(&id); err != nil {
					return fmt.Errorf("adding series %s %s: %w", source, cur.Series, err)
				}
				created[k] = id
			}
			b = binary.AppendUvarint(b, uint64(id))
			b = binary.AppendVarint(b, cur.TS-prevTS)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(cur.Value))
			prevTS = cur.TS
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO cursor_sets (source, cursors) VALUES (?, ?)
			ON CONFLICT (source) DO UPDATE SET cursors = excluded.cursors`, source, b); err != nil {
			return fmt.Errorf("writing series cursors of %s: %w", source, err)
		}
		// The cursors of version 4, a row a series, are replaced by the set.
		if _, err := tx.ExecContext(ctx, `DELETE FROM series_cursors WHERE source = ?`, source); err != nil {
			return fmt.Errorf("writing series cursors of %s: %w", source, err)
		}
	}
	return nil
}

func loadSeriesIDs(ctx context.Context, q querier) (map[seriesKey]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, source, key FROM series`)
	if err != nil {
		return nil, fmt.Errorf("reading series: %w", err)
	}
	defer rows.Close()
	ids := map[seriesKey]int64{}
	for rows.Next() {
		var (
			id     int64
			source string
			key    []byte
		)
		if err := rows.Scan(&id, &source, &key); err != nil {
			return nil, fmt.Errorf("reading series: %w", err)
		}
		ids[seriesKey{source, string(key)}] = id
	}
	return ids, rows.Err()
}

func decodeCursorSet(source string, b []byte, keys map[int64]string, fn func(SeriesCursor)) error {
	r := countReader{b: b}
	n := r.uvarint()
	var ts int64
	for range n {
		id := int64(r.uvarint())
		ts += r.varint()
		v := r.float64()
		if r.err != nil {
			return r.err
		}
		key, ok := keys[id]
		if !ok {
			return fmt.Errorf("cursor of unknown series %d", id)
		}
		fn(SeriesCursor{Source: source, Series: key, TS: ts, Value: v})
	}
	return r.err
}

// appendCount writes a count as the history's minutes do: a whole number
// in [0, 2⁵²) as the uvarint of value<<1, anything else as the uvarint 1
// and its eight bytes.
func appendCount(b []byte, v float64) []byte {
	if v >= 0 && v < maxExactInt && v == math.Trunc(v) {
		return binary.AppendUvarint(b, uint64(v)<<1)
	}
	b = binary.AppendUvarint(b, 1)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// countReader reads the blobs of this file, remembering the first error.
type countReader struct {
	b   []byte
	err error
}

func (r *countReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errJournalBlob
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *countReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errJournalBlob
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *countReader) float64() float64 {
	if r.err != nil || len(r.b) < 8 {
		if r.err == nil {
			r.err = errJournalBlob
		}
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *countReader) count() float64 {
	u := r.uvarint()
	if u&1 == 0 {
		return float64(u >> 1)
	}
	return r.float64()
}
