package engine

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// Mode says what a batch is, and so what becomes of the transitions it
// makes. It is the only difference between the ways data arrives: every
// mode counts and evaluates alike.
type Mode uint8

const (
	// Live is a source read as it goes: transitions are notified as they
	// happen.
	Live Mode = iota
	// Backfill is history a source holds and burnwatch has not read (a
	// first start, a restart after a while): its transitions go to the
	// log, and the alerts still firing when it is done are notified.
	Backfill
	// Import is a recording: its transitions go to the log, nothing is
	// notified.
	Import
)

func (m Mode) String() string {
	switch m {
	case Backfill:
		return "backfill"
	case Import:
		return "import"
	}
	return "live"
}

// Batch is what one read of a source brought: the samples with time in
// (From, Through], or an error.
type Batch struct {
	Source string
	Mode   Mode
	// From and Through bound the read (ms): every sample of the source up
	// to Through is in this batch or an earlier one.
	From, Through int64
	// Runs are counter samples, each run one series' in time order; a
	// series may have several runs, in time order.
	Runs []Run
	// Pushed are batches of pushed counts; one counted but not yet
	// committed (a failed commit) is skipped.
	Pushed []Pushed
	// Recount marks pushed batches counted before a restart, after the
	// last checkpoint: counted again, and marked so in the store already.
	Recount bool
	// Err is why the read failed; the batch then holds nothing.
	Err error
	// Coarse marks a first start's older history: counted by the hour,
	// not evaluated (the engine keeps that span only at its coarse
	// boundaries).
	Coarse bool
	// Quiet counts the batch minute by minute without evaluating it: the
	// part of a first start's exact history that the windows of its first
	// evaluated minutes reach back into.
	Quiet bool
	// Done marks a backfill's last batch: the alerts still firing are
	// notified.
	Done bool
}

// Run is one series' samples in time order.
type Run struct {
	Labels labels.Labels
	T      []int64
	V      []float64
}

// Pushed is one pushed batch.
type Pushed struct {
	ID     int64
	Events []Event
}

// Event is one pushed line: the counts of one SLO instance in one minute,
// counted at the minute's end (Time, ms).
type Event struct {
	Time   int64
	SLO    string
	Labels labels.Labels
	Total  float64
	Errors map[string]float64
}

// Notice is a transition to notify, with its place in the pending cycle's
// transitions (store.NoTransition for one already committed).
type Notice struct {
	Transition burnrate.Transition
	Index      int
}

// Result is what an Apply did.
type Result struct {
	// Notify are the transitions to notify now, in order.
	Notify []Notice
	// Samples are the samples and pushed lines counted; Series those of
	// series some SLO reads.
	Samples, Series int
	// Evaluated is the last minute evaluated (ms), 0 if none.
	Evaluated int64
	// BackfillDone marks the result of a backfill's last batch, whose
	// Notify are the alerts still firing at its end.
	BackfillDone bool
}

// minuteMS is a minute in milliseconds.
const minuteMS = int64(time.Minute / time.Millisecond)

// Apply counts a batch and evaluates the source's SLOs at every whole
// minute it completes, in time order, exactly as the instances stood at
// that minute. Transitions go to the pending cycle; those of a Live batch
// are returned to notify. An error part way leaves the engine broken: it
// must be rebuilt from the store.
func (e *Engine) Apply(b Batch) (Result, error) {
	if b.Err != nil {
		return e.failed(b)
	}
	o, err := e.Open(b)
	if err != nil {
		return Result{}, err
	}
	if err := o.Add(b.Runs); err != nil {
		return Result{}, err
	}
	return o.Close()
}

// failed notes a source's failed read: its no-data clock runs on.
func (e *Engine) failed(b Batch) (Result, error) {
	var res Result
	f := e.feeds[b.Source]
	if f == nil {
		return res, fmt.Errorf("no source named %q", b.Source)
	}
	f.Failing = b.Err
	e.stepNoData(f, e.now().UnixMilli(), &res)
	return res, nil
}

