package service

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/report"
	"github.com/burnwatch/burnwatch/store"
)

// DefaultExportMargin is how much before and after an incident's window an
// export reaches: enough to see the burn begin and the alerts resolve.
const DefaultExportMargin = time.Hour

// ErrExportTooLong refuses an export longer than the history kept.
var ErrExportTooLong = errors.New("export too long")

// ExportQuery says what to export.
type ExportQuery struct {
	// From and To are the incident's window.
	From, To time.Time
	// Margin widens the minutes and the timeline exported on both sides.
	Margin time.Duration
	// SLO limits the export to one SLO; empty for all.
	SLO string
	// Match limits it to the instances that have these labels.
	Match map[string]string
	// All exports every matching instance with history, not only those
	// the incident affected (a failure or an alert in the window).
	All bool
}

// ParseMatch reads label=value pairs, as --match and ?match= give them.
func ParseMatch(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !model.LabelName(k).IsValid() {
			return nil, fmt.Errorf("match %q: want label=value, such as database=db-1", p)
		}
		m[k] = v
	}
	return m, nil
}

// exportSLO is one SLO as the export walks it, taken from the running
// config so that the export itself needs no lock.
type exportSLO struct {
	sp      *burnrate.Spec
	windows []string
	cursor  int64 // the hour before which the store holds its history
	// live are the instances in memory, by store key, for the hours not
	// yet in the store.
	live map[string]*burnrate.Instance
	// first is, by store key, the minute each instance's history began
	// (its first data), for the budget of a young instance.
	first map[string]int64
}

// Export writes the postmortem data of an incident to w as it reads it:
// per affected instance its minutes (valid and bad events, the burn rate of
// every alert window), its error codes and the budget the incident
// consumed, then the timeline of transitions and notifications. Minutes
// come from the stored history, replayed through the alerts' own
// arithmetic (burnrate.Replica); the hours not yet stored come from the
// running engine. Memory holds one instance at a time, never the export.
func (s *Service) Export(ctx context.Context, q ExportQuery, w report.ExportWriter) error {
	if !q.To.After(q.From) {
		return fmt.Errorf("the window's end %s is not after its start %s", q.To.UTC().Format(time.RFC3339), q.From.UTC().Format(time.RFC3339))
	}
	if err := q.checkSpan(engine.HistoryRetention(s.config())); err != nil {
		return err
	}
	slos, err := s.exportSLOs(ctx, q.SLO)
	if err != nil {
		return err
	}
	release, err := slot(ctx, s.exports)
	if err != nil {
		return err
	}
	defer release()
	spanFrom, spanTo := q.From.Add(-q.Margin).UnixMilli(), q.To.Add(q.Margin).UnixMilli()
	// Transitions in [spanFrom, spanTo]: the minutes are (spanFrom, spanTo].
	alerted, err := s.alertedInstances(ctx, spanFrom, spanTo+1)
	if err != nil {
		return err
	}
	head := report.ExportHeader{From: q.From.UTC(), To: q.To.UTC(), Margin: q.Margin, Generated: s.now().UTC(), SLO: q.SLO, Match: q.Match}
	var all []time.Duration
	for _, x := range slos {
		for _, d := range x.sp.Windows {
			if !slices.Contains(all, d) {
				all = append(all, d)
			}
		}
	}
	slices.Sort(all)
	for _, d := range all {
		head.Windows = append(head.Windows, model.Duration(d).String())
	}
	if err := w.Begin(head); err != nil {
		return err
	}
	for _, x := range slos {
		keys, err := s.exportKeys(ctx, x, burnrate.MinuteOf(spanFrom), burnrate.MinuteOf(spanTo))
		if err != nil {
			return err
		}
		for _, key := range keys {
			lset, err := engine.ParseLabelsJSON(key)
			if err != nil {
				return fmt.Errorf("instance %s %s: %w", x.sp.SLO.Name, key, err)
			}
			if !matches(lset, q.Match) {
				continue
			}
			k := store.InstanceKey{SLO: x.sp.SLO.Name, Key: key}
			if err := s.exportInstance(ctx, x, k, lset, q, alerted[k], w); err != nil {
				return err
			}
		}
	}
	if err := s.exportTimeline(ctx, q, spanFrom, spanTo+1, w); err != nil {
		return err
	}
	return w.End()
}

