package service

import (
	"fmt"
	"sync"
)

// FailedCyclesNotReady is how many evaluation cycles in a row must fail
// (a full disk, a broken store: nothing is committed, so nothing pages)
// before /readyz says so: 90 seconds at the default 30s interval, long
// enough that one failed commit does not take the service out of its
// load balancer, short enough that a stuck one is seen before its first
// missed page would be. burnwatch_cycle_failures_total counts each, and
// the BurnwatchCyclesFailing rule alerts on them.
const FailedCyclesNotReady = 3

// cycleHealth counts the evaluation cycles failed in a row.
type cycleHealth struct {
	mu      sync.Mutex
	failed  int
	lastErr error
}

// cycled records an evaluation cycle's outcome.
func (h *cycleHealth) cycled(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.failed, h.lastErr = 0, nil
		return
	}
	h.failed++
	h.lastErr = err
}

// failing is why the service is not ready for its failed cycles, "" when
// fewer than FailedCyclesNotReady failed in a row.
func (h *cycleHealth) failing() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed < FailedCyclesNotReady {
		return ""
	}
	return fmt.Sprintf("the last %d evaluation cycles failed, the last with: %v", h.failed, h.lastErr)
}
