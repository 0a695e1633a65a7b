package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/burnwatch/burnwatch/querylog"
)

// Defaults of Options.
const (
	// DefaultPoll is how often the query log is read. Each read that found
	// lines ends in a checkpoint (one fsync'd state file), so this is also
	// how stale the exporter's counters are at most.
	DefaultPoll = time.Second
	// DefaultGrace is how long after a minute ends the agent waits before
	// it spools the minute: Neo4j stamps an entry when the query ends and
	// writes it at once, so a few seconds cover threads that finish out of
	// order. An entry later than that is not lost: it is pushed in a
	// later batch, as a further line for its minute, which serve adds.
	DefaultGrace = 10 * time.Second
	// DefaultMaxSpoolBytes bounds the spool: about a week of minutes of
	// 100 databases. At the limit the agent stops reading the log (which
	// then holds the rest, until Neo4j rotates it away) rather than lose
	// what it has counted.
	DefaultMaxSpoolBytes = 256 << 20
)

// Options configure an Agent.
type Options struct {
	// QueryLog is the path of query.log; rotated files beside it
	// (query.log.01, …) are read when the agent falls behind a rotation.
	QueryLog string
	// Dir holds the agent's state and, when pushing, its spool. It must
	// survive restarts of the agent (a volume of the pod, not /tmp).
	Dir string
	// Push, when set, pushes completed minutes to serve.
	Push *PushOptions
	// Now is the clock (time.Now when nil).
	Now           func() time.Time
	Poll          time.Duration // DefaultPoll when 0
	Grace         time.Duration // DefaultGrace when 0
	MaxLine       int           // querylog.DefaultMaxLine when 0
	MaxDatabases  int           // DefaultMaxDatabases when 0
	MaxSpoolBytes int64         // DefaultMaxSpoolBytes when 0
	// Registerer gets the agent's own metrics; the exporter's counters
	// are Collector().
	Registerer prometheus.Registerer
	Logger     *slog.Logger // discards when nil
}

// Agent reads one query log and keeps its counts.
type Agent struct {
	o      Options
	log    *slog.Logger
	state  *State
	tail   *querylog.Tail
	parser querylog.Parser
	spool  *spool
	exp    *exporter
	m      *metrics

	// lastEnd is the offset after the last line read in the tail's file.
	lastEnd int64
	// committed is the NextSeq of the last committed state: the pusher
	// sends only batches below it.
	committed atomic.Uint64
	wake      chan struct{}
	// Counts already added to the metrics, to add only what is new.
	seenSkipped, seenLong, seenRot, seenTrunc int
	seenDropped                               map[string]int
	full                                      bool
}

