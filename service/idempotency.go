package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/burnwatch/burnwatch/store"
)

// IdempotencyKeyHeader names a pushed batch, so that a client that lost a
// 202 can send the batch again without its events being counted twice
// (the IETF httpapi draft's header). A batch whose key serve stored within
// store.IdempotencyRetention is not stored again: it gets the first
// answer, the same 202 with the same batch id.
const IdempotencyKeyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds a key; a UUID is 36 characters.
const maxIdempotencyKey = 255

// idempotencyKey returns the request's key, "" when it has none, or an
// error for a key that is empty or not printable ASCII.
func idempotencyKey(h http.Header) (string, error) {
	vs, ok := h[http.CanonicalHeaderKey(IdempotencyKeyHeader)]
	if !ok {
		return "", nil
	}
	if len(vs) != 1 {
		return "", fmt.Errorf("%s: give one key, not %d", IdempotencyKeyHeader, len(vs))
	}
	k := vs[0]
	if k == "" || len(k) > maxIdempotencyKey {
		return "", fmt.Errorf("%s: a key has 1 to %d characters", IdempotencyKeyHeader, maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", fmt.Errorf("%s: a key is printable ASCII without spaces", IdempotencyKeyHeader)
		}
	}
	return k, nil
}

// answerKeyed answers a batch whose key was stored before: the first
// answer again, or 422 when the key came with another body.
func (a *apiServer) answerKeyed(ctx context.Context, w http.ResponseWriter, kb store.KeyedBatch, err error) {
	switch {
	case errors.Is(err, store.ErrKeyReused):
		a.reject(ctx, RejectInvalid, err)
		respondError(w, http.StatusUnprocessableEntity, "%s was used for a batch with another body; use a new key for a new batch", IdempotencyKeyHeader)
	case err != nil:
		a.reject(ctx, RejectStoreError, err)
		respondError(w, http.StatusServiceUnavailable, "the batch could not be stored, and nothing of it was kept; send it again later")
	default:
		a.log.LogAttrs(ctx, slog.LevelDebug, "event batch stored before under its idempotency key; not stored again", slog.Int64("batch", kb.ID))
		w.Header().Set("Idempotent-Replayed", "true")
		respondJSON(w, http.StatusAccepted, acceptedBatch{Accepted: kb.Accepted, Batch: kb.ID})
	}
}
