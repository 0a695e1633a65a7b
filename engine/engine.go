// Package engine is burnwatch's one writer: it holds every SLO instance's
// history and alert states, applies what the sources read (Apply, one
// batch at a time, in the same way whether the batch is a live cycle, a
// backfill or an import), and says after each what to commit and what to
// notify. It does no I/O: the service reads the sources, commits to the
// store and delivers, and the engine publishes an immutable view of where
// everything stands for the API to read without waiting on it.
//
// An Engine is not safe for concurrent use; the service calls it from one
// goroutine.
package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// Timing of the engine, each with why.
const (
	// lookback is how long before a source's first read a series must have
	// had a sample for its first sample to be only a baseline: Prometheus's
	// staleness. A series first seen later than this after the start of
	// the reading appeared while it was watched, and counts from zero.
	lookback = 5 * time.Minute
	// transitionRetention is how long the transition log is kept: a year
	// of reports and postmortems.
	transitionRetention = 400 * 24 * time.Hour
	// tidyAfter is how long finished notifications and the states of
	// alerts no longer firing are kept: a week to look back at.
	tidyAfter = 7 * 24 * time.Hour
)

// Options configure an Engine.
type Options struct {
	Logger *slog.Logger
	// Now is the clock, for the no-data alerts and for forgetting
	// instances idle past their period.
	Now func() time.Time
	// Import, when set, makes the engine count a recording: nothing is
	// forgotten or pruned by the clock, whose time is not the recording's.
	Import bool
}

// Engine is the state of every SLO and what the sources have brought.
type Engine struct {
	cfg    *slo.Config
	router *ingest.Router
	feeds  map[string]*Feed
	order  []*Feed // config order
	noData map[string]*burnrate.Alert
	// onsets are the firing alerts' onsets, for their resolves.
	onsets map[string]time.Time
	// historyCursor is, per SLO, the hour before which its history is
	// written.
	historyCursor map[string]int64
	pending       pending
	log           *slog.Logger
	now           func() time.Time
	importing     bool
	importOnly    bool // Options.Import
	// keys are the instances' names in the store.
	keys map[*burnrate.Instance]store.InstanceKey
	// lastCommit is the time of the last committed cycle; cycles commit in
	// increasing time.
	lastCommit int64
	// needSnapshot is set until a snapshot of every instance is written:
	// the first checkpoint after a start or a reload takes one.
	needSnapshot bool
	// broken is set when an Apply failed half way: the engine's counts
	// may be ahead of its cursors, and it must be rebuilt from the store.
	broken error
}

// Feed is a source's progress as the engine knows it.
type Feed struct {
	Source *slo.Source
	// Cursor is how far the source has been read (ms); 0 before its
	// first read.
	Cursor int64
	// Evaluated is the last whole minute (ms) evaluated for the source's
	// SLOs.
	Evaluated int64
	// restored is Evaluated as the store had it: minutes up to it are
	// evaluated again after a restart, silently, since their transitions
	// are in the log.
	restored int64
	// LastData is when a read last brought anything (ms); Since is when the
	// engine started watching the source.
	LastData, Since int64
	// Failing is the error of the last read, nil if it succeeded.
	Failing error
	// watchedFrom is the start of the first read, and dataStart the
	// earliest sample it brought: a series first seen more than lookback
	// after both appeared while watched.
	watchedFrom, dataStart int64
	// Backfilling is set while a backfill has not reached its end.
	Backfilling bool
	// latest are the last transitions of each alert in a backfill under
	// way: those still firing at its end are notified.
	latest map[string]burnrate.Transition
	// counted are the pushed batches counted and not yet marked so in the
	// store: a failed commit leaves them pending there.
	counted map[int64]bool
	// order are the series of the source's last read, in the order read.
	order []*ingest.Series
}

