package store

import (
	"context"
	"database/sql"
	"fmt"
)

// State is everything the file holds for a restart.
type State struct {
	// SnapshotTime is the time of the cycle that wrote Snapshots, 0 if none.
	SnapshotTime int64
	// Snapshots are in (SLO, Key) order, bytewise.
	Snapshots []Snapshot
	// Journal is what cycles after the snapshot counted, in commit order: the
	// snapshots plus the journal are the state as of LastCycle.
	Journal []JournalEntry
	// Cursors are in (Source, Series) order.
	Cursors       []SeriesCursor
	SourceCursors map[string]int64
	// Alerts are in ID order.
	Alerts []AlertState
	// LastCycle is the time of the last committed cycle, 0 if none.
	LastCycle int64
	// HistoryCursors maps an SLO to the hour before which its history is
	// written.
	HistoryCursors map[string]int64
}

// Load reads the whole state, as of one committed cycle.
func (db *DB) Load(ctx context.Context) (State, error) {
	// One read transaction: in WAL mode its reads all see the same commit,
	// whatever is committed meanwhile.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return State{}, fmt.Errorf("store: loading: %w", err)
	}
	defer tx.Rollback()

	var s State
	for _, step := range []struct {
		what string
		load func(context.Context, *sql.Tx, *State) error
	}{
		{"progress", loadProgress},
		{"snapshots", loadSnapshots},
		{"journal", loadJournal},
		{"series cursors", loadCursors},
		{"source cursors", loadSourceCursors},
		{"alerts", loadAlerts},
		{"history cursors", loadHistoryCursors},
	} {
		if err := step.load(ctx, tx, &s); err != nil {
			return State{}, fmt.Errorf("store: loading %s: %w", step.what, err)
		}
	}
	return s, nil
}

func loadProgress(ctx context.Context, tx *sql.Tx, s *State) error {
	return tx.QueryRowContext(ctx, `SELECT last_cycle, snapshot_time FROM progress`).Scan(&s.LastCycle, &s.SnapshotTime)
}

func loadSnapshots(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT i.slo, i.key, s.labels, s.state
		FROM instances i JOIN snapshots s ON s.instance = i.id ORDER BY i.slo, i.key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sn Snapshot
		var key []byte
		if err := rows.Scan(&sn.Instance.SLO, &key, &sn.Labels, &sn.State); err != nil {
			return err
		}
		sn.Instance.Key = string(key)
		s.Snapshots = append(s.Snapshots, sn)
	}
	return rows.Err()
}

func loadJournal(ctx context.Context, tx *sql.Tx, s *State) error {
	ids, err := loadIDs(ctx, tx)
	if err != nil {
		return err
	}
	byID := make(map[int64]InstanceKey, len(ids))
	for k, id := range ids {
		byID[id] = k
	}
	rows, err := tx.QueryContext(ctx, `SELECT instance, minute, total, user, ignored, platform FROM journal ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e JournalEntry
		var id int64
		if err := rows.Scan(&id, &e.Minute, &e.Total, &e.User, &e.Ignore, &e.Platform); err != nil {
			return err
		}
		e.Instance = byID[id] // present: a foreign key
		s.Journal = append(s.Journal, e)
	}
	return rows.Err()
}

func loadCursors(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT source, series, ts, value FROM series_cursors ORDER BY source, series`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c SeriesCursor
		if err := rows.Scan(&c.Source, &c.Series, &c.TS, &c.Value); err != nil {
			return err
		}
		s.Cursors = append(s.Cursors, c)
	}
	return rows.Err()
}

func loadSourceCursors(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT source, ts FROM source_cursors`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.SourceCursors = make(map[string]int64)
	for rows.Next() {
		var source string
		var ts int64
		if err := rows.Scan(&source, &ts); err != nil {
			return err
		}
		s.SourceCursors[source] = ts
	}
	return rows.Err()
}

func loadAlerts(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, slo, alert, severity, labels, state, since FROM alerts ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a AlertState
		if err := rows.Scan(&a.ID, &a.SLO, &a.Alert, &a.Severity, &a.Labels, &a.State, &a.Since); err != nil {
			return err
		}
		s.Alerts = append(s.Alerts, a)
	}
	return rows.Err()
}