// OpenBatch is a batch being received in parts: a large read streams into
// the engine series by series (Add), between other work, and is counted
// and evaluated once whole (Close). Until then nothing of it is counted,
// but its series' cursors have moved: an OpenBatch not closed must be
// aborted, which leaves the engine to be rebuilt from the store.
type OpenBatch struct {
	e     *Engine
	b     Batch
	f     *Feed
	batch *ingest.Batch
	added bool
	done  bool
	pos   int // the place of the next run in the source's order
}

// Open starts a batch whose runs come with Add; b's own Runs and Pushed
// are taken too.
func (e *Engine) Open(b Batch) (*OpenBatch, error) {
	if e.broken != nil {
		return nil, e.broken
	}
	f := e.feeds[b.Source]
	if f == nil {
		return nil, fmt.Errorf("no source named %q", b.Source)
	}
	if b.Err != nil {
		return nil, fmt.Errorf("a failed read of %s opens no batch", b.Source)
	}
	f.Failing = nil
	if f.watchedFrom == 0 {
		f.watchedFrom = b.From
	}
	step := ingest.MinuteBins
	if b.Coarse {
		step = ingest.HourBins
	}
	o := &OpenBatch{e: e, b: b, f: f, batch: e.router.NewBatch(step)}
	if err := e.gatherPushed(o.batch, f, b); err != nil {
		o.abort(err)
		return nil, e.broken
	}
	return o, nil
}

// Add takes runs of the batch: each series' samples in time order.
func (o *OpenBatch) Add(runs []Run) error {
	if o.done {
		return errors.New("the batch is closed")
	}
	if o.e.broken != nil {
		return o.e.broken
	}
	f := o.f
	for _, r := range runs {
		o.added = true
		// A source reads its series in the same order each time: the one
		// read at this place the last time is likely this one.
		var guess *ingest.Series
		if o.pos < len(f.order) {
			guess = f.order[o.pos]
		}
		s, err := o.batch.RunLike(guess, r.Labels, r.T, r.V)
		if err != nil {
			o.abort(err)
			return o.e.broken
		}
		if o.pos < len(f.order) {
			f.order[o.pos] = s
		} else {
			f.order = append(f.order, s)
		}
		o.pos++
	}
	return nil
}

// Abort drops a batch not closed. If any of it was added, the engine is
// left broken: its cursors are ahead of its counts.
func (o *OpenBatch) Abort(why error) {
	if o.done {
		return
	}
	if o.added {
		o.abort(why)
		return
	}
	o.done = true
	o.batch.Close()
}

func (o *OpenBatch) abort(err error) {
	o.done = true
	o.batch.Close()
	o.e.broken = fmt.Errorf("counting a batch of %s: %w", o.b.Source, err)
}

