package ingest

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
)

// summaryTop is how many instances and codes a summary lists.
const summaryTop = 5

// WriteSummary writes what a replay saw, for a person: the counts, the
// errors by class, the tenants with the most user faults, every surge of
// user faults whether it alerted or not, and the codes no rule knows.
func (r *Router) WriteSummary(w io.Writer, st Stats, elapsed time.Duration) {
	fmt.Fprintf(w, "replayed %d samples of %d series (%d read by an SLO) for %d instances, %s to %s, in %s: %d transitions, %d of them firing\n",
		st.Samples, st.Series, st.SLOSeries, st.Instances,
		time.UnixMilli(st.From).UTC().Format(time.RFC3339), time.UnixMilli(st.To).UTC().Format(time.RFC3339),
		elapsed.Round(time.Millisecond), st.Transitions, st.Fired)
	var total burnrate.Events
	for _, in := range r.all {
		total = total.Add(in.Totals)
	}
	fmt.Fprintf(w, "events: %s in all; errors by class: platform %s, user %s, ignore %s\n",
		count(total.Total), count(total.Platform), count(total.User), count(total.Ignore))

	if total.User > 0 {
		byUser := slices.Clone(r.all)
		slices.SortStableFunc(byUser, func(a, b *burnrate.Instance) int { return cmp.Compare(b.Totals.User, a.Totals.User) })
		fmt.Fprintln(w, "most user faults:")
		for _, in := range byUser[:min(len(byUser), summaryTop)] {
			if in.Totals.User == 0 {
				break
			}
			fmt.Fprintf(w, "  %s%s  %s of %s (%.2f%%)\n", in.Spec.SLO.Name, in.Labels, count(in.Totals.User), count(in.Totals.Total), 100*in.Totals.User/max(in.Totals.Total, 1))
		}
	}

	for _, sp := range r.Specs {
		eps := sp.Episodes()
		if len(eps) == 0 {
			continue
		}
		fmt.Fprintf(w, "user-fault surges of %s (each instance at least %v× its own baseline; an alert needs %d instances and %v%% of them at once):\n",
			sp.SLO.Name, sp.SurgeConfig().Factor, sp.SurgeConfig().MinInstances, sp.SurgeConfig().MinPercent)
		for i, e := range eps {
			if i == 2*summaryTop {
				fmt.Fprintf(w, "  … and %d more\n", len(eps)-i)
				break
			}
			to := "ongoing"
			if !e.To.IsZero() {
				to = e.To.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "  %s  %s to %s, peak %.1f× baseline\n", e.Labels, e.From.Format(time.RFC3339), to, e.Peak)
		}
	}

	if un := r.Unclassified(); len(un) > 0 {
		fmt.Fprintln(w, "unclassified codes, counted as platform failures until a rule says otherwise (add one under classify.rules):")
		for _, u := range un {
			fmt.Fprintf(w, "  %s  %s errors in %d series\n", u.Code, count(u.Count), u.Series)
		}
	}
}

func count(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
