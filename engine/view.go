package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/classify"
	"github.com/burnwatch/burnwatch/slo"
)

// View is where every SLO stands after an apply: made by the engine's
// goroutine and never changed after, so that the API, the console and
// the metrics read it without waiting on the engine.
type View struct {
	// Time is the clock's time when the view was made (ms).
	Time int64
	// Ready and NotReady say whether every source has been read whole.
	Ready    bool
	NotReady string
	// LastCommit is the time of the last committed cycle (ms), 0 if none.
	LastCommit int64
	SLOs       []*SLOView
	Config     *slo.Config
	// Feeds are the sources' progress as of the view.
	Feeds []FeedView
}

// FeedView is a source's progress.
type FeedView struct {
	Name                string
	Cursor, Evaluated   int64 // ms
	LastData            int64 // ms
	Failing             string
	Backfilling, Events bool
}

// SLOView is one SLO and every instance of it.
type SLOView struct {
	SLO        *slo.SLO
	Windows    []time.Duration // the policy's windows, as Rates holds them
	Severities []slo.Severity  // the policy's severities, as InstanceView.Alerts holds them
	// At is the minute the figures are measured at (ms): the last one
	// evaluated.
	At        int64
	Instances []InstanceView
	// Worst are the indexes of the MaxWorst instances with the least
	// budget left, least first.
	Worst []int
	// Firing counts the instances' alerts firing, by severity index.
	Firing [2]int
	// Surging is how many instances' user faults surge now.
	Surging int
	// WorstBudget is the least budget left of any instance, 1 with none.
	WorstBudget float64
	// Alerts are the SLO's own alerts that ever fired: the surge guard's
	// and no-data.
	Alerts   []AlertView
	Episodes []burnrate.Episode
	// Warnings say what is wrong without failing: selectors that match no
	// series of a source read whole (selectorWarning).
	Warnings []string
}

// MaxWorst is how many instances SLOView.Worst lists: enough to see
// whether a problem is one tenant or many.
const MaxWorst = 10

// InstanceView is one SLO instance.
type InstanceView struct {
	Labels labels.Labels
	// BudgetRemaining is the fraction of the period's budget left, as
	// burnrate.Budget counts it.
	BudgetRemaining float64
	// Rates are the burn rates over SLOView.Windows.
	Rates  []float64
	Totals burnrate.Events
	// Alerts are the states of its alerts, by SLOView.Severities.
	Alerts [2]burnrate.Alert
	// Fired are, by SLOView.Severities, the indexes into Rates of the long
	// and short window of the pair that fired most recently.
	Fired    [2][2]int8
	LastData int64 // ms
	// TopCodes are the platform codes of its last hour, most first.
	TopCodes []burnrate.CodeCount
}

// AlertView is one alert's state, and what a page about it says now.
type AlertView struct {
	ID       string
	Alert    string
	SLO      string
	Labels   labels.Labels
	Severity slo.Severity
	State    burnrate.Alert
	// For an instance's alert: the burn rates of the pair that fired
	// most recently, its budget left and its top codes, as of the view.
	BurnRates       []burnrate.Rate
	BudgetRemaining float64
	Codes           []burnrate.CodeCount
	Playbook        string
	// For a surge: how many instances surge, of how many.
	Surging, Fleet int
}

// Transition is the alert as a transition at time at (ms) would report
// it: what a page sent then would say, through the same enrichment.
func (a AlertView) Transition(at int64) burnrate.Transition {
	return burnrate.Transition{
		Time: time.UnixMilli(at).UTC(), Alert: a.Alert, SLO: a.SLO, Labels: a.Labels, Severity: a.Severity,
		State: a.State.State, BurnRates: a.BurnRates, Playbook: a.Playbook, ID: a.ID, Codes: a.Codes,
		Surging: a.Surging, Fleet: a.Fleet, BudgetRemaining: a.BudgetRemaining,
		Onset: time.UnixMilli(a.State.Since).UTC(),
	}
}

// View makes the view of where everything stands now.
func (e *Engine) View() *View {
	v := &View{Time: e.now().UnixMilli(), LastCommit: e.lastCommit, Config: e.cfg}
	v.Ready, v.NotReady = e.Ready()
	for _, f := range e.order {
		fv := FeedView{Name: f.Source.Name, Cursor: f.Cursor, Evaluated: f.Evaluated, LastData: f.LastData,
			Backfilling: f.Backfilling, Events: f.Source.Events != nil}
		if f.Failing != nil {
			fv.Failing = f.Failing.Error()
		}
		v.Feeds = append(v.Feeds, fv)
	}
	for _, sp := range e.router.Specs {
		v.SLOs = append(v.SLOs, e.sloView(sp))
	}
	return v
}

