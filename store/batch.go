package store

import (
	"context"
	"fmt"
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
