package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// State is everything the file holds for a restart.
type State struct {
	// SnapshotTime is the time of the cycle that wrote Snapshots, 0 if none.
	SnapshotTime int64
	// Snapshots are in (SLO, Key) order, bytewise.
	Snapshots []Snapshot
	// Journal is what was counted after each instance's snapshot, in
	// commit order: the snapshots plus the journal are the state as of the
	// last checkpoint.
	Journal []JournalEntry
	// Cursors are in (Source, Series) order.
	Cursors []SeriesCursor
	// SourceCursors are how far each source was read as of the journal
	// and the cursors: where a restart reads on from.
	SourceCursors map[string]int64
	// Evaluated is, per source, the last minute (ms) evaluated: the
	// transitions up to it are in the log.
	Evaluated map[string]int64
	// Alerts are in ID order.
	Alerts []AlertState
	// LastCycle is the time of the last committed cycle, 0 if none.
	LastCycle int64
	// HistoryCursors maps an SLO to the hour before which its history is
	// written.
	HistoryCursors map[string]int64
	// Counted are the pushed batches counted since the last checkpoint,
	// in id order: the journal does not hold them, and a restart counts
	// them again.
	Counted []Batch
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
		{"batches counted since the checkpoint", func(ctx context.Context, tx *sql.Tx, s *State) (err error) {
			s.Counted, err = db.batches(ctx, tx, `WHERE counted > 0`)
			return err
		}},
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

// loadJournal reads the journal since the snapshots: the rows version 4
// wrote, then the blobs, in commit order.
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
	if err := rows.Err(); err != nil {
		return err
	}
	blobs, err := tx.QueryContext(ctx, `SELECT seq, entries FROM journal_blobs ORDER BY seq`)
	if err != nil {
		return err
	}
	defer blobs.Close()
	for blobs.Next() {
		var (
			seq  int64
			blob []byte
		)
		if err := blobs.Scan(&seq, &blob); err != nil {
			return err
		}
		err := decodeJournal(blob, func(e journalEntry) {
			k, ok := byID[e.id]
			if !ok {
				return // a row forgotten since: cannot happen, as a snapshot empties the journal
			}
			s.Journal = append(s.Journal, JournalEntry{Instance: k, Minute: e.minute, Total: e.total, User: e.user, Ignore: e.ignore, Platform: e.platform})
		})
		if err != nil {
			return fmt.Errorf("journal blob %d: %w", seq, err)
		}
	}
	return blobs.Err()
}

// loadCursors reads every series' cursor: a source's set, or the rows of
// version 4 for a source without one.
func loadCursors(ctx context.Context, tx *sql.Tx, s *State) error {
	ids, err := loadSeriesIDs(ctx, tx)
	if err != nil {
		return err
	}
	keys := make(map[int64]string, len(ids))
	for k, id := range ids {
		keys[id] = k.series
	}
	sets := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT source, cursors FROM cursor_sets`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			source string
			blob   []byte
		)
		if err := rows.Scan(&source, &blob); err != nil {
			return err
		}
		sets[source] = true
		if err := decodeCursorSet(source, blob, keys, func(c SeriesCursor) { s.Cursors = append(s.Cursors, c) }); err != nil {
			return fmt.Errorf("cursors of %s: %w", source, err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	legacy, err := tx.QueryContext(ctx, `SELECT source, series, ts, value FROM series_cursors ORDER BY source, series`)
	if err != nil {
		return err
	}
	defer legacy.Close()
	for legacy.Next() {
		var c SeriesCursor
		if err := legacy.Scan(&c.Source, &c.Series, &c.TS, &c.Value); err != nil {
			return err
		}
		if !sets[c.Source] {
			s.Cursors = append(s.Cursors, c)
		}
	}
	if err := legacy.Err(); err != nil {
		return err
	}
	slices.SortFunc(s.Cursors, func(a, b SeriesCursor) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Series, b.Series))
	})
	return nil
}

func loadSourceCursors(ctx context.Context, tx *sql.Tx, s *State) error {
	rows, err := tx.QueryContext(ctx, `SELECT source, ts, evaluated FROM source_cursors`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.SourceCursors = make(map[string]int64)
	s.Evaluated = make(map[string]int64)
	for rows.Next() {
		var source string
		var ts, evaluated int64
		if err := rows.Scan(&source, &ts, &evaluated); err != nil {
			return err
		}
		if ts > 0 {
			s.SourceCursors[source] = ts
		}
		if evaluated > 0 {
			s.Evaluated[source] = evaluated
		}
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