func (s *Service) exportSLOs(ctx context.Context, name string) ([]exportSLO, error) {
	var out []exportSLO
	err := s.do(ctx, func() error {
		for _, sp := range s.eng.Router().Specs {
			if name != "" && sp.SLO.Name != name {
				continue
			}
			x := exportSLO{sp: sp, cursor: s.eng.HistoryCursor(sp.SLO.Name), live: map[string]*burnrate.Instance{}, first: map[string]int64{}}
			for _, d := range sp.Windows {
				x.windows = append(x.windows, model.Duration(d).String())
			}
			for _, in := range sp.Instances() {
				key := s.eng.KeyOf(in).Key
				x.live[key] = in
				x.first[key] = in.FirstData() / 60_000
			}
			out = append(out, x)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		names := s.sloNames()
		return nil, fmt.Errorf("no SLO is named %q; the config has %s", name, strings.Join(names, ", "))
	}
	return out, nil
}

// exportKeys lists the SLO's instances with history in the minutes
// (kFrom, kTo]: in the store, or in memory for the hours not stored yet.
func (s *Service) exportKeys(ctx context.Context, x exportSLO, kFrom, kTo int64) ([]string, error) {
	stored, err := s.db.HistoryInstances(ctx, x.sp.SLO.Name, burnrate.HourOf(kFrom+1), burnrate.HourOf(kTo)+1)
	if err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, k := range stored {
		keys[k.Key] = true
	}
	if burnrate.HourOf(kTo) >= x.cursor {
		err := s.do(ctx, func() error {
			for key, in := range x.live {
				if in.LastData() > kFrom*60_000 {
					keys[key] = true
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return slices.Sorted(maps.Keys(keys)), nil
}

func matches(lset labels.Labels, match map[string]string) bool {
	for k, v := range match {
		if lset.Get(k) != v {
			return false
		}
	}
	return true
}

// alertedInstances are the instances with a burn-rate transition in the
// span [from, to).
func (s *Service) alertedInstances(ctx context.Context, from, to int64) (map[store.InstanceKey]bool, error) {
	out := map[store.InstanceKey]bool{}
	err := s.db.Transitions(ctx, from, to, func(rec store.TransitionRecord) error {
		t, err := parseTransitionLine(rec.JSON)
		if err == nil && t.Alert == burnrate.BurnRateAlert {
			out[store.InstanceKey{SLO: t.SLO, Key: engine.LabelsJSON(labels.FromMap(t.Labels))}] = true
		}
		return nil
	})
	return out, err
}

// exportInstance writes one instance: skipped, unless q.All, when it had
// neither a failure nor an alert in the span.
func (s *Service) exportInstance(ctx context.Context, x exportSLO, k store.InstanceKey, lset labels.Labels, q ExportQuery, alerted bool, w report.ExportWriter) error {
	sp := x.sp
	kFrom := burnrate.MinuteOf(q.From.Add(-q.Margin).UnixMilli())
	// No minute after now: the last row is the last minute that has
	// ended, however far the margin reaches.
	kTo := min(burnrate.MinuteOf(q.To.Add(q.Margin).UnixMilli()), s.now().UnixMilli()/60_000)
	incFrom, incTo := burnrate.MinuteOf(q.From.UnixMilli()), min(burnrate.MinuteOf(q.To.UnixMilli()), kTo)
	if !q.All && !alerted {
		failed := false
		err := s.eachHour(ctx, x, k, burnrate.HourOf(kFrom+1), burnrate.HourOf(kTo)+1, func(h int64, row *store.HistoryHour) bool {
			for i, b := range row.Bad {
				if m := h*store.MinutesPerHour + int64(i) + 1; b != 0 && m > kFrom && m <= kTo {
					failed = true
				}
			}
			return !failed
		})
		if err != nil || !failed {
			return err
		}
	}
	var codes []report.Code
	err := s.db.HistoryCodes(ctx, k.SLO, &k.Key, burnrate.HourOf(kFrom+1), min(burnrate.HourOf(kTo)+1, x.cursor), func(t store.CodeTotal) error {
		codes = append(codes, report.Code{Code: t.Code, Class: t.Class, Count: t.Count})
		return nil
	})
	if err != nil {
		return err
	}
	if in := x.live[k.Key]; in != nil && burnrate.HourOf(kTo) >= x.cursor {
		// The hours not stored yet, from the engine.
		err := s.do(ctx, func() error {
			for h := max(x.cursor, burnrate.HourOf(kFrom+1)); h <= burnrate.HourOf(kTo); h++ {
				for _, c := range s.eng.Router().HourCodes(in, h) {
					codes = addCode(codes, report.Code{Code: c.Code, Class: c.Class, Count: c.Count})
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	slices.SortFunc(codes, func(a, b report.Code) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Code, b.Code)
	})
	if err := w.Instance(report.ExportInstance{
		SLO: sp.SLO.Name, Objective: 1 - sp.SLO.Budget(), Window: sp.SLO.Window.String(),
		Labels: lset.Map(), Windows: x.windows, Codes: codes,
	}); err != nil {
		return err
	}

	// The replica starts early enough for the longest window before the
	// span and the period before the incident's end, on a coarse boundary
	// so that its interpolations are the engine's.
	longest := int64(0)
	for _, d := range sp.Windows {
		longest = max(longest, int64(d/time.Minute))
	}
	step := sp.Layout.Step
	start := min(kFrom-longest, incTo-int64(sp.SLO.Window.Std()/time.Minute)) - step
	start -= (start%step + step) % step
	replica := burnrate.NewReplica(sp)
	if first := x.first[k.Key]; first > 0 {
		replica.Since(first)
	}
	im := report.ExportImpact{PeakBurn: make([]float64, len(sp.Windows))}
	var budget burnrate.Budget
	burns := make([]float64, 0, len(sp.Windows))
	// A minute without events carries no burn rate: the history cannot
	// tell it from a minute without data, and no alert measured the
	// windows that end where the data has stopped.
	none := make([]float64, len(sp.Windows))
	for i := range none {
		none[i] = math.NaN()
	}
	var werr error
	err = s.eachHour(ctx, x, k, burnrate.HourOf(start+1), burnrate.HourOf(kTo)+1, func(h int64, row *store.HistoryHour) bool {
		for i := range row.Valid {
			m := h*store.MinutesPerHour + int64(i) + 1
			if m <= start {
				continue
			}
			if m > kTo {
				return false
			}
			c := burnrate.Counts{Valid: row.Valid[i], Bad: row.Bad[i]}
			replica.Add(m, c)
			if m == incTo {
				budget = replica.Budget(m)
			}
			if m <= kFrom {
				continue
			}
			t := time.UnixMilli(m * 60_000).UTC()
			if m > incFrom && m <= incTo {
				im.Valid += c.Valid
				im.Bad += c.Bad
			}
			if c == (burnrate.Counts{}) {
				if werr = w.Minute(report.ExportMinute{T: t, Burn: none}); werr != nil {
					return false
				}
				continue
			}
			burns = replica.BurnRates(m, burns[:0])
			for j, b := range burns {
				im.PeakBurn[j] = max(im.PeakBurn[j], b)
			}
			if c.Bad > 0 {
				if im.FirstBad.IsZero() {
					im.FirstBad = t
				}
				im.LastBad = t
			}
			if werr = w.Minute(report.ExportMinute{T: t, Valid: c.Valid, Bad: c.Bad, Burn: burns}); werr != nil {
				return false
			}
		}
		return true
	})
	if err := errors.Join(err, werr); err != nil {
		return err
	}
	// The share of the period's budget, as pages and the API count it: a
	// young instance's traffic extrapolated over the period.
	im.BudgetConsumed = budget.Consumed(im.Bad)
	im.BudgetMinutes = im.BudgetConsumed * sp.SLO.Budget() * sp.SLO.Window.Std().Minutes()
	if im.Valid > 0 && incTo > incFrom {
		im.OutageMinutes = im.Bad / im.Valid * float64(incTo-incFrom)
	}
	return w.Impact(im)
}

func addCode(codes []report.Code, c report.Code) []report.Code {
	if i := slices.IndexFunc(codes, func(x report.Code) bool { return x.Code == c.Code }); i >= 0 {
		codes[i].Count += c.Count
		return codes
	}
	return append(codes, c)
}

// eachHour calls fn with every hour of an instance in [from, to), in
// order, hours without events as zeros: from the store before the SLO's
// history cursor, from the running engine after it. fn returns false to
// stop.
func (s *Service) eachHour(ctx context.Context, x exportSLO, k store.InstanceKey, from, to int64, fn func(h int64, row *store.HistoryHour) bool) error {
	var zero store.HistoryHour
	next := from
	stopped := false
	errStop := errors.New("stop")
	err := s.db.History(ctx, k, from, min(to, x.cursor), func(row *store.HistoryHour) error {
		for ; next < row.Hour; next++ {
			if !fn(next, &zero) {
				return errStop
			}
		}
		next = row.Hour + 1
		if !fn(row.Hour, row) {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return err
	}
	for ; next < to && !stopped; next++ {
		row := &zero
		if in := x.live[k.Key]; in != nil && next >= x.cursor {
			var (
				live store.HistoryHour
				ok   bool
			)
			err := s.do(ctx, func() error {
				live, ok = s.eng.HistoryHour(in, k, next)
				return nil
			})
			if err != nil {
				return err
			}
			if ok {
				row = &live
			}
		}
		stopped = !fn(next, row)
	}
	return nil
}

// transitionLine is what the timeline reads of a logged transition.
type transitionLine struct {
	Time      time.Time          `json:"time"`
	Alert     string             `json:"alert"`
	SLO       string             `json:"slo"`
	Labels    map[string]string  `json:"labels"`
	Severity  string             `json:"severity"`
	State     string             `json:"state"`
	BurnRates map[string]float64 `json:"burn_rates"`
}

func parseTransitionLine(b []byte) (transitionLine, error) {
	var t transitionLine
	err := json.Unmarshal(b, &t)
	return t, err
}

// exportTimeline writes the span's transitions and what became of their
// notifications, merged in time order, as the store reads them.
func (s *Service) exportTimeline(ctx context.Context, q ExportQuery, from, to int64, w report.ExportWriter) error {
	keep := func(slo string, kind string, lset map[string]string) bool {
		if q.SLO != "" && slo != q.SLO {
			return false
		}
		// An SLO's own alerts (no data, a fleet surge) are context for
		// any of its instances.
		return kind != burnrate.BurnRateAlert || matches(labels.FromMap(lset), q.Match)
	}
	transitions := pull(func(yield func(report.TimelineEvent) bool) error {
		return s.db.Transitions(ctx, from, to, func(rec store.TransitionRecord) error {
			t, err := parseTransitionLine(rec.JSON)
			if err != nil || !keep(t.SLO, t.Alert, t.Labels) {
				return nil
			}
			e := report.TimelineEvent{Time: t.Time.UTC(), Event: report.EventFired, Alert: t.Alert, SLO: t.SLO, Severity: t.Severity, Labels: t.Labels, Detail: burnDetail(t.BurnRates)}
			if t.State == "resolved" {
				e.Event = report.EventResolved
			}
			if !yield(e) {
				return errStopped
			}
			return nil
		})
	})
	defer transitions.stop()
	notifications := pull(func(yield func(report.TimelineEvent) bool) error {
		return s.db.Notifications(ctx, from, to, func(n store.NotificationRecord) error {
			var p struct {
				Kind, SLO, Severity, State string
				Labels                     map[string]string
			}
			if json.Unmarshal(n.Payload, &p) != nil || !keep(p.SLO, p.Kind, p.Labels) {
				return nil
			}
			e := report.TimelineEvent{Time: time.UnixMilli(n.At()).UTC(), Alert: p.Kind, SLO: p.SLO, Severity: p.Severity, Labels: p.Labels, Receiver: n.Receiver}
			what := "trigger"
			if !n.Firing {
				what = "resolve"
			}
			switch n.State {
			case store.OutboxSent:
				e.Event, e.Detail = report.EventDelivered, fmt.Sprintf("%s, %s", what, attempts(n.Attempts))
			case store.OutboxSilenced:
				e.Event, e.Detail = report.EventSilenced, strings.TrimSpace(what+" held "+n.LastError)
			case store.OutboxDead:
				e.Event, e.Detail = report.EventFailed, fmt.Sprintf("%s, %s: %s", what, attempts(n.Attempts), n.LastError)
			case store.OutboxSkipped:
				e.Event, e.Detail = report.EventSkipped, what+" not sent: its trigger never went out"
			default:
				e.Event, e.Detail = report.EventPending, fmt.Sprintf("%s, %s so far", what, attempts(n.Attempts))
			}
			if !yield(e) {
				return errStopped
			}
			return nil
		})
	})
	defer notifications.stop()
	a, aok := transitions.next()
	b, bok := notifications.next()
	for aok || bok {
		var err error
		if aok && (!bok || !b.Time.Before(a.Time)) {
			err = w.Event(a)
			a, aok = transitions.next()
		} else {
			err = w.Event(b)
			b, bok = notifications.next()
		}
		if err != nil {
			return err
		}
	}
	return errors.Join(transitions.err(), notifications.err())
}

var errStopped = errors.New("stopped")

// puller turns a callback walk into a pull iterator, so that two walks of
// the store can be merged without holding either.
type puller[T any] struct {
	next func() (T, bool)
	stop func()
	done *error
}

func pull[T any](walk func(yield func(T) bool) error) puller[T] {
	var walkErr error
	seq := iter.Seq[T](func(yield func(T) bool) {
		if err := walk(yield); err != nil && !errors.Is(err, errStopped) {
			walkErr = err
		}
	})
	next, stop := iter.Pull(seq)
	return puller[T]{next: next, stop: stop, done: &walkErr}
}

func (p puller[T]) err() error { return *p.done }

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// burnDetail writes a transition's burn rates, longest window first.
func burnDetail(rates map[string]float64) string {
	type wr struct {
		w string
		d time.Duration
		r float64
	}
	var ws []wr
	for w, r := range rates {
		d, _ := model.ParseDuration(w)
		ws = append(ws, wr{w, time.Duration(d), r})
	}
	slices.SortFunc(ws, func(a, b wr) int { return cmp.Compare(b.d, a.d) })
	parts := make([]string, 0, len(ws))
	for _, x := range ws {
		parts = append(parts, fmt.Sprintf("%s burns %s×", x.w, trimFloat(x.r)))
	}
	return strings.Join(parts, ", ")
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
