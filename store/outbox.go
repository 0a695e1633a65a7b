package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Outbox states.
const (
	OutboxPending  = "pending"  // to be delivered
	OutboxSent     = "sent"     // delivered
	OutboxDead     = "dead"     // refused for good by the receiver
	OutboxSkipped  = "skipped"  // a resolve whose trigger was never delivered
	OutboxSilenced = "silenced" // a silence or maintenance window matched
)

// NoTransition is the Transition of an outbox entry that no transition of
// its cycle made: a trigger held by a silence, released when the silence
// ended while the alert still fires.
const NoTransition = -1

// OutboxEntry is one notification for one receiver.
type OutboxEntry struct {
	ID       int64 // assigned by Commit
	Receiver string
	AlertID  string
	// Transition is, when written, the index of its transition in the
	// cycle's Transitions; Seq, when read, that transition's number.
	Transition  int
	Seq         int64
	Firing      bool
	Payload     []byte // the notification, JSON
	State       string
	Attempts    int
	NextAttempt int64 // ms
	LastError   string
	Created     int64 // ms
}

func writeOutbox(ctx context.Context, tx *sql.Tx, c *Cycle, seqs []int64) error {
	if len(c.Outbox) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO outbox (receiver, alert_id, seq, firing, payload, state, next_attempt, last_error, created, done)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("writing the outbox: %w", err)
	}
	defer st.Close()
	for i := range c.Outbox {
		e := &c.Outbox[i]
		var seq int64 // 0: a notification of no new transition (a held trigger released)
		switch {
		case e.Transition == NoTransition:
		case e.Transition < 0 || e.Transition >= len(seqs):
			return fmt.Errorf("outbox entry for %s names transition %d of %d", e.AlertID, e.Transition, len(seqs))
		default:
			seq = seqs[e.Transition]
		}
		state := e.State
		if state == "" {
			state = OutboxPending
		}
		var done int64
		if state != OutboxPending {
			done = c.Time
		}
		res, err := st.ExecContext(ctx, e.Receiver, e.AlertID, seq, e.Firing, nonNil(e.Payload), state, c.Time, e.LastError, c.Time, done)
		if err != nil {
			return fmt.Errorf("writing the outbox entry of alert %s: %w", e.AlertID, err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

// DueOutbox returns up to limit pending notifications due at now: for
// each receiver and alert only the oldest pending one, so that a trigger
// and its resolve are delivered in order.
func (db *DB) DueOutbox(ctx context.Context, now int64, limit int) ([]OutboxEntry, error) {
	return db.queryOutbox(ctx, `
		WHERE o.state = 'pending' AND o.next_attempt <= ?
		  AND NOT EXISTS (SELECT 1 FROM outbox p
		                  WHERE p.receiver = o.receiver AND p.alert_id = o.alert_id
		                    AND p.state = 'pending' AND p.id < o.id)
		ORDER BY o.id LIMIT ?`, now, limit)
}

// DueOutboxFor is DueOutbox for one receiver.
func (db *DB) DueOutboxFor(ctx context.Context, receiver string, now int64, limit int) ([]OutboxEntry, error) {
	return db.queryOutbox(ctx, `
		WHERE o.state = 'pending' AND o.receiver = ? AND o.next_attempt <= ?
		  AND NOT EXISTS (SELECT 1 FROM outbox p
		                  WHERE p.receiver = o.receiver AND p.alert_id = o.alert_id
		                    AND p.state = 'pending' AND p.id < o.id)
		ORDER BY o.id LIMIT ?`, receiver, now, limit)
}

// NextDue returns when the earliest pending notification is due (ms);
// false when none is pending.
func (db *DB) NextDue(ctx context.Context) (int64, bool, error) {
	var next sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT min(next_attempt) FROM outbox WHERE state = 'pending'`).Scan(&next); err != nil {
		return 0, false, fmt.Errorf("reading the outbox: %w", err)
	}
	return next.Int64, next.Valid, nil
}

// PendingOutbox returns, per receiver, how many notifications are pending
// and when the oldest of them was made (ms).
func (db *DB) PendingOutbox(ctx context.Context) (map[string]PendingCount, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT receiver, count(*), min(created) FROM outbox WHERE state = 'pending' GROUP BY receiver`)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	out := map[string]PendingCount{}
	for rows.Next() {
		var (
			name string
			c    PendingCount
		)
		if err := rows.Scan(&name, &c.N, &c.Oldest); err != nil {
			return nil, fmt.Errorf("reading the outbox: %w", err)
		}
		out[name] = c
	}
	return out, rows.Err()
}

// PendingCount is how many notifications of a receiver are pending, and
// when the oldest was made (ms).
type PendingCount struct {
	N      int
	Oldest int64
}

// UpdateOutbox records an attempt: the entry's state, attempts, next
// attempt and last error.
func (db *DB) UpdateOutbox(ctx context.Context, e OutboxEntry, now int64) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	var done int64
	if e.State != OutboxPending {
		done = now
	}
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, last_error = ?, done = ? WHERE id = ?`,
		e.State, e.Attempts, e.NextAttempt, e.LastError, done, e.ID)
	if err != nil {
		return fmt.Errorf("updating outbox entry %d: %w", e.ID, err)
	}
	return nil
}

// TriggerSent reports whether the trigger before a resolve (the latest
// firing entry of the same receiver and alert before id) was delivered,
// or may have been: a trigger superseded on a replica standing by was
// the leader's to deliver, so its resolve is sent (a receiver absorbs a
// resolve of an incident it never opened).
func (db *DB) TriggerSent(ctx context.Context, receiver, alertID string, id int64) (bool, error) {
	var state, lastError string
	err := db.r.QueryRowContext(ctx, `SELECT state, last_error FROM outbox WHERE receiver = ? AND alert_id = ? AND firing = 1 AND id < ? ORDER BY id DESC LIMIT 1`,
		receiver, alertID, id).Scan(&state, &lastError)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the outbox: %w", err)
	}
	return state == OutboxSent || (OutboxEntry{State: state, LastError: lastError}).Superseded(), nil
}

// OutboxCounts returns how many entries are in each state.
func (db *DB) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// FiringDelivered returns, for a receiver, the delivered triggers of the
// alerts still firing there: for each alert whose latest notification to
// the receiver is a trigger that was sent. Receivers that forget an alert
// unless it is re-posted (Alertmanager) get these again.
func (db *DB) FiringDelivered(ctx context.Context, receiver string) ([]OutboxEntry, error) {
	return db.queryOutbox(ctx, `
		WHERE o.receiver = ? AND o.firing = 1 AND o.state = 'sent'
		  AND o.id = (SELECT max(p.id) FROM outbox p WHERE p.receiver = o.receiver AND p.alert_id = o.alert_id)
		ORDER BY o.id`, receiver)
}

// HeldTriggers returns the triggers a silence or maintenance window held
// that are still their alert's latest notification to their receiver: if
// the alert still fires once the silence is over, they are due.
func (db *DB) HeldTriggers(ctx context.Context) ([]OutboxEntry, error) {
	return db.queryOutbox(ctx, `
		WHERE o.state = 'silenced' AND o.firing = 1
		  AND o.id = (SELECT max(p.id) FROM outbox p WHERE p.receiver = o.receiver AND p.alert_id = o.alert_id)
		ORDER BY o.id`)
}

// queryOutbox reads the outbox entries that where (a WHERE clause and what
// follows, on the outbox as o) selects.
func (db *DB) queryOutbox(ctx context.Context, where string, args ...any) ([]OutboxEntry, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT o.id, o.receiver, o.alert_id, o.seq, o.firing, o.payload, o.state, o.attempts, o.next_attempt, o.last_error, o.created FROM outbox o `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		if err := rows.Scan(&e.ID, &e.Receiver, &e.AlertID, &e.Seq, &e.Firing, &e.Payload, &e.State, &e.Attempts, &e.NextAttempt, &e.LastError, &e.Created); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Tidy drops what no longer matters, so that tenant churn does not grow
// the file for ever: delivered, dead, skipped or silenced notifications
// that left the queue before before, except the latest trigger and the
// latest resolve of each receiver and alert (a resolve still asks whether
// its trigger went out); and the states of alerts not firing that last
// changed before before. Series cursors stay: a series that comes back
// after a long pause must be measured from its last value, not from zero.
func (db *DB) Tidy(ctx context.Context, before int64) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, err := db.w.ExecContext(ctx, `
		DELETE FROM outbox
		WHERE state != 'pending' AND done < ?
		  AND id NOT IN (SELECT max(id) FROM outbox GROUP BY receiver, alert_id, firing)`, before); err != nil {
		return fmt.Errorf("tidying the outbox: %w", err)
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM alerts WHERE state != 'firing' AND since < ?`, before); err != nil {
		return fmt.Errorf("tidying alert states: %w", err)
	}
	return nil
}

// NotificationRecord is an outbox entry as a postmortem's timeline reads it.
type NotificationRecord struct {
	Receiver, State, LastError string
	Attempts                   int
	Firing                     bool
	Created, Done              int64 // ms; Done is 0 while pending
	Payload                    []byte
}

// At is when the notification last changed: when it left the queue, or
// when it was queued while it is still pending.
func (n NotificationRecord) At() int64 {
	if n.Done > 0 {
		return n.Done
	}
	return n.Created
}

// Notifications calls fn for every notification whose At falls in
// [from, to), in At order, reading as it goes. Tidy drops finished
// notifications after a while, so an old window may have none.
func (db *DB) Notifications(ctx context.Context, from, to int64, fn func(NotificationRecord) error) error {
	rows, err := db.r.QueryContext(ctx, `SELECT receiver, state, last_error, attempts, firing, created, done, payload,
		CASE WHEN done > 0 THEN done ELSE created END AS at
		FROM outbox WHERE at >= ? AND at < ? ORDER BY at, id`, from, to)
	if err != nil {
		return fmt.Errorf("store: reading notifications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n NotificationRecord
		var at int64
		if err := rows.Scan(&n.Receiver, &n.State, &n.LastError, &n.Attempts, &n.Firing, &n.Created, &n.Done, &n.Payload, &at); err != nil {
			return fmt.Errorf("store: reading notifications: %w", err)
		}
		if err := fn(n); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading notifications: %w", err)
	}
	return nil
}
