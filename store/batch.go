package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Batch is a pushed batch of events not yet counted by a committed cycle.
type Batch struct {
	ID       int64 // never reused
	Received int64 // ms
	NDJSON   []byte
}

// AppendBatch stores a pushed batch. When it returns, the batch is on disk:
// the HTTP handler may answer 202. It stays pending until a Commit lists it in
// Consumed, and is kept, counted, until the next checkpoint includes it.
func (db *DB) AppendBatch(ctx context.Context, received int64, ndjson []byte) (int64, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO batches (received, ndjson) VALUES (?, ?)`, received, nonNil(ndjson))
	if err != nil {
		return 0, fmt.Errorf("store: appending batch: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: appending batch: %w", err)
	}
	return id, nil
}

// PendingBatches returns the batches not yet consumed, in id order.
func (db *DB) PendingBatches(ctx context.Context) ([]Batch, error) {
	return db.batches(ctx, db.r, `WHERE counted = 0`)
}

// batches reads the batches a condition selects, in id order.
func (db *DB) batches(ctx context.Context, q querier, where string) ([]Batch, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, received, ndjson FROM batches `+where+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: reading pending batches: %w", err)
	}
	defer rows.Close()
	var bs []Batch
	for rows.Next() {
		var b Batch
		if err := rows.Scan(&b.ID, &b.Received, &b.NDJSON); err != nil {
			return nil, fmt.Errorf("store: reading pending batches: %w", err)
		}
		bs = append(bs, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading pending batches: %w", err)
	}
	return bs, nil
}

// IdempotencyRetention is how long the idempotency key of a pushed batch is
// kept. A client resends a batch whose 202 it lost within seconds or
// minutes; a day also covers a pusher that was cut off from serve, or down,
// overnight and resends what it had in flight when it comes back. A key
// older than that is forgotten, and a batch sent again under it is stored
// again.
const IdempotencyRetention = 24 * time.Hour

// ErrKeyReused is returned for a batch whose idempotency key was stored
// with another body: the client reused a key, and storing either body
// under it would be a guess.
var ErrKeyReused = errors.New("the idempotency key was used for a batch with another body")

// KeyedBatch is the answer kept with an idempotency key.
type KeyedBatch struct {
	ID       int64 // the batch id the first answer named
	Accepted int   // the events it accepted
	// Duplicate says that the batch had been stored before under its key
	// and nothing was stored now.
	Duplicate bool
}

// BatchByKey returns the answer stored with key at the time now (ms), if a
// batch was stored under it within IdempotencyRetention; ErrKeyReused if
// that batch had another body.
func (db *DB) BatchByKey(ctx context.Context, now int64, key string, ndjson []byte) (KeyedBatch, bool, error) {
	kb, ok, err := batchByKey(ctx, db.r, now, key, ndjson)
	if err != nil {
		return KeyedBatch{}, false, fmt.Errorf("store: reading idempotency key: %w", err)
	}
	return kb, ok, nil
}

// AppendKeyedBatch is AppendBatch for a batch sent with an idempotency key,
// which must hold the accepted events: in one transaction it stores the
// batch and the key with its answer, unless a batch was stored under the
// key within IdempotencyRetention, whose answer it then returns, marked
// Duplicate, storing nothing. Keys past the retention are deleted as it
// goes.
func (db *DB) AppendKeyedBatch(ctx context.Context, received int64, ndjson []byte, key string, accepted int) (KeyedBatch, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	defer tx.Rollback()
	if kb, ok, err := batchByKey(ctx, tx, received, key, ndjson); err != nil || ok {
		if err != nil {
			return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
		}
		return kb, nil
	}
	cutoff := received - IdempotencyRetention.Milliseconds()
	if _, err := tx.ExecContext(ctx, `DELETE FROM batch_keys WHERE received <= ?`, cutoff); err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO batches (received, ndjson) VALUES (?, ?)`, received, nonNil(ndjson))
	if err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	sum := sha256.Sum256(ndjson)
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO batch_keys (key, batch, accepted, body, received) VALUES (?, ?, ?, ?, ?)`,
		key, id, accepted, sum[:], received); err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return KeyedBatch{}, fmt.Errorf("store: appending batch: %w", err)
	}
	return KeyedBatch{ID: id, Accepted: accepted}, nil
}

func batchByKey(ctx context.Context, q querier, now int64, key string, ndjson []byte) (KeyedBatch, bool, error) {
	var kb KeyedBatch
	var body []byte
	err := q.QueryRowContext(ctx, `SELECT batch, accepted, body FROM batch_keys WHERE key = ? AND received > ?`,
		key, now-IdempotencyRetention.Milliseconds()).Scan(&kb.ID, &kb.Accepted, &body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return KeyedBatch{}, false, nil
	case err != nil:
		return KeyedBatch{}, false, err
	}
	if sum := sha256.Sum256(ndjson); !bytes.Equal(sum[:], body) {
		return KeyedBatch{}, false, ErrKeyReused
	}
	kb.Duplicate = true
	return kb, true, nil
}
