package store

import (
	"context"
	"fmt"
)

// SilenceRecord is a silence as the store keeps it: its JSON, opaque here.
type SilenceRecord struct {
	ID   string
	Ends int64 // ms
	Body []byte
}

// PutSilence creates or replaces a silence.
func (db *DB) PutSilence(ctx context.Context, s SilenceRecord) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	_, err := db.w.ExecContext(ctx, `INSERT INTO silences (id, ends, body) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ends = excluded.ends, body = excluded.body`, s.ID, s.Ends, nonNil(s.Body))
	if err != nil {
		return fmt.Errorf("writing silence %s: %w", s.ID, err)
	}
	return nil
}

// DeleteSilence removes a silence; it reports whether there was one.
func (db *DB) DeleteSilence(ctx context.Context, id string) (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	res, err := db.w.ExecContext(ctx, `DELETE FROM silences WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("deleting silence %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Silences returns every silence that ends after since.
func (db *DB) Silences(ctx context.Context, since int64) ([]SilenceRecord, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, ends, body FROM silences WHERE ends > ? ORDER BY id`, since)
	if err != nil {
		return nil, fmt.Errorf("reading silences: %w", err)
	}
	defer rows.Close()
	var out []SilenceRecord
	for rows.Next() {
		var s SilenceRecord
		if err := rows.Scan(&s.ID, &s.Ends, &s.Body); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