func (e *Engine) sloView(sp *burnrate.Spec) *SLOView {
	x := sp.SLO
	at := e.now().UnixMilli()
	// The minute every source of the SLO is evaluated through.
	for i, name := range x.SourceNames() {
		if f := e.feeds[name]; f != nil && f.Evaluated > 0 && (i == 0 || f.Evaluated < at) {
			at = f.Evaluated
		}
	}
	at -= at % minuteMS
	insts := sp.Instances()
	sv := &SLOView{
		SLO: x, Windows: sp.Windows, Severities: sp.Severities, At: at,
		Instances: make([]InstanceView, len(insts)), WorstBudget: 1,
		Episodes: slices.Clone(sp.Episodes()),
	}
	rates := make([]float64, 0, len(insts)*len(sp.Windows))
	var worst worstInstances
	for i, in := range insts {
		iv := &sv.Instances[i]
		iv.Labels, iv.Totals, iv.LastData = in.Labels, in.Totals, in.LastData()
		iv.BudgetRemaining = in.BudgetRemaining(at)
		start := len(rates)
		rates = in.AppendBurnRates(at, rates)
		iv.Rates = rates[start:len(rates):len(rates)]
		for j, sev := range sp.Severities {
			iv.Alerts[j] = in.Alert(sev)
			if iv.Alerts[j].State == burnrate.Firing {
				sv.Firing[j]++
			}
			long, short := in.FiredWindows(j)
			iv.Fired[j] = [2]int8{int8(long), int8(short)}
		}
		if c := e.router.TopCodes(at, classify.Platform, in); len(c) > 0 {
			iv.TopCodes = c
		}
		sv.WorstBudget = min(sv.WorstBudget, iv.BudgetRemaining)
		worst.offer(i, iv.BudgetRemaining)
	}
	sv.Worst = worst.ix
	sv.Surging = sp.Surging()
	if w := e.selectorWarning(x, len(insts)); w != "" {
		sv.Warnings = append(sv.Warnings, w)
	}
	if a := sp.SurgeAlert(); a.State != burnrate.Inactive {
		sc := sp.SurgeConfig()
		sv.Alerts = append(sv.Alerts, AlertView{
			ID:    burnrate.ID(burnrate.UserFaultSurgeAlert, x.Name, burnrate.EmptyLabels, sc.Severity),
			Alert: burnrate.UserFaultSurgeAlert, SLO: x.Name, Labels: burnrate.EmptyLabels, Severity: sc.Severity, State: a,
			Playbook: sc.Playbook, Surging: sv.Surging, Fleet: len(insts),
		})
	}
	for _, src := range x.SourceNames() {
		if nd := e.noDataOf(x.Name, src); nd.State != burnrate.Inactive {
			lset := NoDataLabels(e.feeds[src])
			sev := e.cfg.NoData.Severity
			sv.Alerts = append(sv.Alerts, AlertView{
				ID:    burnrate.ID(burnrate.NoDataAlert, x.Name, lset, sev),
				Alert: burnrate.NoDataAlert, SLO: x.Name, Labels: lset, Severity: sev, State: nd,
				Playbook: e.cfg.NoData.Playbook,
			})
		}
	}
	return sv
}

// selectorWarning says that an SLO's selectors match nothing: each of
// its sources is read from (not pushed to), has been read whole without
// failing, and the SLO has no instance. A replay that reads nothing
// fails; a serve goes on, since series may come, but says so.
func (e *Engine) selectorWarning(x *slo.SLO, instances int) string {
	if instances > 0 {
		return ""
	}
	names := x.SourceNames()
	for _, name := range names {
		f := e.feeds[name]
		if f == nil || f.Source.Events != nil || f.Cursor == 0 || f.Backfilling || f.Failing != nil {
			return ""
		}
	}
	total, errs := x.SLI.Total, x.SLI.Errors
	if f := e.feeds[names[0]]; f.Source.Datadog != nil {
		total, errs = x.DatadogQueries()
	}
	which := "source " + names[0]
	if len(names) > 1 {
		which = "sources " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("no series of %s matches the SLO's selectors (total %s, errors %s): nothing is evaluated",
		which, total, errs)
}

// InstanceAlerts are the instance's alerts that ever fired.
func (sv *SLOView) InstanceAlerts(iv *InstanceView) []AlertView {
	var out []AlertView
	for j, sev := range sv.Severities {
		a := iv.Alerts[j]
		if a.State == burnrate.Inactive {
			continue
		}
		long, short := iv.Fired[j][0], iv.Fired[j][1]
		out = append(out, AlertView{
			ID: burnrate.ID(burnrate.BurnRateAlert, sv.SLO.Name, iv.Labels, sev), Alert: burnrate.BurnRateAlert,
			SLO: sv.SLO.Name, Labels: iv.Labels, Severity: sev, State: a,
			BurnRates: []burnrate.Rate{
				{Window: sv.Windows[long], Rate: iv.Rates[long]},
				{Window: sv.Windows[short], Rate: iv.Rates[short]},
			},
			BudgetRemaining: iv.BudgetRemaining, Codes: iv.TopCodes, Playbook: sv.SLO.Playbook(sev),
		})
	}
	return out
}

// Firing are the alerts firing now, most recent first.
func (v *View) Firing() []AlertView {
	var out []AlertView
	for _, sv := range v.SLOs {
		if sv.Firing != [2]int{} {
			for i := range sv.Instances {
				for _, a := range sv.InstanceAlerts(&sv.Instances[i]) {
					if a.State.State == burnrate.Firing {
						out = append(out, a)
					}
				}
			}
		}
		for _, a := range sv.Alerts {
			if a.State.State == burnrate.Firing {
				out = append(out, a)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b AlertView) int { return cmp.Compare(b.State.Since, a.State.Since) })
	return out
}

// SLO returns the view of the named SLO, nil if there is none.
func (v *View) SLO(name string) *SLOView {
	for _, sv := range v.SLOs {
		if sv.SLO.Name == name {
			return sv
		}
	}
	return nil
}

// worstInstances keeps the MaxWorst instances with the least budget left.
type worstInstances struct {
	ix   []int
	left []float64
}

func (w *worstInstances) offer(i int, left float64) {
	if len(w.ix) == MaxWorst && left >= w.left[len(w.left)-1] {
		return
	}
	at, _ := slices.BinarySearch(w.left, left)
	for at < len(w.left) && w.left[at] == left {
		at++ // after equals: the first seen stays first
	}
	w.ix, w.left = slices.Insert(w.ix, at, i), slices.Insert(w.left, at, left)
	if len(w.ix) > MaxWorst {
		w.ix, w.left = w.ix[:MaxWorst], w.left[:MaxWorst]
	}
}
