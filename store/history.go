package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MinutesPerHour is the number of minute buckets in one history row.
const MinutesPerHour = 60

// HistoryHour is one SLO instance's events in one hour, minute by minute,
// and the error codes it counted in that hour. Hour h holds the minute
// buckets 60h+1 … 60h+60, that is the samples with time in
// (h hours, h+1 hours] since the epoch, as the engine's minutes do.
type HistoryHour struct {
	Instance InstanceKey
	Hour     int64
	// Valid and Bad are the events of each minute: Valid[i] belongs to the
	// minute bucket 60·Hour + i + 1.
	Valid, Bad [MinutesPerHour]float64
	// Codes are the hour's errors by code. A flush of an hour replaces the
	// codes stored for it.
	Codes []HourCode
}

// HourCode is how many errors of one code an instance counted in an hour.
type HourCode struct {
	Code, Class, Rule string
	Count             float64
}

// Empty reports whether the hour counted nothing.
func (h *HistoryHour) Empty() bool {
	for i := range h.Valid {
		if h.Valid[i] != 0 || h.Bad[i] != 0 {
			return false
		}
	}
	return len(h.Codes) == 0
}

// The minutes blob holds 120 values, valid then bad of each minute. A value
// that is a whole number in [0, 2⁵²) is the uvarint of value<<1, one byte
// for a quiet minute and two or three for a busy one; any other value is
// the uvarint 1 followed by its eight IEEE 754 bytes, so every float64
// comes back exactly.
const maxExactInt = 1 << 52