// Close counts the batch and evaluates the source's SLOs at every whole
// minute it completes.
func (o *OpenBatch) Close() (Result, error) {
	var res Result
	e, f, b := o.e, o.f, o.b
	if o.done {
		return res, errors.New("the batch is closed")
	}
	if e.broken != nil {
		return res, e.broken
	}
	o.done = true
	defer o.batch.Close()
	if o.pos < len(f.order) {
		f.order = f.order[:o.pos]
	}
	if b.Mode == Backfill {
		f.Backfilling = !b.Done
	}
	evaluates := !b.Coarse && !b.Quiet
	if f.Evaluated == 0 && evaluates {
		// The first minutes evaluated are those after the first read's start.
		f.Evaluated = b.From - b.From%minuteMS
	}
	var evaluate func(int64)
	if evaluates {
		specs := e.specsOf(f)
		evaluate = func(T int64) { e.evaluateAt(f, specs, T, b.Mode, &res) }
	}
	batch := o.batch
	// A series first seen more than the lookback after the source's data
	// begins (or after the engine began watching it) appeared while
	// watched, and counts from zero; one seen before is a baseline. The
	// data's beginning is the earliest sample of the first batch that had
	// any: a first start reads further back than its server may keep.
	dataStart := f.dataStart
	if dataStart == 0 && batch.Samples > 0 {
		dataStart = batch.Min
	}
	since := max(f.watchedFrom, dataStart) + lookback.Milliseconds()
	// A backfill is not journalled: it may be days of a whole fleet, and
	// it ends with a snapshot (Cycle takes one for the checkpoint after
	// it); until then no checkpoint is written.
	journal := e.addJournal
	if b.Mode == Backfill {
		journal = nil
		e.needSnapshot = true
	}
	if err := batch.Count(f.Evaluated, b.Through, since, evaluate, journal); err != nil {
		e.broken = fmt.Errorf("counting a batch of %s: %w", b.Source, err)
		return res, e.broken
	}
	now := e.now().UnixMilli()
	// The minutes of a batch counted without evaluation are passed: the
	// next batch evaluates from its end.
	f.Evaluated = max(f.Evaluated, b.Through-b.Through%minuteMS)
	e.pending.evaluated[f.Source.Name] = f.Evaluated
	if evaluates {
		res.Evaluated = f.Evaluated
	}
	f.Cursor = max(f.Cursor, b.Through)
	if f.dataStart == 0 && batch.Samples > 0 {
		f.dataStart = batch.Min
	}
	res.Samples, res.Series = batch.Samples, batch.SLOSeries
	if batch.Samples > 0 {
		f.LastData = now
	}
	if evaluates {
		e.flushHistory(f, b.Through-historySettle.Milliseconds())
	} else {
		// The per-minute history of a long backfill begins with its
		// evaluated part: the hours before are counted, not kept.
		for _, sp := range e.specsOf(f) {
			h := b.Through / hourMS
			if e.historyCursor[sp.SLO.Name] < h {
				e.historyCursor[sp.SLO.Name] = h
				e.pending.historyCursors[sp.SLO.Name] = h
			}
		}
	}
	if b.Mode != Import {
		e.stepNoData(f, now, &res)
	}
	if b.Mode == Backfill && b.Done {
		res.BackfillDone = true
		// The alerts that fired while burnwatch was not watching and fire
		// still are notified now; those that came and went are in the log.
		for _, id := range slices.Sorted(maps.Keys(f.latest)) {
			if t := f.latest[id]; t.State == burnrate.Firing {
				res.Notify = append(res.Notify, Notice{Transition: t, Index: store.NoTransition})
			}
		}
		clear(f.latest)
	}
	return res, nil
}

