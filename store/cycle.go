package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// InstanceKey names one SLO instance.
type InstanceKey struct {
	SLO string
	// Key is the instance's identity within the SLO; opaque, any bytes.
	Key string
}

// Snapshot is the full state of one SLO instance as of a cycle.
type Snapshot struct {
	Instance InstanceKey
	Labels   string // JSON object
	State    []byte // opaque: the engine's marshalled state
}

// JournalEntry is what one cycle counted for one instance in one minute. Two
// cycles may both count in the same minute: the entries add up.
type JournalEntry struct {
	Instance                      InstanceKey
	Minute                        int64
	Total, User, Ignore, Platform float64
}

// SeriesCursor is the last sample read of one series of a source, from which
// the next delta is computed.
type SeriesCursor struct {
	Source string
	Series string  // canonical labels text
	TS     int64   // ms
	Value  float64 // not NaN
}

// Alert states, as AlertState.State holds them.
const (
	StateInactive = "inactive"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// AlertState is the state of one alert (one SLO, instance and severity).
type AlertState struct {
	ID                   string
	SLO, Alert, Severity string
	Labels               string // JSON object
	State                string // StateInactive, StateFiring or StateResolved
	Since                int64  // ms
}

// TransitionRecord is one line of the transition log.
type TransitionRecord struct {
	// Seq numbers the log: Commit assigns it, in order, and never reuses one.
	Seq     int64
	Time    int64 // ms
	AlertID string
	JSON    []byte // the transition line
}

// Cycle is everything one evaluation cycle changed. Most cycles write
// only what is new to the record (transitions, alert states, the outbox,
// how far each source is evaluated, complete hours of history); a
// checkpoint also writes what a restart needs to rebuild the engine: the
// journal of what was counted since the last checkpoint, snapshots of
// some instances, every series' cursor and the read cursor of each
// source. Between checkpoints a restart reads its sources again from the
// last one.
type Cycle struct {
	// Time is the cycle's evaluation time (ms). It must be after the last
	// committed cycle's: cycles are committed once each, in order.
	Time int64
	// Journal is what was counted since the last checkpoint, kept as one
	// blob. In a cycle with Snapshots it is not stored: the snapshots
	// include it.
	Journal []JournalEntry
	// CursorSets replaces, for each source named, the cursors of all its
	// series.
	CursorSets map[string][]SeriesCursor
	// SourceCursors maps a source's name to the time it has read up to (ms)
	// as of the journal and cursors of this cycle; upserted.
	SourceCursors map[string]int64
	// Evaluated maps a source's name to the last minute (ms) whose
	// evaluation this cycle's transitions include; upserted.
	Evaluated map[string]int64
	// Alerts are upserted by ID.
	Alerts []AlertState
	// Transitions are appended to the log; Commit sets their Seq once the
	// cycle is committed.
	Transitions []TransitionRecord
	// Outbox are the notifications the cycle's transitions make, written
	// with them so that none is lost or made twice; each names the index
	// of its transition in Transitions.
	Outbox []OutboxEntry
	// Consumed are the ids of pushed batches this cycle counted: they are
	// marked counted, and kept until a checkpoint (a cycle with
	// SourceCursors), which deletes every batch counted. An id that is not
	// pending fails the cycle, since counting a batch twice is the error it
	// would hide.
	Consumed []int64
	// Snapshots, when not empty, is the full state of every instance as of
	// the end of this cycle, this cycle's Journal included. It replaces all
	// earlier snapshots; the journal is emptied, and instances absent from
	// it are forgotten (their history stays, until PruneHistory).
	Snapshots []Snapshot
	// History are per-minute hours of instances, kept for reports and
	// exports; each replaces what was stored for its instance and hour.
	History []HistoryHour
	// HistoryCursors maps an SLO's name to the hour before which its
	// history is written; upserted.
	HistoryCursors map[string]int64
}

// ErrCycleOrder is returned by Commit for a cycle whose time is not after
// the last committed cycle's.
var ErrCycleOrder = errors.New("cycle is not after the last committed cycle")

// ErrNotPending is returned by Commit when a Consumed batch is not pending.
var ErrNotPending = errors.New("batch is not pending")

// Commit writes everything c changed in one transaction: when it returns nil
// the cycle is on disk, and when it returns an error (including a cancelled
// ctx) nothing of it is.
func (db *DB) Commit(ctx context.Context, c Cycle) error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("store: committing the cycle of %s: %w", msTime(c.Time), err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()

	seqs, ids, err := db.commit(ctx, &c)
	if err != nil {
		// Should the transaction have committed after all (an error on the
		// way back from a commit that reached the disk), the ids would be
		// wrong: read them again at the next cycle.
		db.ids, db.series = nil, nil
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			// A cancellation can surface as whatever the driver was
			// doing ("statement is closed"); say what it was.
			err = fmt.Errorf("%w (%v)", cerr, err)
		}
		return fmt.Errorf("store: committing the cycle of %s: %w", msTime(c.Time), err)
	}
	for i := range c.Transitions {
		c.Transitions[i].Seq = seqs[i]
	}
	if len(c.Snapshots) > 0 {
		db.ids = ids
	} else {
		for k, id := range ids {
			db.ids[k] = id
		}
	}
	return nil
}