func encodeMinutes(h *HistoryHour) []byte {
	b := make([]byte, 0, 3*2*MinutesPerHour)
	put := func(v float64) {
		if v >= 0 && v < maxExactInt && v == math.Trunc(v) {
			b = binary.AppendUvarint(b, uint64(v)<<1)
			return
		}
		b = binary.AppendUvarint(b, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for i := range h.Valid {
		put(h.Valid[i])
		put(h.Bad[i])
	}
	return b
}

var errMinutesBlob = errors.New("malformed minutes")

func decodeMinutes(b []byte, h *HistoryHour) error {
	get := func() (float64, error) {
		u, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errMinutesBlob
		}
		b = b[n:]
		if u&1 == 0 {
			return float64(u >> 1), nil
		}
		if u != 1 || len(b) < 8 {
			return 0, errMinutesBlob
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
		return v, nil
	}
	var err error
	for i := range h.Valid {
		if h.Valid[i], err = get(); err != nil {
			return err
		}
		if h.Bad[i], err = get(); err != nil {
			return err
		}
	}
	if len(b) != 0 {
		return errMinutesBlob
	}
	return nil
}

// writeHistory stores the cycle's history hours, each replacing what was
// stored for its instance and hour, and the history cursors.
func writeHistory(ctx context.Context, tx *sql.Tx, inst *instanceIDs, c *Cycle) error {
	if len(c.History) > 0 {
		rows, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO history (instance, hour, minutes) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("writing history: %w", err)
		}
		defer rows.Close()
		clear, err := tx.PrepareContext(ctx, `DELETE FROM history_codes WHERE instance = ? AND hour = ?`)
		if err != nil {
			return fmt.Errorf("writing history: %w", err)
		}
		defer clear.Close()
		codes, err := tx.PrepareContext(ctx, `INSERT INTO history_codes (instance, hour, code, class, rule, count) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (instance, hour, code) DO UPDATE SET count = count + excluded.count`)
		if err != nil {
			return fmt.Errorf("writing history: %w", err)
		}
		defer codes.Close()
		for i := range c.History {
			h := &c.History[i]
			id, err := inst.id(ctx, h.Instance)
			if err != nil {
				return fmt.Errorf("writing history: %w", err)
			}
			if _, err := rows.ExecContext(ctx, id, h.Hour, encodeMinutes(h)); err != nil {
				return fmt.Errorf("writing history of %s/%q hour %d: %w", h.Instance.SLO, h.Instance.Key, h.Hour, err)
			}
			if _, err := clear.ExecContext(ctx, id, h.Hour); err != nil {
				return fmt.Errorf("writing history codes: %w", err)
			}
			for _, hc := range h.Codes {
				if _, err := codes.ExecContext(ctx, id, h.Hour, hc.Code, hc.Class, hc.Rule, hc.Count); err != nil {
					return fmt.Errorf("writing history code %q of %s/%q: %w", hc.Code, h.Instance.SLO, h.Instance.Key, err)
				}
			}
		}
	}
	for slo, hour := range c.HistoryCursors {
		if _, err := tx.ExecContext(ctx, `INSERT INTO history_cursors (slo, hour) VALUES (?, ?)
			ON CONFLICT (slo) DO UPDATE SET hour = excluded.hour`, slo, hour); err != nil {
			return fmt.Errorf("writing history cursor of %s: %w", slo, err)
		}
	}
	return nil
}

func validateHistory(h *HistoryHour) error {
	for i := range h.Valid {
		if math.IsNaN(h.Valid[i]) || math.IsNaN(h.Bad[i]) {
			return fmt.Errorf("history of %s/%q hour %d minute %d: a count is NaN", h.Instance.SLO, h.Instance.Key, h.Hour, i)
		}
	}
	for _, c := range h.Codes {
		if math.IsNaN(c.Count) {
			return fmt.Errorf("history of %s/%q hour %d code %q: the count is NaN", h.Instance.SLO, h.Instance.Key, h.Hour, c.Code)
		}
	}
	return nil
}

func loadHistoryCursors(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT slo, hour FROM history_cursors`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.HistoryCursors = make(map[string]int64)
	for rows.Next() {
		var slo string
		var hour int64
		if err := rows.Scan(&slo, &hour); err != nil {
			return err
		}
		s.HistoryCursors[slo] = hour
	}
	return rows.Err()
}

// HistoryInstances lists the instances of an SLO that have history in the
// hours [from, to), in key order.
func (db *DB) HistoryInstances(ctx context.Context, slo string, from, to int64) ([]InstanceKey, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT i.key FROM instances i
		WHERE i.slo = ? AND EXISTS (SELECT 1 FROM history h WHERE h.instance = i.id AND h.hour >= ? AND h.hour < ?)
		ORDER BY i.key`, slo, from, to)
	if err != nil {
		return nil, fmt.Errorf("store: listing the instances with history: %w", err)
	}
	defer rows.Close()
	var out []InstanceKey
	for rows.Next() {
		var key []byte
		if err := rows.Scan(&key); err != nil {
			return nil, fmt.Errorf("store: listing the instances with history: %w", err)
		}
		out = append(out, InstanceKey{SLO: slo, Key: string(key)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: listing the instances with history: %w", err)
	}
	return out, nil
}

// History calls fn for each stored hour of an instance in [from, to), in
// hour order, reading as it goes; hours without a row counted nothing.
// The hours' Codes are not filled in: HistoryCodes sums them.
func (db *DB) History(ctx context.Context, k InstanceKey, from, to int64, fn func(*HistoryHour) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT h.hour, h.minutes FROM history h JOIN instances i ON i.id = h.instance
		WHERE i.slo = ? AND i.key = ? AND h.hour >= ? AND h.hour < ? ORDER BY h.hour`, k.SLO, []byte(k.Key), from, to)
	if err != nil {
		return fmt.Errorf("store: reading the history of %s %s: %w", k.SLO, k.Key, err)
	}
	defer rows.Close()
	h := HistoryHour{Instance: k}
	var blob sql.RawBytes // the driver's bytes, valid until Next: decoded at once, not copied
	for rows.Next() {
		if err := rows.Scan(&h.Hour, &blob); err != nil {
			return fmt.Errorf("store: reading the history of %s %s: %w", k.SLO, k.Key, err)
		}
		if err := decodeMinutes(blob, &h); err != nil {
			return fmt.Errorf("store: reading the history of %s %s hour %d: %w", k.SLO, k.Key, h.Hour, err)
		}
		if err := fn(&h); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading the history of %s %s: %w", k.SLO, k.Key, err)
	}
	return nil
}

// CodeTotal is the errors of one code an instance counted over some hours.
type CodeTotal struct {
	Instance          InstanceKey
	Code, Class, Rule string
	Count             float64
}

// HistoryCodes calls fn with the errors of each (instance, code) of an SLO
// over the hours [from, to); with key set, of that instance alone. Codes
// come in instance order, then code order.
func (db *DB) HistoryCodes(ctx context.Context, slo string, key *string, from, to int64, fn func(CodeTotal) error) error {
	q := `SELECT i.key, c.code, c.class, c.rule, SUM(c.count) FROM history_codes c JOIN instances i ON i.id = c.instance
		WHERE i.slo = ? AND c.hour >= ? AND c.hour < ?`
	args := []any{slo, from, to}
	if key != nil {
		q += ` AND i.key = ?`
		args = append(args, []byte(*key))
	}
	q += ` GROUP BY i.key, c.code, c.class, c.rule ORDER BY i.key, c.code`
	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: reading the error codes of %s: %w", slo, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t CodeTotal
		var k []byte
		if err := rows.Scan(&k, &t.Code, &t.Class, &t.Rule, &t.Count); err != nil {
			return fmt.Errorf("store: reading the error codes of %s: %w", slo, err)
		}
		t.Instance = InstanceKey{SLO: slo, Key: string(k)}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading the error codes of %s: %w", slo, err)
	}
	return nil
}

// PruneHistory deletes the history of the hours before before.
func (db *DB) PruneHistory(ctx context.Context, before int64) error {
	for _, q := range []string{`DELETE FROM history WHERE hour < ?`, `DELETE FROM history_codes WHERE hour < ?`} {
		if _, err := db.w.ExecContext(ctx, q, before); err != nil {
			return fmt.Errorf("store: pruning history before hour %d: %w", before, err)
		}
	}
	return nil
}