// gatherPushed adds the batch's pushed lines to an ingest batch.
func (e *Engine) gatherPushed(batch *ingest.Batch, f *Feed, b Batch) error {
	for _, p := range b.Pushed {
		if f.counted[p.ID] {
			// Counted, and still pending in the store: the commit that
			// marks it failed.
			continue
		}
		if !b.Recount {
			f.counted[p.ID] = true
			e.pending.consumed = append(e.pending.consumed, p.ID)
		}
		for _, ev := range p.Events {
			if tot := e.router.Pushed(ev.SLO, ev.Labels, ""); tot != nil {
				if err := batch.Increment(tot, ev.Time, ev.Total); err != nil {
					return err
				}
			}
			for _, code := range slices.Sorted(maps.Keys(ev.Errors)) {
				if ser := e.router.Pushed(ev.SLO, ev.Labels, code); ser != nil {
					if err := batch.Increment(ser, ev.Time, ev.Errors[code]); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// specsOf returns the compiled SLOs read from f (among others, for an
// SLO that reads several sources).
func (e *Engine) specsOf(f *Feed) []*burnrate.Spec {
	var out []*burnrate.Spec
	for _, sp := range e.router.Specs {
		if sp.SLO.Reads(f.Source.Name) {
			out = append(out, sp)
		}
	}
	return out
}

// owns reports whether an instance of sp is f's to count and evaluate:
// every instance of an SLO reading one source; for one reading several,
// those that carry f's labels (the config makes each instance one
// source's).
func owns(f *Feed, sp *burnrate.Spec, in *burnrate.Instance) bool {
	return !sp.SLO.MultiSource() || slo.Carries(in.Labels, f.Source.Labels)
}

// surgeSpecs are the specs among specs whose fleet-wide surge guard f
// steps: an SLO reading several sources has it stepped on its first
// source's minutes, over the instances of all. (An import's feed is none
// of the config's sources, and steps every one.)
func surgeSpecs(f *Feed, specs []*burnrate.Spec) []*burnrate.Spec {
	out := specs[:0:0]
	for _, sp := range specs {
		if names := sp.SLO.SourceNames(); !sp.SLO.Reads(f.Source.Name) || names[0] == f.Source.Name {
			out = append(out, sp)
		}
	}
	return out
}

// evaluateAt evaluates f's SLOs at the whole minute T: every instance with
// data in the last no_data.hold, and the surge guards. An instance without
// data for longer is not evaluated: its windows would empty and its alerts
// resolve, and missing data is not health.
func (e *Engine) evaluateAt(f *Feed, specs []*burnrate.Spec, T int64, mode Mode, res *Result) {
	hold := e.cfg.NoData.Hold.Std().Milliseconds()
	var live []*burnrate.Instance
	for _, sp := range specs {
		for _, in := range sp.Instances() {
			if last := in.LastData(); last > 0 && T-last <= hold && owns(f, sp, in) {
				live = append(live, in)
			}
		}
	}
	// Minutes evaluated before a restart are evaluated again, so that the
	// engine's states are as they were, but their transitions are in the
	// log already.
	silent := T <= f.restored
	var batch []burnrate.Transition
	emit := func(t burnrate.Transition) { batch = append(batch, t) }
	e.router.EvaluateInstances(T, live, emit)
	e.router.EvaluateSurges(T, surgeSpecs(f, specs), emit)
	// Transitions of one minute come out in a canonical order, whatever
	// order the instances were first seen in.
	slices.SortStableFunc(batch, burnrate.CompareTransitions)
	for _, t := range batch {
		if silent {
			e.trackOnset(&t)
			continue
		}
		e.emit(f, t, mode, res)
	}
}

// emit records a transition in the pending cycle and, as the mode says,
// notifies it now or at the end of the backfill.
func (e *Engine) emit(f *Feed, t burnrate.Transition, mode Mode, res *Result) {
	idx := e.record(t)
	t = e.pending.transitions[idx]
	switch mode {
	case Live:
		res.Notify = append(res.Notify, Notice{Transition: t, Index: idx})
	case Backfill:
		f.latest[t.ID] = t
	}
}

// trackOnset sets a transition's onset and keeps the firing alerts'.
func (e *Engine) trackOnset(t *burnrate.Transition) {
	switch t.State {
	case burnrate.Firing:
		t.Onset = t.Time
		e.onsets[t.ID] = t.Time
	default:
		t.Onset = t.Time
		if onset, ok := e.onsets[t.ID]; ok {
			t.Onset = onset
		}
		delete(e.onsets, t.ID)
	}
}

// FiringNow evaluates the source's SLOs once, at the last minute counted,
// and returns the alerts that fire then, to be notified: a first start's
// early look at its last hour, on an engine of its own, while the rest of
// the history is being read. The notices name no transition of the log.
func (e *Engine) FiringNow(source string) []Notice {
	f := e.feeds[source]
	if f == nil || f.Evaluated == 0 {
		return nil
	}
	var res Result
	e.evaluateAt(f, e.specsOf(f), f.Evaluated, Live, &res)
	var out []Notice
	for _, n := range res.Notify {
		if n.Transition.State == burnrate.Firing {
			out = append(out, Notice{Transition: n.Transition, Index: store.NoTransition})
		}
	}
	return out
}

// Firing reports whether an alert fires now.
func (e *Engine) Firing(id string) bool {
	_, ok := e.onsets[id]
	return ok
}

// record keeps a transition for the next commit and returns its index
// there.
func (e *Engine) record(t burnrate.Transition) int {
	e.trackOnset(&t)
	line, err := t.MarshalJSON()
	if err != nil {
		// Labels that JSON cannot hold cannot come from a source.
		e.log.Error("encoding a transition", "err", err)
	}
	ms := t.Time.UnixMilli()
	p := &e.pending
	p.records = append(p.records, store.TransitionRecord{Time: ms, AlertID: t.ID, JSON: line})
	p.alerts[t.ID] = store.AlertState{
		ID: t.ID, SLO: t.SLO, Alert: t.Alert, Severity: string(t.Severity),
		Labels: LabelsJSON(t.Labels), State: t.State.String(), Since: ms,
	}
	p.transitions = append(p.transitions, t)
	return len(p.records) - 1
}

// Tick steps the no-data alerts of every source at the clock's time: a
// source whose reads hang delivers no batch to step them.
func (e *Engine) Tick() Result {
	var res Result
	now := e.now().UnixMilli()
	for _, f := range e.order {
		e.stepNoData(f, now, &res)
	}
	return res
}

// stepNoData steps the no-data alert of every SLO read from f: it fires
// when the source has brought nothing for no_data.after.
func (e *Engine) stepNoData(f *Feed, now int64, res *Result) {
	if e.importing {
		return
	}
	after := e.cfg.NoData.After.Std().Milliseconds()
	last := max(f.LastData, f.Since)
	for _, x := range e.cfg.SLOs {
		if !x.Reads(f.Source.Name) {
			continue
		}
		nd := e.noData[noDataKey(x.Name, f.Source.Name)]
		if !nd.Step(now, now-last > after) {
			continue
		}
		sev := e.cfg.NoData.Severity
		lset := NoDataLabels(f)
		e.emit(f, burnrate.Transition{
			Time:     time.UnixMilli(now).UTC(),
			Alert:    burnrate.NoDataAlert,
			SLO:      x.Name,
			Labels:   lset,
			Severity: sev,
			State:    nd.State,
			Playbook: e.cfg.NoData.Playbook,
			ID:       burnrate.ID(burnrate.NoDataAlert, x.Name, lset, sev),
		}, Live, res)
	}
}

// NoDataLabels are the labels of a no-data alert: the source that stopped.
func NoDataLabels(f *Feed) labels.Labels {
	if f == nil {
		return labels.EmptyLabels()
	}
	return labels.FromStrings("source", f.Source.Name)
}

// NoData returns the state of an SLO's no-data alert (for an SLO reading
// several sources, its first source's).
func (e *Engine) NoData(sloName string) burnrate.Alert {
	x := e.cfg.SLO(sloName)
	if x == nil || len(x.SourceNames()) == 0 {
		return burnrate.Alert{}
	}
	return e.noDataOf(sloName, x.SourceNames()[0])
}

// noDataOf returns the state of an SLO's no-data alert for one source.
func (e *Engine) noDataOf(sloName, source string) burnrate.Alert {
	if nd := e.noData[noDataKey(sloName, source)]; nd != nil {
		return *nd
	}
	return burnrate.Alert{}
}

// noDataKey names an SLO's no-data alert of one source: each source of an
// SLO that reads several has its own, labelled {source="…"}.
func noDataKey(sloName, source string) string { return sloName + "\x00" + source }

// FeedOf returns the progress of the source an SLO reads, its first if it
// reads several.
func (e *Engine) FeedOf(x *slo.SLO) *Feed {
	if names := x.SourceNames(); len(names) > 0 {
		return e.feeds[names[0]]
	}
	return nil
}

// Ready reports whether every source has been read whole since the first
// start, and if not, why.
func (e *Engine) Ready() (bool, string) {
	for _, f := range e.order {
		switch {
		case f.Cursor == 0:
			return false, fmt.Sprintf("source %s not read yet", f.Source.Name)
		case f.Backfilling:
			return false, fmt.Sprintf("backfilling source %s, read up to %s", f.Source.Name, time.UnixMilli(f.Cursor).UTC().Format(time.RFC3339))
		}
	}
	return true, ""
}

// compareKeys orders instance keys.
func compareKeys(a, b store.InstanceKey) int {
	return cmp.Or(cmp.Compare(a.SLO, b.SLO), cmp.Compare(a.Key, b.Key))
}
