package store

import (
	"context"
	"fmt"
	"strings"
)

// SupersededPrefix begins the last error of an outbox entry that a newer
// decision replaced before it was delivered (state OutboxSkipped): on a
// replica that was standing by, or that took over leadership, whose
// outbox held what the other replica may already have delivered.
const SupersededPrefix = "superseded: "

// Superseded reports whether an entry was skipped as superseded.
func (e OutboxEntry) Superseded() bool {
	return e.State == OutboxSkipped && strings.HasPrefix(e.LastError, SupersededPrefix)
}

// PendingOutboxEntries returns every pending notification, oldest first,
// without its payload: what a takeover or a standby's trim decides on.
func (db *DB) PendingOutboxEntries(ctx context.Context) ([]OutboxEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, receiver, alert_id, seq, firing, state, attempts, next_attempt, last_error, created
		FROM outbox WHERE state = 'pending' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		if err := rows.Scan(&e.ID, &e.Receiver, &e.AlertID, &e.Seq, &e.Firing, &e.State, &e.Attempts, &e.NextAttempt, &e.LastError, &e.Created); err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Supersede marks pending entries done without sending them, each with
// its reason (SupersededPrefix and why), in one transaction. An entry no
// longer pending is left as it is.
func (db *DB) Supersede(ctx context.Context, now int64, why map[int64]string) error {
	if len(why) == 0 {
		return nil
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("superseding outbox entries: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE outbox SET state = 'skipped', last_error = ?, done = ? WHERE id = ? AND state = 'pending'`)
	if err != nil {
		return fmt.Errorf("superseding outbox entries: %w", err)
	}
	defer st.Close()
	for id, reason := range why {
		if _, err := st.ExecContext(ctx, SupersededPrefix+reason, now, id); err != nil {
			return fmt.Errorf("superseding outbox entry %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("superseding outbox entries: %w", err)
	}
	return nil
}
