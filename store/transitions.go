package store

import (
	"context"
	"fmt"
)

// Transitions calls fn for every logged transition with from <= Time < to, in
// time order (and Seq order within a time), reading as it goes. An error from
// fn stops the walk and is returned as it is.
func (db *DB) Transitions(ctx context.Context, from, to int64, fn func(TransitionRecord) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT seq, time, alert_id, line FROM transitions
		WHERE time >= ? AND time < ? ORDER BY time, seq`, from, to)
	if err != nil {
		return fmt.Errorf("store: reading transitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TransitionRecord
		if err := rows.Scan(&t.Seq, &t.Time, &t.AlertID, &t.JSON); err != nil {
			return fmt.Errorf("store: reading transitions: %w", err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading transitions: %w", err)
	}
	return nil
}

// Prune deletes the transitions with Time before before. Their sequence
// numbers are not reused.
func (db *DB) Prune(ctx context.Context, before int64) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM transitions WHERE time < ?`, before); err != nil {
		return fmt.Errorf("store: pruning transitions before %d: %w", before, err)
	}
	return nil
}