// validate rejects what the database would store wrongly or refuse late.
func (c *Cycle) validate() error {
	if c.Time <= 0 {
		return fmt.Errorf("time %d is not positive", c.Time)
	}
	for _, e := range c.Journal {
		// SQLite stores NaN as NULL.
		if math.IsNaN(e.Total) || math.IsNaN(e.User) || math.IsNaN(e.Ignore) || math.IsNaN(e.Platform) {
			return fmt.Errorf("journal entry %s/%q minute %d: a count is NaN", e.Instance.SLO, e.Instance.Key, e.Minute)
		}
	}
	for i := range c.History {
		if err := validateHistory(&c.History[i]); err != nil {
			return err
		}
	}
	for source, set := range c.CursorSets {
		for _, cur := range set {
			if math.IsNaN(cur.Value) {
				return fmt.Errorf("cursor %s %s: value is NaN", source, cur.Series)
			}
		}
	}
	for _, a := range c.Alerts {
		if a.ID == "" {
			return fmt.Errorf("alert of SLO %s severity %s: empty ID", a.SLO, a.Severity)
		}
		switch a.State {
		case StateInactive, StateFiring, StateResolved:
		default:
			return fmt.Errorf("alert %s: state %q, want %s, %s or %s", a.ID, a.State, StateInactive, StateFiring, StateResolved)
		}
	}
	return nil
}

// commit runs the transaction. It returns the transitions' sequence numbers
// and the instance ids to remember: the ones it created, or in a snapshot
// cycle all that remain.
func (db *DB) commit(ctx context.Context, c *Cycle) (seqs []int64, ids map[InstanceKey]int64, err error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()

	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT last_cycle FROM progress`).Scan(&last); err != nil {
		return nil, nil, fmt.Errorf("reading progress: %w", err)
	}
	if c.Time <= last {
		return nil, nil, fmt.Errorf("%w (last committed: %s)", ErrCycleOrder, msTime(last))
	}

	if db.ids == nil {
		// In the transaction: what it reads is what it will write on.
		if db.ids, err = loadIDs(ctx, tx); err != nil {
			return nil, nil, err
		}
	}
	inst := &instanceIDs{tx: tx, known: db.ids, created: make(map[InstanceKey]int64)}
	defer inst.close()
	// The history first: a snapshot forgets the instances left with
	// neither a snapshot nor a history, and this cycle's history counts.
	if err := writeHistory(ctx, tx, inst, c); err != nil {
		return nil, nil, err
	}
	if len(c.Snapshots) > 0 {
		if err := writeSnapshots(ctx, tx, inst, c); err != nil {
			return nil, nil, err
		}
	} else if err := writeJournalBlob(ctx, tx, inst, c); err != nil {
		return nil, nil, err
	}
	ids = inst.created
	if len(c.Snapshots) > 0 {
		// Rows may have gone: the ids left are read again.
		if ids, err = loadIDs(ctx, tx); err != nil {
			return nil, nil, err
		}
	}
	created := map[seriesKey]int64{}
	if err := db.writeCursorSets(ctx, tx, c, created); err != nil {
		return nil, nil, err
	}
	if err := writeSourceCursors(ctx, tx, c); err != nil {
		return nil, nil, err
	}
	if err := writeAlerts(ctx, tx, c.Alerts); err != nil {
		return nil, nil, err
	}
	if seqs, err = writeTransitions(ctx, tx, c.Transitions); err != nil {
		return nil, nil, err
	}
	if err := writeOutbox(ctx, tx, c, seqs); err != nil {
		return nil, nil, err
	}
	if err := consumeBatches(ctx, tx, c); err != nil {
		return nil, nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE progress SET last_cycle = ?`, c.Time); err != nil {
		return nil, nil, fmt.Errorf("writing progress: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	for k, id := range created {
		db.series[k] = id
	}
	return seqs, ids, nil
}

// instanceIDs finds instance ids within a transaction, creating the rows of
// new instances.
type instanceIDs struct {
	tx      *sql.Tx
	known   map[InstanceKey]int64 // committed; not changed here
	created map[InstanceKey]int64 // by this transaction
	insert  *sql.Stmt
}

func (in *instanceIDs) id(ctx context.Context, k InstanceKey) (int64, error) {
	if id, ok := in.known[k]; ok {
		return id, nil
	}
	if id, ok := in.created[k]; ok {
		return id, nil
	}
	if in.insert == nil {
		st, err := in.tx.PrepareContext(ctx, `INSERT INTO instances (slo, key) VALUES (?, ?) RETURNING id`)
		if err != nil {
			return 0, err
		}
		in.insert = st
	}
	var id int64
	if err := in.insert.QueryRowContext(ctx, k.SLO, []byte(k.Key)).Scan(&id); err != nil {
		return 0, fmt.Errorf("adding instance %s/%q: %w", k.SLO, k.Key, err)
	}
	in.created[k] = id
	return id, nil
}

