package service

import (
	"time"

	"github.com/burnwatch/burnwatch/ingest"
)

// What is over a limit of the config's limits (slo.Limits) is refused by
// the API or, for a series read from a source, dropped by the router;
// either way it is counted in burnwatch_dropped_total{reason} and logged.

// Reasons beyond the router's: what the API refuses.
const (
	dropSilences     = "silences"
	dropSilenceBytes = "silence_bytes"
)

// dropReasons are every reason of burnwatch_dropped_total.
func dropReasons() []string {
	var out []string
	for _, r := range ingest.DropReasons() {
		out = append(out, r.String())
	}
	return append(out, dropSilences, dropSilenceBytes)
}

func (m *Metrics) dropped(reason string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.Dropped.WithLabelValues(reason).Add(float64(n))
}

// dropLogEvery is how often the log says that series are being dropped,
// per reason: a dropped series is dropped again at every read, and a line
// per read would flood the log.
const dropLogEvery = time.Minute

// dropLog is what the writer has dropped and not logged yet; only the
// writer touches it.
type dropLog struct {
	pending ingest.Drops
	last    [len(ingest.Drops{}.Count)]time.Time
}

// noteDrops counts what the router dropped since it was last asked, and
// logs it at most every dropLogEvery per reason. It runs on the writer.
func (s *Service) noteDrops() {
	d := s.eng.Router().TakeDrops()
	if !d.Any() && !s.drops.pending.Any() {
		return
	}
	now := time.Now()
	limits := s.config().Limits
	limit := map[ingest.DropReason]int{
		ingest.DropLabels: limits.MaxLabels, ingest.DropLabelValueLength: limits.MaxLabelValueLength,
		ingest.DropInstances: limits.MaxInstancesPerSLO, ingest.DropCodes: limits.MaxCodesPerInstance,
	}
	p := &s.drops.pending
	for i, n := range d.Count {
		if n == 0 && p.Count[i] == 0 {
			continue
		}
		s.metrics.dropped(ingest.DropReason(i).String(), n)
		p.Count[i] += n
		if n > 0 {
			p.Example[i], p.SLO[i] = d.Example[i], d.SLO[i]
		}
		if now.Sub(s.drops.last[i]) < dropLogEvery {
			continue
		}
		s.log.Warn("series dropped: over a limit; raise it under limits: if the data is real",
			"reason", ingest.DropReason(i).String(), "limit", limit[ingest.DropReason(i)],
			"series", p.Count[i], "slo", p.SLO[i], "example", p.Example[i])
		s.drops.last[i] = now
		p.Count[i] = 0
	}
}
