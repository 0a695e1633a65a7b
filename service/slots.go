package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/common/model"
)

// Reports and exports read a fleet's history: each takes a slot, so that
// however many are asked for at once, memory and the store's read
// connections hold a bounded number (docs/serve.md, "Limits").
const (
	// maxExports is how many exports run at once: one streams a fleet's
	// minutes for minutes, with one instance in memory.
	maxExports = 1
	// maxReports is how many reports asked over HTTP are made at once:
	// one holds a fleet's codes of its span while it is made.
	maxReports = 2
	// busyRetry is the Retry-After of a request refused for want of a
	// slot, in seconds.
	busyRetry = "10"
)

// ErrBusy refuses a report or an export asked over HTTP while every slot
// is taken: the client may ask again later (429, Retry-After).
var ErrBusy = errors.New("as many reports or exports as burnwatch makes at once are being made; ask again later")

// noWaitKey marks a context whose report or export does not wait for a
// slot: HTTP requests, which a client may repeat, get ErrBusy at once
// rather than queueing without bound.
type noWaitKey struct{}

func withoutWaiting(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

// overHTTP reports whether ctx is an HTTP request's, marked by
// withoutWaiting.
func overHTTP(ctx context.Context) bool {
	marked, _ := ctx.Value(noWaitKey{}).(bool)
	return marked
}

// slot takes one of sem's slots, waiting for one unless ctx says not to,
// and returns its release.
func slot(ctx context.Context, sem chan struct{}) (release func(), err error) {
	if overHTTP(ctx) {
		select {
		case sem <- struct{}{}:
			return func() { <-sem }, nil
		default:
			return nil, ErrBusy
		}
	}
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// busy answers a request refused for want of a slot.
func busy(w http.ResponseWriter) {
	w.Header().Set("Retry-After", busyRetry)
	respondError(w, http.StatusTooManyRequests, "%s", ErrBusy.Error())
}

// ErrReportTooLong refuses a report over a span longer than the history
// kept.
var ErrReportTooLong = errors.New("report too long")

// checkReportSpan refuses a report over more than most, the history kept:
// beyond it there is nothing to report, and a span of centuries (whose
// length time.Duration cannot even hold: Sub saturates) would make the
// report's loops run for ever.
func checkReportSpan(from, to time.Time, most time.Duration) error {
	if !to.After(from) {
		return fmt.Errorf("the span's end %s is not after its start %s", to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))
	}
	if to.Sub(from) > most {
		return fmt.Errorf("%w: %s to %s is longer than the %s of history kept", ErrReportTooLong, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), model.Duration(most))
	}
	return nil
}
