package scale

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Simulator is the fleet's live side: a scrape target exposing every
// database's counters as they stand now, going on from where the history
// ended, so that Prometheus sees neither a gap nor a reset. Its counters
// move in Step steps on the same grid as the history, whenever it is
// scraped; between scrapes nothing runs.
//
//	GET  /metrics                      the counters, Prometheus text format
//	POST /-/fail?database=db-07&at=T   db-07 fails every query from T
//	                                   (RFC 3339; now if left out); repeat
//	                                   database for more
type Simulator struct {
	now func() time.Time

	mu    sync.Mutex
	fleet *Fleet
	at    int64  // ms: the step the counters are at
	body  []byte // the exposition at `at`
	built int64  // ms: the step body was made at

	scrapes atomic.Int64
}

// NewSimulator returns the live target of a fleet whose counters are at
// the step at.
func NewSimulator(f *Fleet, at time.Time, now func() time.Time) *Simulator {
	return &Simulator{fleet: f, at: at.UnixMilli(), now: now, built: -1}
}

// Scrapes is how many times /metrics has been served.
func (s *Simulator) Scrapes() int64 { return s.scrapes.Load() }

// Fail makes the named databases fail every query from at on: every query
// of theirs counts as a PlatformCode error. It fails on a name it does not
// know, and changes nothing then.
func (s *Simulator) Fail(names []string, at time.Time) error {
	idx := make([]int, len(names))
	for k, name := range names {
		i, ok := s.fleet.Index(name)
		if !ok {
			return fmt.Errorf("no database %q in a fleet of %d", name, s.fleet.Len())
		}
		idx[k] = i
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range idx {
		s.fleet.Fail(i, at)
	}
	return nil
}

func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/metrics" && r.Method == http.MethodGet:
		body := s.exposition()
		s.scrapes.Add(1)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(body)
	case r.URL.Path == "/-/fail" && r.Method == http.MethodPost:
		at := s.now()
		if v := r.FormValue("at"); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				http.Error(w, "at: "+err.Error(), http.StatusBadRequest)
				return
			}
			at = t
		}
		if err := s.Fail(r.Form["database"], at); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s fail every query from %s\n", strings.Join(r.Form["database"], ", "), at.UTC().Format(time.RFC3339))
	default:
		http.NotFound(w, r)
	}
}

// exposition advances the fleet to now and returns its counters.
func (s *Simulator) exposition() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UnixMilli()
	for t := s.at + stepMs; t <= now; t += stepMs {
		for i := range s.fleet.Len() {
			s.fleet.Advance(i, t)
		}
		s.at = t
	}
	if s.built == s.at {
		return s.body
	}
	var b bytes.Buffer
	b.Grow(s.fleet.Len() * 3 * 140)
	for k, head := range []string{"# TYPE " + QueriesMetric + " counter\n", "# TYPE " + ErrorsMetric + " counter\n"} {
		b.WriteString(head)
		for i := range s.fleet.Len() {
			v := s.fleet.state[i].values()
			ls := s.fleet.seriesLabels(i)
			for series := range 3 {
				if (series == 0) != (k == 0) {
					continue
				}
				b.WriteString(ls[series].Get(labels.MetricName))
				b.WriteByte('{')
				first := true
				ls[series].Range(func(l labels.Label) {
					if l.Name == labels.MetricName {
						return
					}
					if !first {
						b.WriteByte(',')
					}
					first = false
					b.WriteString(l.Name)
					b.WriteString(`="`)
					b.WriteString(l.Value)
					b.WriteByte('"')
				})
				b.WriteString("} ")
				b.Write(strconv.AppendFloat(nil, v[series], 'f', -1, 64))
				b.WriteByte('\n')
			}
		}
	}
	s.body, s.built = b.Bytes(), s.at
	return s.body
}
