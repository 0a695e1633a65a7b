package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/internal/promtest"
	"github.com/burnwatch/burnwatch/internal/scenario"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/source"
)

// TestFirstStartAgainstAReplay checks what a first start reconstructs
// against a replay of the same data (docs/serve.md, "A first start"):
// three days of two databases in a real Prometheus, read by a first start
// as hourly values older than 8 hours and sample by sample after, and
// evaluated over its last 2 hours. Everything agrees with the replay but
// the increase before a counter reset within an hour of the older span,
// which the hourly values cannot see: db-2 restarts at 30 minutes past an
// hour a day and a half ago, and the 29 minutes before it in that hour
// (14,500 queries) are all the first start misses.
func TestFirstStartAgainstAReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	const minutes = 3 * 24 * 60
	start := end.Add(-minutes * time.Minute)
	// db-1: an outage two days ago (half the queries fail for 30
	// minutes) and one 100 minutes ago (all fail for 40 minutes).
	var errs []string
	v := 0
	for i := 0; i <= minutes; i++ {
		switch {
		case i > minutes-2*24*60 && i <= minutes-2*24*60+30:
			v += 500
		case i > minutes-100 && i <= minutes-100+40:
			v += 1000
		}
		errs = append(errs, fmt.Sprint(v))
	}
	reset := minutes - 36*60 + 30 // db-2 restarts at half past an hour
	desc := fmt.Sprintf(`start %s
neo4j_queries_total{database="db-1"} 0+1000x%d
neo4j_query_errors_total{database="db-1",code="Neo.DatabaseError.General.UnknownError"} %s
neo4j_queries_total{database="db-2"} 100000+500x%d 500+500x%d
neo4j_query_errors_total{database="db-2",code="Neo.ClientError.Statement.SyntaxError"} 0+2x%d
`, start.Format(time.RFC3339), minutes, strings.Join(errs, " "), reset-1, minutes-reset, minutes)
	sc, err := scenario.Parse(strings.NewReader(desc))
	if err != nil {
		t.Fatal(err)
	}
	om := filepath.Join(t.TempDir(), "fleet.om")
	f, err := os.Create(om)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := sc.WriteOpenMetrics(w); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	f.Close()
	promURL := promtest.Start(t, om)

	dir := t.TempDir()
	cfgText := fmt.Sprintf(`
sources:
  - name: prom
    prometheus: {url: %q, retries: 0, timeout: 20s}
slos:
  - name: cypher-availability
    objective: 99.9
    sli: {total: neo4j_queries_total, errors: neo4j_query_errors_total}
    group_by: [database]
`, promURL)
	cfgPath := filepath.Join(dir, "burnwatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := end.Add(30 * time.Second)
	var served []burnrate.Transition
	svc, err := New(context.Background(), Options{
		ConfigPath:   cfgPath,
		StoragePath:  filepath.Join(dir, "data"),
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Console:      io.Discard,
		Now:          func() time.Time { return clock },
		OnTransition: func(tr burnrate.Transition) { served = append(served, tr) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := svc.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, why := svc.Ready(); !ok {
		t.Fatalf("not ready after the first start: %s", why)
	}

	// The replay of the same recording, as an import counts it.
	cfg, err := slo.Parse("burnwatch.yaml", []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := engine.New(cfg, engine.Options{Now: func() time.Time { return clock }, Import: true})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := source.Open(om, nil, source.FormatOf(om))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var replayed []burnrate.Transition
	if _, err := ref.Import(ctx, rd, func(tr burnrate.Transition) error {
		replayed = append(replayed, tr)
		return nil
	}, func(int64) error { return nil }); err != nil {
		t.Fatal(err)
	}

	// The transitions of the evaluated span are the replay's.
	evaluated := end.Add(-2 * time.Hour)
	var got, want []string
	for _, tr := range served {
		if tr.Alert == burnrate.BurnRateAlert {
			got = append(got, jsonLine(tr))
		}
	}
	for _, tr := range replayed {
		if tr.Time.After(evaluated) {
			want = append(want, jsonLine(tr))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) < 3 {
		t.Errorf("the first start's transitions:\n%s\nthe replay's after %s:\n%s", strings.Join(got, "\n"), evaluated.Format(time.RFC3339), strings.Join(want, "\n"))
	}

	// Every count and window agrees, but the 14,500 queries db-2 counted
	// before its restart in the hour of the restart.
	var state map[string]instanceFigures
	if err := svc.do(ctx, func() error {
		state = figures(svc.eng, end.UnixMilli())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	replay := figures(ref, end.UnixMilli())
	db1, db2 := `{database="db-1"}`, `{database="db-2"}`
	if state[db1] != replay[db1] {
		t.Errorf("db-1: the first start has\n%+v\nthe replay\n%+v", state[db1], replay[db1])
	}
	lost := replay[db2]
	lost.totals.Total -= 14_500
	if state[db2].totals != lost.totals || state[db2].short != replay[db2].short {
		t.Errorf("db-2: the first start has\n%+v\nthe replay, but for the 14,500 before the restart,\n%+v", state[db2], lost)
	}
}

// instanceFigures are what an instance holds at a minute: its counts and
// the burn rate of each window.
type instanceFigures struct {
	totals burnrate.Events
	budget float64
	short  [5]float64 // 5m, 30m, 1h, 2h, 6h
	long   [2]float64 // 1d, 3d
}

func figures(e *engine.Engine, at int64) map[string]instanceFigures {
	out := map[string]instanceFigures{}
	for _, in := range e.Router().Instances() {
		f := instanceFigures{totals: in.Totals, budget: round(in.BudgetRemaining(at))}
		var s, l int
		for _, r := range in.BurnRates(at) {
			if r.Window <= 6*time.Hour {
				f.short[s] = round(r.Rate)
				s++
			} else {
				f.long[l] = round(r.Rate)
				l++
			}
		}
		out[in.Labels.String()] = f
	}
	return out
}

// round cuts float noise from sums taken in another order.
func round(v float64) float64 { return math.Round(v*1e9) / 1e9 }

func jsonLine(tr burnrate.Transition) string {
	b, _ := tr.MarshalJSON()
	return string(b)
}
