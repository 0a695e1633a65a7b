package service

import (
	"context"
	"errors"
	"fmt"
	"text/template"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/playbooks"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
	"github.com/burnwatch/burnwatch/store"
)

// installLocked builds the engine for cfg and restores into it the state
// in the store: each instance's last snapshot, the journal of increments
// since, alert states, series cursors and source cursors. Instances of
// SLOs no longer configured are dropped at the next snapshot.
func (s *Service) installLocked(ctx context.Context, cfg *slo.Config) error {
	classifier, err := cfg.Classifier()
	if err != nil {
		return err
	}
	books, err := playbooks.Open(cfg.Playbooks.Dir)
	if err != nil {
		return fmt.Errorf("loading playbooks: %w", err)
	}
	router := ingest.NewRouter(cfg, classifier)
	if s.router != nil {
		router.Inherit(s.router) // a reload
	}
	start := s.now().UnixMilli()
	var feeds []*feed
	for _, src := range cfg.Sources {
		f := &feed{src: src, since: start, baseline: true}
		var queries []string
		for _, x := range cfg.SLOs {
			if x.Source != src.Name {
				continue
			}
			if src.Datadog != nil {
				total, errs := x.DatadogQueries()
				queries = append(queries, total, errs)
			} else {
				queries = append(queries, x.SLI.Total, x.SLI.Errors)
			}
		}
		switch {
		case src.Prometheus != nil:
			p, err := source.NewPrometheus(*src.Prometheus)
			if err != nil {
				return fmt.Errorf("source %s: %w", src.Name, err)
			}
			p.Logger = s.log
			f.delay = readDelay
			f.samples = func(ctx context.Context, from, to time.Time) ingest.Samples {
				return p.Samples(ctx, queries, from, to)
			}
		case src.Datadog != nil:
			d, err := source.NewDatadog(*src.Datadog)
			if err != nil {
				return fmt.Errorf("source %s: %w", src.Name, err)
			}
			d.Log = s.log
			f.delay = datadogDelay
			f.samples = func(ctx context.Context, from, to time.Time) ingest.Samples {
				return d.Samples(ctx, queries, from, to)
			}
		}
		feeds = append(feeds, f)
	}
	noData := map[string]*noDataAlert{}
	for _, x := range cfg.SLOs {
		noData[x.Name] = &noDataAlert{}
	}

	st, err := s.db.Load(ctx)
	if err != nil {
		return fmt.Errorf("loading state: %w", err)
	}
	restored := 0
	for _, sn := range st.Snapshots {
		lset, err := parseLabelsJSON(sn.Labels)
		if err != nil {
			return fmt.Errorf("instance %s %s: %w", sn.Instance.SLO, sn.Labels, err)
		}
		in := router.Instance(sn.Instance.SLO, lset)
		if in == nil {
			continue // the SLO is gone
		}
		if err := in.UnmarshalBinary(sn.State); err != nil {
			if !errors.Is(err, burnrate.ErrLayoutChanged) {
				return fmt.Errorf("instance %s %s: %w", sn.Instance.SLO, sn.Labels, err)
			}
			s.log.Warn("the SLO's period or policy changed; this instance's history starts afresh", "slo", sn.Instance.SLO, "labels", sn.Labels)
			continue
		}
		restored++
	}
	for _, j := range st.Journal {
		lset, err := parseLabelsJSON(j.Instance.Key)
		if err != nil {
			return fmt.Errorf("journal of %s %s: %w", j.Instance.SLO, j.Instance.Key, err)
		}
		if in := router.Instance(j.Instance.SLO, lset); in != nil {
			in.Add(j.Minute*60_000, burnrate.Events{Total: j.Total, User: j.User, Ignore: j.Ignore, Platform: j.Platform})
		}
	}
	onsets := map[string]time.Time{}
	for _, a := range st.Alerts {
		state := burnrate.Alert{State: parseState(a.State), Since: a.Since}
		if state.State == burnrate.Firing && cfg.SLO(a.SLO) != nil {
			onsets[a.ID] = time.UnixMilli(a.Since).UTC()
		}
		lset, err := parseLabelsJSON(a.Labels)
		if err != nil {
			return fmt.Errorf("alert %s: %w", a.ID, err)
		}
		switch a.Alert {
		case burnrate.BurnRateAlert:
			// Only instances the history knows: an alert or a cursor does
			// not bring back an instance a snapshot dropped.
			if in := router.Lookup(a.SLO, lset); in != nil {
				in.SetAlert(slo.Severity(a.Severity), state)
			}
		case burnrate.UserFaultSurgeAlert:
			for _, sp := range router.Specs {
				if sp.SLO.Name == a.SLO {
					sp.SetSurgeAlert(state)
				}
			}
		case burnrate.NoDataAlert:
			if nd, ok := noData[a.SLO]; ok {
				nd.alert = state
			}
		}
	}
	for _, c := range st.Cursors {
		lset, err := parseLabelsJSON(c.Series)
		if err != nil {
			return fmt.Errorf("cursor of %s: %w", c.Series, err)
		}
		if !router.Known(lset) {
			continue
		}
		if ser := router.Resolve(lset); ser != nil {
			ser.Restore(c.TS, c.Value)
		}
	}
	router.TakeDirty()
	for _, f := range feeds {
		f.cursor = st.SourceCursors[f.src.Name]
		if f.cursor > 0 {
			// It was delivering when we stopped; no-data counts from now.
			f.lastData = start
		}
	}

	var receivers map[string]notify.Receiver
	var dashboard *template.Template
	if !s.o.ReadOnly {
		// A reader sends nothing, and need not read the receivers' secrets.
		if receivers, dashboard, err = s.buildReceivers(cfg); err != nil {
			return err
		}
	}
	silences, err := s.loadSilences(ctx, cfg)
	if err != nil {
		return err
	}
	router.Excluded = excludedFunc(cfg.Maintenance)
	s.cfg, s.router, s.feeds, s.noData = cfg, router, feeds, noData
	s.receivers, s.dashboard, s.onsets, s.silences = receivers, dashboard, onsets, silences
	s.playbooks, s.playbooksHTTP = books, playbooks.Handler(books)
	s.keys = map[*burnrate.Instance]store.InstanceKey{}
	s.pending.reset()
	s.lastCommit = st.LastCycle
	s.historyCursor = st.HistoryCursors
	router.OnAdd = s.onAdd
	if restored > 0 || len(st.Journal) > 0 {
		s.log.Info("state restored", "instances", len(router.Instances()), "snapshot_instances", restored, "journal_entries", len(st.Journal), "alerts", len(st.Alerts))
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