func (in *instanceIDs) close() {
	if in.insert != nil {
		in.insert.Close()
	}
}

// writeSnapshots replaces the snapshots and empties the journal, and
// forgets the instances left with neither a snapshot nor a history.
func writeSnapshots(ctx context.Context, tx *sql.Tx, inst *instanceIDs, c *Cycle) error {
	// Delete before inserting, so that the pages of the old snapshots are
	// free for the new ones and the file does not grow to hold both.
	for _, q := range []string{`DELETE FROM journal`, `DELETE FROM journal_blobs`, `DELETE FROM snapshots`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("replacing snapshots: %w", err)
		}
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO snapshots (instance, labels, state) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("writing snapshots: %w", err)
	}
	defer st.Close()
	for _, s := range c.Snapshots {
		id, err := inst.id(ctx, s.Instance)
		if err != nil {
			return fmt.Errorf("writing snapshots: %w", err)
		}
		if _, err := st.ExecContext(ctx, id, s.Labels, nonNil(s.State)); err != nil {
			return fmt.Errorf("writing snapshot of %s/%q: %w", s.Instance.SLO, s.Instance.Key, err)
		}
	}
	if err := forgetBare(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE progress SET snapshot_time = ?`, c.Time); err != nil {
		return fmt.Errorf("writing progress: %w", err)
	}
	return nil
}

func writeSourceCursors(ctx context.Context, tx *sql.Tx, c *Cycle) error {
	for source, ts := range c.SourceCursors {
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_cursors (source, ts) VALUES (?, ?)
			ON CONFLICT (source) DO UPDATE SET ts = excluded.ts`, source, ts); err != nil {
			return fmt.Errorf("writing source cursor %s: %w", source, err)
		}
	}
	for source, ms := range c.Evaluated {
		if _, err := tx.ExecContext(ctx, `INSERT INTO source_cursors (source, ts, evaluated) VALUES (?, 0, ?)
			ON CONFLICT (source) DO UPDATE SET evaluated = excluded.evaluated`, source, ms); err != nil {
			return fmt.Errorf("writing the evaluation of source %s: %w", source, err)
		}
	}
	return nil
}

func writeAlerts(ctx context.Context, tx *sql.Tx, alerts []AlertState) error {
	if len(alerts) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts (id, slo, alert, severity, labels, state, since) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET slo = excluded.slo, alert = excluded.alert, severity = excluded.severity,
			labels = excluded.labels, state = excluded.state, since = excluded.since`)
	if err != nil {
		return fmt.Errorf("writing alerts: %w", err)
	}
	defer st.Close()
	for _, a := range alerts {
		if _, err := st.ExecContext(ctx, a.ID, a.SLO, a.Alert, a.Severity, a.Labels, a.State, a.Since); err != nil {
			return fmt.Errorf("writing alert %s: %w", a.ID, err)
		}
	}
	return nil
}

func writeTransitions(ctx context.Context, tx *sql.Tx, ts []TransitionRecord) ([]int64, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO transitions (time, alert_id, line) VALUES (?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("writing transitions: %w", err)
	}
	defer st.Close()
	seqs := make([]int64, len(ts))
	for i, t := range ts {
		res, err := st.ExecContext(ctx, t.Time, t.AlertID, nonNil(t.JSON))
		if err != nil {
			return nil, fmt.Errorf("writing transition of alert %s: %w", t.AlertID, err)
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			return nil, fmt.Errorf("writing transition of alert %s: %w", t.AlertID, err)
		}
	}
	return seqs, nil
}

func consumeBatches(ctx context.Context, tx *sql.Tx, c *Cycle) error {
	if len(c.Consumed) > 0 {
		if err := markCounted(ctx, tx, c.Consumed, c.Time); err != nil {
			return err
		}
	}
	if c.SourceCursors != nil {
		// A checkpoint: its journal holds what they counted.
		if _, err := tx.ExecContext(ctx, `DELETE FROM batches WHERE counted > 0`); err != nil {
			return fmt.Errorf("consuming batches: %w", err)
		}
	}
	return nil
}

func markCounted(ctx context.Context, tx *sql.Tx, consumed []int64, at int64) error {
	st, err := tx.PrepareContext(ctx, `UPDATE batches SET counted = ? WHERE id = ? AND counted = 0`)
	if err != nil {
		return fmt.Errorf("consuming batches: %w", err)
	}
	defer st.Close()
	for _, id := range consumed {
		res, err := st.ExecContext(ctx, at, id)
		if err != nil {
			return fmt.Errorf("consuming batch %d: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("consuming batch %d: %w", id, err)
		}
		if n != 1 {
			return fmt.Errorf("consuming batch %d: %w", id, ErrNotPending)
		}
	}
	return nil
}

// msTime formats a time in ms for errors.
func msTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// nonNil turns a nil slice into an empty one, which the driver binds as an
// empty blob rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
