package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrNewerSchema is returned by Open for a file whose schema version is newer
// than this build knows: it was written by a newer burnwatch, and an older
// one must not guess at what the new columns mean.
var ErrNewerSchema = errors.New("schema is newer than this burnwatch")

// ErrLocked is returned by Open when another process has the file open.
var ErrLocked = errors.New("in use by another process")

// migrations are the schema's forward steps; the schema version of a file is
// the number of them applied. A step is never edited once released: a change
// is a new step appended here.
var migrations = []string{
	// 1: the first schema. See docs/store.md for what each table holds.
	`
CREATE TABLE progress (
	id            INTEGER PRIMARY KEY CHECK (id = 1),
	last_cycle    INTEGER NOT NULL, -- ms, time of the last committed cycle
	snapshot_time INTEGER NOT NULL  -- ms, time of the cycle that wrote the snapshots, 0 if none
);
INSERT INTO progress (id, last_cycle, snapshot_time) VALUES (1, 0, 0);

CREATE TABLE instances (
	id  INTEGER PRIMARY KEY,
	slo TEXT NOT NULL,
	key BLOB NOT NULL,
	UNIQUE (slo, key)
);

CREATE TABLE snapshots (
	instance INTEGER PRIMARY KEY REFERENCES instances (id),
	labels   TEXT NOT NULL,
	state    BLOB NOT NULL
);

CREATE TABLE journal (
	seq      INTEGER PRIMARY KEY, -- commit order
	instance INTEGER NOT NULL REFERENCES instances (id),
	minute   INTEGER NOT NULL,
	total    REAL NOT NULL,
	user     REAL NOT NULL,
	ignored  REAL NOT NULL,
	platform REAL NOT NULL
);

CREATE TABLE series_cursors (
	source TEXT NOT NULL,
	series TEXT NOT NULL,
	ts     INTEGER NOT NULL,
	value  REAL NOT NULL,
	PRIMARY KEY (source, series)
) WITHOUT ROWID;

CREATE TABLE source_cursors (
	source TEXT PRIMARY KEY,
	ts     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
	id       TEXT PRIMARY KEY,
	slo      TEXT NOT NULL,
	alert    TEXT NOT NULL,
	severity TEXT NOT NULL,
	labels   TEXT NOT NULL,
	state    TEXT NOT NULL CHECK (state IN ('inactive', 'firing', 'resolved')),
	since    INTEGER NOT NULL
) WITHOUT ROWID;

-- AUTOINCREMENT: a sequence number is never reused, even after Prune
-- deleted the newest rows.
CREATE TABLE transitions (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	time     INTEGER NOT NULL,
	alert_id TEXT NOT NULL,
	line     BLOB NOT NULL
);
CREATE INDEX transitions_by_time ON transitions (time);

-- AUTOINCREMENT: a batch id is never reused, so a Consumed id can only ever
-- name the batch it was read as.
CREATE TABLE batches (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	received INTEGER NOT NULL,
	ndjson   BLOB NOT NULL
);
`,
	// 2: the outbox of notifications, written with the transitions.
	`
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	receiver     TEXT NOT NULL,
	alert_id     TEXT NOT NULL,
	seq          INTEGER NOT NULL, -- the transition's
	firing       INTEGER NOT NULL, -- 1 for a trigger, 0 for a resolve
	payload      BLOB NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead', 'skipped', 'silenced')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL,
	last_error   TEXT NOT NULL DEFAULT '',
	created      INTEGER NOT NULL,
	done         INTEGER NOT NULL DEFAULT 0 -- ms, when it left pending
);
CREATE INDEX outbox_pending ON outbox (state, next_attempt) WHERE state = 'pending';
CREATE INDEX outbox_by_alert ON outbox (receiver, alert_id, id);
CREATE INDEX outbox_held ON outbox (id) WHERE state = 'silenced' AND firing = 1;
`,
	// 3: silences made through the API.
	`
CREATE TABLE silences (
	id      TEXT PRIMARY KEY,
	ends    INTEGER NOT NULL, -- ms, for pruning
	body    BLOB NOT NULL     -- the silence, JSON
) WITHOUT ROWID;
`,
	// 4: the per-minute history kept for reports and postmortem exports.
	`
CREATE TABLE history (
	instance INTEGER NOT NULL REFERENCES instances (id),
	hour     INTEGER NOT NULL, -- hours since the epoch: the minutes (60·hour, 60·hour + 60]
	minutes  BLOB NOT NULL,    -- valid and bad events of each of its 60 minutes, encoded
	PRIMARY KEY (instance, hour)
) WITHOUT ROWID;
CREATE INDEX history_by_hour ON history (hour);

CREATE TABLE history_codes (
	instance INTEGER NOT NULL REFERENCES instances (id),
	hour     INTEGER NOT NULL,
	code     TEXT NOT NULL,
	class    TEXT NOT NULL,
	rule     TEXT NOT NULL,
	count    REAL NOT NULL,
	PRIMARY KEY (instance, hour, code)
) WITHOUT ROWID;
CREATE INDEX history_codes_by_hour ON history_codes (hour);

-- Per SLO, the hour before which its history is written.
CREATE TABLE history_cursors (
	slo  TEXT PRIMARY KEY,
	hour INTEGER NOT NULL
) WITHOUT ROWID;
`,
	// 5: checkpoints whose writes follow what changed: the journal as one
	// blob a checkpoint, series cursors as one blob a source, how far each
	// source's minutes are evaluated, and pushed batches kept, marked
	// counted, until a checkpoint includes them.
	`
CREATE TABLE journal_blobs (
	seq     INTEGER PRIMARY KEY,
	time    INTEGER NOT NULL,
	entries BLOB NOT NULL
);

CREATE TABLE series (
	id     INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	key    BLOB NOT NULL,
	UNIQUE (source, key)
);
CREATE TABLE cursor_sets (
	source  TEXT PRIMARY KEY,
	cursors BLOB NOT NULL
) WITHOUT ROWID;
ALTER TABLE source_cursors ADD COLUMN evaluated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN counted INTEGER NOT NULL DEFAULT 0; -- ms of the cycle that counted it; 0 while pending
`,
	// 6: the idempotency keys of pushed batches, and the answer each got.
	// A key outlives its batch (batches are deleted once counted) for
	// IdempotencyRetention.
	`
CREATE TABLE batch_keys (
	key      TEXT PRIMARY KEY,
	batch    INTEGER NOT NULL, -- the batch id the first answer named
	accepted INTEGER NOT NULL, -- the events it accepted
	body     BLOB NOT NULL,    -- SHA-256 of the body
	received INTEGER NOT NULL  -- ms
) WITHOUT ROWID;
CREATE INDEX batch_keys_by_received ON batch_keys (received);
`,
}

// schemaVersion is the schema version this build writes.
var schemaVersion = len(migrations)

// migrate brings the schema up to schemaVersion in one transaction, or
// refuses a newer one.
func migrate(ctx context.Context, w *sql.DB) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrating schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > schemaVersion {
		return fmt.Errorf("%w: the file has version %d, this burnwatch knows up to %d; run a newer burnwatch, or restore a backup written by this one",
			ErrNewerSchema, version, schemaVersion)
	}
	for v := version; v < schemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
	}
	if version < schemaVersion {
		if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion); err != nil {
			return fmt.Errorf("migrating schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	return nil
}
