package scale

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// notification is what the harness reads of a webhook body (version 1,
// notify/webhook's Payload): enough to tell which alert, and when.
type notification struct {
	Kind     string            `json:"kind"`
	SLO      string            `json:"slo"`
	Labels   map[string]string `json:"labels"`
	Severity string            `json:"severity"`
	State    string            `json:"state"`
	Time     time.Time         `json:"time"`
	// Received is when the harness got it.
	Received time.Time `json:"-"`
	// Route is the path it was posted to: /page or /ticket.
	Route string `json:"-"`
}

// hook is the webhook receiver burnwatch pages. It keeps every
// notification and answers 200; it does not check signatures, which the
// notify/webhook tests do.
type hook struct {
	mu     sync.Mutex
	got    []notification
	notify chan struct{} // closed and replaced on every notification
}

func newHook() *hook { return &hook{notify: make(chan struct{})} }

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var n notification
	if err == nil {
		err = json.Unmarshal(body, &n)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n.Received, n.Route = time.Now(), r.URL.Path
	h.mu.Lock()
	h.got = append(h.got, n)
	close(h.notify)
	h.notify = make(chan struct{})
	h.mu.Unlock()
}

// firstPage returns the first page that fired for one of the databases,
// and a channel closed on the next notification, to wait on when there is
// none yet.
func (h *hook) firstPage(dbs map[string]bool) (*notification, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.got {
		n := &h.got[i]
		if n.Severity == "page" && n.State == "firing" && n.Kind == "burn-rate" && dbs[n.Labels["database"]] {
			return n, h.notify
		}
	}
	return nil, h.notify
}

// counts returns how many pages fired for the databases and for others,
// and how many notifications came in all.
func (h *hook) counts(dbs map[string]bool) (injected, other, all int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, n := range h.got {
		if n.Severity != "page" || n.State != "firing" {
			continue
		}
		db := n.Labels["database"]
		switch {
		case dbs[db] && !seen[db]:
			seen[db] = true
			injected++
		case !dbs[db]:
			other++
		}
	}
	return injected, other, len(h.got)
}