// New compiles cfg for evaluation, with an empty history.
func New(cfg *slo.Config, o Options) (*Engine, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	classifier, err := cfg.Classifier()
	if err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:           cfg,
		router:        ingest.NewRouter(cfg, classifier),
		feeds:         map[string]*Feed{},
		noData:        map[string]*burnrate.Alert{},
		onsets:        map[string]time.Time{},
		historyCursor: map[string]int64{},
		log:           o.Logger,
		now:           o.Now,
		importing:     o.Import,
		importOnly:    o.Import,
		keys:          map[*burnrate.Instance]store.InstanceKey{},
		needSnapshot:  true,
	}
	e.router.Excluded = excludedFunc(cfg.Maintenance)
	start := e.now().UnixMilli()
	for _, src := range cfg.Sources {
		f := &Feed{Source: src, Since: start, latest: map[string]burnrate.Transition{}, counted: map[int64]bool{}}
		e.feeds[src.Name] = f
		e.order = append(e.order, f)
	}
	for _, x := range cfg.SLOs {
		for _, src := range x.SourceNames() {
			e.noData[noDataKey(x.Name, src)] = &burnrate.Alert{}
		}
	}
	e.pending.reset()
	return e, nil
}

// Config is the engine's config.
func (e *Engine) Config() *slo.Config { return e.cfg }

// Router is the engine's router: its instances and series. Reports and
// exports read it between applies.
func (e *Engine) Router() *ingest.Router { return e.router }

// Feeds are the sources' progress, in config order.
func (e *Engine) Feeds() []*Feed { return e.order }

// Feed is the progress of the named source, nil if there is none.
func (e *Engine) Feed(source string) *Feed { return e.feeds[source] }

// LastCommit is the time of the last committed cycle (ms), 0 if none.
func (e *Engine) LastCommit() int64 { return e.lastCommit }

// Broken returns the error that left the engine unusable, nil if none.
func (e *Engine) Broken() error { return e.broken }

// Inherit takes over the codes of the hours under way from the engine this
// one replaces (a config reload), so that the next page and the history of
// those hours lose nothing.
func (e *Engine) Inherit(old *Engine) { e.router.Inherit(old.router) }

