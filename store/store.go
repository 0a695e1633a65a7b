// Package store keeps burnwatch's durable state in one SQLite file: the
// per-instance history (snapshots and a journal of increments since), the
// source cursors, alert states, the transition log and pushed event batches.
//
// Everything an evaluation cycle changes is written by one [DB.Commit], in one
// transaction, so that a crash at any instant leaves the file at the end of
// some committed cycle: the last one, or the one before it if the crash hit
// the commit itself. docs/store.md gives the schema and the argument.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeoutMillis bounds how long a statement waits for a lock held by
// another connection (a checkpoint, a reader finishing) before failing with
// SQLITE_BUSY. Only this process writes the file, so a wait is short unless
// something is wrong; ten seconds is far above any commit we measured.
const busyTimeoutMillis = 10000

// walSizeLimit is the size the WAL file is truncated to after a checkpoint.
// A snapshot cycle writes ~150 MB through the WAL; without a limit the file
// would keep that size for ever and Size would report it.
const walSizeLimit = 64 << 20

// maxReaders bounds the read connections. Reads are Load at start, the API's
// transition queries and reports; a few are enough, and each holds a cache.
const maxReaders = 4

// DB is burnwatch's state file. Its methods are safe for concurrent use; the
// writes (Commit, AppendBatch, Prune) are serialized on one connection.
type DB struct {
	path string
	w    *sql.DB // one connection: every write, BEGIN IMMEDIATE
	r    *sql.DB // read-only connections: Load, PendingBatches, Transitions
	lock *os.File

	// mu serializes Commit and guards ids.
	mu sync.Mutex
	// ids maps every row of the instances table to its id, so that a cycle's
	// 10,000 journal rows need no lookups. It changes only after a commit
	// succeeded, with the ids that commit created; nil means "read it at the
	// next commit".
	ids map[InstanceKey]int64
	// series is the same for the series table, by source and key.
	series map[seriesKey]int64
}

// Permissions of what the store creates: the state holds every tenant's
// names, codes and counts, and silences with their authors, so only the
// user burnwatch runs as may read it. SQLite creates the WAL and
// shared-memory files with the database file's mode.
const (
	dirMode  = 0o700
	fileMode = 0o600
)

// Open opens the state file at path, creating it and its parent directories
// if needed, and brings its schema up to date. It refuses a file written by a
// newer burnwatch ([ErrNewerSchema]) and a file that another process has open
// ([ErrLocked]). A directory it creates is 0700 and its files 0600; the
// files of an older burnwatch are made 0600 too (a directory that exists is
// left as it is: a mounted volume's mode is its owner's business).
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), dirMode); err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	lock, err := lockFile(abs + ".lock")
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	if err := private(abs); err != nil {
		unlockFile(lock)
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db := &DB{path: abs, lock: lock}
	if err := db.open(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	return db, nil
}

// private makes the database file (creating it empty, which SQLite takes
// for a new database) and any WAL and shared-memory files an older
// burnwatch left readable by others, 0600.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		if err := os.Chmod(p, fileMode); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// OpenReadOnly opens an existing state file for reading alone, beside the
// burnwatch serve that may be writing it: it takes no lock, since WAL lets
// readers and one writer share the file, and every write it is asked for
// fails. The file must have this build's schema version.
func OpenReadOnly(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	db := &DB{path: abs}
	if err := db.openReadOnly(); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	return db, nil
}

func (db *DB) openReadOnly() error {
	u := url.URL{Scheme: "file", OmitHost: true, Path: db.path}
	r, err := openReaders(u.String())
	if err != nil {
		return err
	}
	db.r, db.w = r, r
	var version int
	if err := r.QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	switch {
	case version > schemaVersion:
		return fmt.Errorf("%w: the file has version %d, this burnwatch knows up to %d", ErrNewerSchema, version, schemaVersion)
	case version < schemaVersion:
		return fmt.Errorf("the file has schema version %d and this burnwatch reads %d: start burnwatch serve on it once to bring it up to date", version, schemaVersion)
	}
	return nil
}

func (db *DB) open() error {
	// The path goes in a file: URI so that '?' or '#' in it are not taken for
	// parameters; the parameters are the driver's (see modernc.org/sqlite).
	u := url.URL{Scheme: "file", OmitHost: true, Path: db.path}
	base := u.String()

	// synchronous=FULL in WAL mode syncs the WAL at every commit: a commit
	// that returned is on disk. Plain NORMAL would keep the file consistent
	// but could lose the last commits on power loss.
	w, err := sql.Open("sqlite", base+"?"+url.Values{
		"_txlock":       {"immediate"},
		"_busy_timeout": {fmt.Sprint(busyTimeoutMillis)},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_pragma":       {fmt.Sprintf("journal_size_limit(%d)", walSizeLimit)},
	}.Encode())
	if err != nil {
		return err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	db.w = w

	ctx := context.Background()
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, not wal: the file system may not support WAL's shared memory", mode)
	}
	if err := migrate(ctx, w); err != nil {
		return err
	}

	r, err := openReaders(base)
	if err != nil {
		return err
	}
	db.r = r
	return nil
}

// openReaders opens the pool of read-only connections to the file at the
// URI base.
func openReaders(base string) (*sql.DB, error) {
	r, err := sql.Open("sqlite", base+"?"+url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeoutMillis)},
		"_query_only":   {"1"},
	}.Encode())
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(maxReaders)
	r.SetMaxIdleConns(maxReaders)
	return r, nil
}

// Close closes the file. The last connection to close checkpoints the WAL
// into the database and removes it.
func (db *DB) Close() error {
	var errs []error
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil && db.w != db.r {
		errs = append(errs, db.w.Close())
	}
	if db.lock != nil {
		errs = append(errs, unlockFile(db.lock))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: closing %s: %w", db.path, err)
	}
	return nil
}

// Size reports the bytes the state takes on disk: the database file and its
// WAL.
func (db *DB) Size() (int64, error) {
	var n int64
	for _, p := range []string{db.path, db.path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: size: %w", err)
		}
		n += fi.Size()
	}
	return n, nil
}

// loadIDs reads the instances table.
func loadIDs(ctx context.Context, q querier) (map[InstanceKey]int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, slo, key FROM instances")
	if err != nil {
		return nil, fmt.Errorf("reading instances: %w", err)
	}
	defer rows.Close()
	ids := make(map[InstanceKey]int64)
	for rows.Next() {
		var id int64
		var slo string
		var key []byte
		if err := rows.Scan(&id, &slo, &key); err != nil {
			return nil, fmt.Errorf("reading instances: %w", err)
		}
		ids[InstanceKey{SLO: slo, Key: string(key)}] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading instances: %w", err)
	}
	return ids, nil
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