// New opens the agent's state in o.Dir and the query log at the saved
// position.
func New(o Options) (*Agent, error) {
	if o.QueryLog == "" || o.Dir == "" {
		return nil, errors.New("agent: a query log path and a state directory are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.MaxSpoolBytes <= 0 {
		o.MaxSpoolBytes = DefaultMaxSpoolBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Push != nil {
		if o.Push.SLO == "" || o.Push.URL == "" || o.Push.TokenFile == "" {
			return nil, errors.New("agent: pushing needs serve's URL, a token file and an SLO name")
		}
		if o.Push.DatabaseLabel == "" {
			o.Push.DatabaseLabel = "database"
		}
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	st, err := loadState(o.Dir, o.Push != nil)
	if err != nil {
		return nil, err
	}
	st.Tally.MaxDatabases = o.MaxDatabases
	a := &Agent{o: o, log: o.Logger, state: st, exp: &exporter{}, m: newMetrics(o.Registerer),
		wake: make(chan struct{}, 1), seenDropped: map[string]int{}}
	if o.Push != nil {
		if a.spool, err = openSpool(o.Dir+"/spool", st.NextSeq); err != nil {
			return nil, err
		}
	}
	a.committed.Store(st.NextSeq)
	a.tail, err = querylog.Open(o.QueryLog, st.Position)
	if err != nil {
		return nil, err
	}
	a.tail.MaxLine = o.MaxLine
	a.lastEnd = a.tail.Offset()
	if a.tail.Lost {
		a.m.lost.Inc()
		a.log.Warn("the query log file of the saved position is gone; lines written to it after the last checkpoint were not read",
			"position", st.Position.String())
	}
	a.exp.publish(st.Tally.snapshot())
	a.updateGauges()
	return a, nil
}

// Collector returns the exporter: neo4j_queries_total and
// neo4j_query_errors_total as of the last checkpoint.
func (a *Agent) Collector() prometheus.Collector { return a.exp }

// Close closes the query log.
func (a *Agent) Close() error { return a.tail.Close() }

// Step reads what the log holds now, counts it, spools the minutes that
// are complete and commits a checkpoint. It is the whole of the agent's
// work but the pushing; Run calls it every Poll.
func (a *Agent) Step() error {
	now := a.o.Now()
	a.full = a.spool != nil && a.spoolBytes() >= a.o.MaxSpoolBytes
	read := 0
	if !a.full {
		err := a.tail.Read(func(b []byte, start, end int64) error {
			read++
			a.parser.Line(b, start, a.state.Tally.Add)
			a.lastEnd = end
			return nil
		}, func() error {
			// The file is left (rotated away or truncated): its last
			// entry is complete, and the next file starts at 0.
			if e, ok := a.parser.Flush(); ok {
				a.state.Tally.Add(e)
			}
			a.lastEnd = 0
			return nil
		})
		if err != nil {
			a.m.checkpointEr.Inc()
			return err
		}
	}
	changed := read > 0
	if read == 0 {
		// Nothing new for a whole poll: a held text entry is complete.
		if e, ok := a.parser.Flush(); ok {
			a.state.Tally.Add(e)
			changed = true
		}
	}
	a.m.lines.Add(float64(read))
	a.countTail()

	var batches [][]byte
	if a.spool != nil && !a.full {
		closed := a.state.Tally.Close(now.Add(-a.o.Grace).UnixMilli())
		var err error
		if batches, err = a.o.Push.encodeBatches(closed); err != nil {
			return err
		}
	}
	if !changed && len(batches) == 0 {
		a.updateGauges()
		return nil
	}
	if err := a.commit(batches); err != nil {
		a.m.checkpointEr.Inc()
		// The counts in memory are ahead of the disk: start again from
		// the last commit, so that what is served and spooled always
		// matches what was written.
		if rerr := a.reopen(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return nil
}

// commit spools the batches, then writes the state that counts them as
// spooled together with the position they were counted up to. A crash
// between the two leaves batch files numbered at or past the state's
// NextSeq, which the next start removes: their lines are read again.
func (a *Agent) commit(batches [][]byte) error {
	next := a.state.NextSeq
	for _, b := range batches {
		if err := a.spool.write(next, b); err != nil {
			return err
		}
		next++
	}
	safe := a.lastEnd
	if start, ok := a.parser.Pending(); ok {
		safe = start
	}
	pos, err := a.tail.Position(safe)
	if err != nil {
		return err
	}
	st := *a.state
	st.Position, st.NextSeq = pos, next
	if err := saveState(a.o.Dir, &st); err != nil {
		return err
	}
	a.state.Position, a.state.NextSeq = pos, next
	a.committed.Store(next)
	a.exp.publish(a.state.Tally.snapshot())
	a.m.checkpoints.Inc()
	a.m.lastCommit.Set(float64(a.o.Now().UnixNano()) / 1e9)
	a.updateGauges()
	if len(batches) > 0 {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// reopen goes back to the last committed state after a failed commit.
func (a *Agent) reopen() error {
	st, err := loadState(a.o.Dir, a.spool != nil)
	if err != nil {
		return err
	}
	st.Tally.MaxDatabases = a.o.MaxDatabases
	tail, err := querylog.Open(a.o.QueryLog, st.Position)
	if err != nil {
		return err
	}
	if a.spool != nil {
		if err := a.spool.discardFrom(st.NextSeq); err != nil {
			tail.Close()
			return err
		}
	}
	a.tail.Close()
	a.state, a.tail, a.parser = st, tail, querylog.Parser{}
	a.tail.MaxLine = a.o.MaxLine
	a.lastEnd = tail.Offset()
	a.seenRot, a.seenTrunc, a.seenLong, a.seenSkipped = 0, 0, 0, 0
	return nil
}

// Run reads the log every Poll and, when pushing, sends the spool, until
// ctx ends. A step that fails is logged and repeated at the next poll.
func (a *Agent) Run(ctx context.Context) error {
	done := make(chan struct{})
	if a.spool != nil {
		p := &pusher{o: a.o.Push, spool: a.spool, committed: a.committed.Load, key: a.key,
			log: a.log, m: a.m, sleep: sleepCtx}
		go func() {
			defer close(done)
			p.run(ctx, a.wake)
		}()
		a.wake <- struct{}{} // what a previous run left in the spool
	} else {
		close(done)
	}
	tick := time.NewTicker(a.o.Poll)
	defer tick.Stop()
	for {
		if err := a.Step(); err != nil {
			a.log.Error("reading the query log", "err", err)
		}
		select {
		case <-ctx.Done():
			<-done
			return nil
		case <-tick.C:
		}
	}
}

// key is the idempotency key of batch seq.
func (a *Agent) key(seq uint64) string { return fmt.Sprintf("%s-%d", a.state.AgentID, seq) }

func (a *Agent) spoolBytes() int64 {
	_, b := a.spool.size()
	return b
}

// countTail adds what the tail and the parser counted since last time to
// the metrics.
func (a *Agent) countTail() {
	add := func(c prometheus.Counter, now int, seen *int) {
		if now > *seen {
			c.Add(float64(now - *seen))
		}
		*seen = now
	}
	add(a.m.rotations, a.tail.Rotations, &a.seenRot)
	add(a.m.truncations, a.tail.Truncations, &a.seenTrunc)
	add(a.m.skipped.WithLabelValues("too_long"), a.tail.LongLines, &a.seenLong)
	add(a.m.skipped.WithLabelValues("unparsed"), a.parser.Skipped, &a.seenSkipped)
	for reason, n := range a.state.Tally.Dropped {
		seen := a.seenDropped[reason]
		add(a.m.dropped.WithLabelValues(reason), n, &seen)
		a.seenDropped[reason] = seen
	}
}

func (a *Agent) updateGauges() {
	if a.spool == nil {
		return
	}
	n, b := a.spool.size()
	a.m.spoolBatches.Set(float64(n))
	a.m.spoolBytes.Set(float64(b))
	if a.full {
		a.m.spoolFull.Set(1)
	} else {
		a.m.spoolFull.Set(0)
	}
}
