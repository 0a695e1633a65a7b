package scale

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// apiProbe asks burnwatch's API where every SLO stands every probeEvery,
// from its start to the end of the run, and keeps how long each answer
// took by phase: the first start, the steady cycles, and the report
// the harness asks for during them. Issue 10 asks for answers under 100 ms
// whatever burnwatch is doing.
type apiProbe struct {
	mu     sync.Mutex
	phase  string
	took   map[string][]time.Duration
	errors int
	stop   context.CancelFunc
	done   chan struct{}
}

// probeEvery is how often the API is asked.
const probeEvery = time.Second

func startProbe(ctx context.Context, url string) *apiProbe {
	ctx, cancel := context.WithCancel(ctx)
	p := &apiProbe{phase: "first start", took: map[string][]time.Duration{}, stop: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(p.done)
		t := time.NewTicker(probeEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			start := time.Now()
			resp, err := client.Get(url + "/api/v1/slos")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			d := time.Since(start)
			p.mu.Lock()
			if err != nil || resp.StatusCode != http.StatusOK {
				p.errors++
			} else {
				p.took[p.phase] = append(p.took[p.phase], d)
			}
			p.mu.Unlock()
		}
	}()
	return p
}

// set starts a phase.
func (p *apiProbe) set(phase string) {
	p.mu.Lock()
	p.phase = phase
	p.mu.Unlock()
}

// finish stops the probe and returns what it saw.
func (p *apiProbe) finish() []APIPhase {
	p.stop()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []APIPhase
	for _, phase := range []string{"first start", "steady", "during a report"} {
		ds := p.took[phase]
		if len(ds) == 0 {
			continue
		}
		slices.Sort(ds)
		out = append(out, APIPhase{
			Phase: phase, Requests: len(ds),
			MedianMS: float64(ds[len(ds)/2].Microseconds()) / 1000,
			P99MS:    float64(ds[len(ds)*99/100].Microseconds()) / 1000,
			MaxMS:    float64(ds[len(ds)-1].Microseconds()) / 1000,
		})
	}
	return out
}

// APIPhase is how long GET /api/v1/slos took in a phase of the run.
type APIPhase struct {
	Phase    string  `json:"phase"`
	Requests int     `json:"requests"`
	MedianMS float64 `json:"median_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
}

// askReport asks burnwatch for the weekly report of the last week, as an
// on-call engineer or a schedule would, while the API is probed.
func askReport(ctx context.Context, url string) (time.Duration, error) {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/report?format=json", nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return time.Since(start), nil
}