// Restore loads the state a previous run left: each instance's last
// snapshot and the journal since, the alert states, the series and source
// cursors and how far each source was evaluated. Instances of SLOs no
// longer configured are dropped at the next snapshot.
func (e *Engine) Restore(st store.State) error {
	restored := 0
	for _, sn := range st.Snapshots {
		lset, err := ParseLabelsJSON(sn.Labels)
		if err != nil {
			return fmt.Errorf("instance %s %s: %w", sn.Instance.SLO, sn.Labels, err)
		}
		in := e.router.Instance(sn.Instance.SLO, lset)
		if in == nil {
			continue // the SLO is gone
		}
		if err := in.UnmarshalBinary(sn.State); err != nil {
			if !errors.Is(err, burnrate.ErrLayoutChanged) {
				return fmt.Errorf("instance %s %s: %w", sn.Instance.SLO, sn.Labels, err)
			}
			e.log.Warn("the SLO's period or policy changed; this instance's history starts afresh", "slo", sn.Instance.SLO, "labels", sn.Labels)
			continue
		}
		restored++
	}
	for _, j := range st.Journal {
		lset, err := ParseLabelsJSON(j.Instance.Key)
		if err != nil {
			return fmt.Errorf("journal of %s %s: %w", j.Instance.SLO, j.Instance.Key, err)
		}
		if in := e.router.Instance(j.Instance.SLO, lset); in != nil {
			in.Add(j.Minute*60_000, burnrate.Events{Total: j.Total, User: j.User, Ignore: j.Ignore, Platform: j.Platform})
		}
	}
	for _, a := range st.Alerts {
		state := burnrate.Alert{State: parseState(a.State), Since: a.Since}
		if state.State == burnrate.Firing && e.cfg.SLO(a.SLO) != nil {
			e.onsets[a.ID] = time.UnixMilli(a.Since).UTC()
		}
		lset, err := ParseLabelsJSON(a.Labels)
		if err != nil {
			return fmt.Errorf("alert %s: %w", a.ID, err)
		}
		switch a.Alert {
		case burnrate.BurnRateAlert:
			// Only instances the history knows: an alert or a cursor does
			// not bring back an instance a snapshot dropped.
			if in := e.router.Lookup(a.SLO, lset); in != nil {
				in.SetAlert(slo.Severity(a.Severity), state)
			}
		case burnrate.UserFaultSurgeAlert:
			for _, sp := range e.router.Specs {
				if sp.SLO.Name == a.SLO {
					sp.SetSurgeAlert(state)
				}
			}
		case burnrate.NoDataAlert:
			if nd, ok := e.noData[noDataKey(a.SLO, lset.Get("source"))]; ok {
				*nd = state
			}
		}
	}
	for _, c := range st.Cursors {
		lset, err := parseSeriesKey(c.Series)
		if err != nil {
			return fmt.Errorf("cursor of %s: %w", c.Series, err)
		}
		if !e.router.Known(lset) {
			continue
		}
		if ser := e.router.Resolve(lset); ser != nil {
			ser.Restore(c.TS, c.Value)
		}
	}
	e.router.TakeDirty()
	start := e.now().UnixMilli()
	for _, f := range e.order {
		f.Cursor = st.SourceCursors[f.Source.Name]
		f.Evaluated = max(st.Evaluated[f.Source.Name], f.Cursor-f.Cursor%60_000)
		f.restored = f.Evaluated
		if f.Cursor > 0 {
			// It was delivering when we stopped; no-data counts from now.
			f.LastData = start
		}
	}
	e.lastCommit = st.LastCycle
	e.historyCursor = st.HistoryCursors
	if e.historyCursor == nil {
		e.historyCursor = map[string]int64{}
	}
	// What the journal held is counted again at the next checkpoint, with
	// the rest: a snapshot of every instance replaces it.
	e.pending.journal.clear()
	if restored > 0 || len(st.Journal) > 0 {
		e.log.Info("state restored", "instances", len(e.router.Instances()), "snapshot_instances", restored, "journal_entries", len(st.Journal), "alerts", len(st.Alerts))
	}
	return nil
}

func parseState(s string) burnrate.State {
	switch s {
	case burnrate.Firing.String():
		return burnrate.Firing
	case burnrate.Resolved.String():
		return burnrate.Resolved
	}
	return burnrate.Inactive
}

// LabelsJSON writes labels as the store keeps an instance's: a JSON object.
func LabelsJSON(l labels.Labels) string {
	b, _ := json.Marshal(l.Map())
	return string(b)
}

// ParseLabelsJSON reads what LabelsJSON wrote.
func ParseLabelsJSON(s string) (labels.Labels, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return labels.EmptyLabels(), err
	}
	return labels.FromMap(m), nil
}

// seriesParser reads series keys; it is safe for concurrent use.
var seriesParser = parser.NewParser(parser.Options{})

// parseSeriesKey reads a series' name in the store: its labels as text
// (ingest.Series.Key), or as a JSON object, as version 4 wrote them.
func parseSeriesKey(s string) (labels.Labels, error) {
	if len(s) > 1 && s[0] == '{' && s[1] == '"' {
		return ParseLabelsJSON(s)
	}
	return seriesParser.ParseMetric(s)
}

// keyOf is an instance's name in the store: its SLO and its labels as JSON.
func (e *Engine) keyOf(in *burnrate.Instance) store.InstanceKey {
	k, ok := e.keys[in]
	if !ok {
		k = store.InstanceKey{SLO: in.Spec.SLO.Name, Key: LabelsJSON(in.Labels)}
		e.keys[in] = k
	}
	return k
}

// KeyOf is an instance's name in the store.
func (e *Engine) KeyOf(in *burnrate.Instance) store.InstanceKey { return e.keyOf(in) }
