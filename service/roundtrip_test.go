package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/burnrate"
	"github.com/burnwatch/burnwatch/engine"
	"github.com/burnwatch/burnwatch/ingest"
)

// engineState writes down everything the engine holds that a restart or
// a reload must keep: every instance's whole state as it marshals (its
// windows, alerts, totals and surge guard), the SLOs' own alerts and surge
// episodes, the feeds' progress, every series' cursor, and the history
// cursors. It leaves out the error codes of the last hours, which each
// series keeps in memory only: a reload hands them to the new engine as
// each series is next read (TestReloadKeepsTheHourUnderWaysCodes), and a
// restart loses those of the hours not yet in the history.
func engineState(eng *engine.Engine) string {
	var b strings.Builder
	r := eng.Router()
	for _, sp := range r.Specs {
		fmt.Fprintf(&b, "slo %s history cursor %d\n", sp.SLO.Name, eng.HistoryCursor(sp.SLO.Name))
		for _, ep := range sp.Episodes() {
			fmt.Fprintf(&b, "  episode %+v\n", ep)
		}
		for _, in := range sp.Instances() {
			blob, err := in.MarshalBinary()
			if err != nil {
				fmt.Fprintf(&b, "  %s: %v\n", in.Labels, err)
				continue
			}
			fmt.Fprintf(&b, "  instance %s surging %v last data %d state %s\n", in.Labels, in.Surging(), in.LastData(), hex.EncodeToString(blob))
		}
	}
	v := eng.View()
	for _, sv := range v.SLOs {
		for _, a := range sv.Alerts {
			fmt.Fprintf(&b, "alert %s %s %s %s %+v\n", a.ID, a.Alert, a.Labels, a.Severity, a.State)
		}
	}
	for _, f := range v.Feeds {
		fmt.Fprintf(&b, "feed %s cursor %d evaluated %d last data %d backfilling %v\n", f.Name, f.Cursor, f.Evaluated, f.LastData, f.Backfilling)
	}
	var series []string
	r.EachSeries(func(s *ingest.Series) {
		// Pushed counts are increases, with no cursor to keep.
		if ts, val, ok := s.Cursor(); ok {
			series = append(series, fmt.Sprintf("series %s cursor %d %v", s.Key(), ts, val))
		}
	})
	slices.Sort(series)
	b.WriteString(strings.Join(series, "\n"))
	return b.String()
}

// TestTheEngineStateSurvivesARestartAndAReload: a fleet whose user faults
// surge fires user-fault-surge; across a restart and across a config
// reload the engine's whole state comes back as it was, and the surge
// alert, still firing, neither resolves nor fires again; after a crash
// too. (The surging
// flags were not in the snapshot: the alert resolved at a restart or a
// reload and fired again minutes later.)
func TestTheEngineStateSurvivesARestartAndAReload(t *testing.T) {
	ts := newTestService(t, t.TempDir(), eventsConfig)
	defer ts.Close()
	const fleet = 6
	start := ts.clock
	// A week and a day of a few user faults a minute in each database,
	// then an hour of many: pushed in batches the size of a body.
	line := func(at time.Time, db, user int) string {
		return fmt.Sprintf(`{"time":%q,"slo":"cypher-availability","labels":{"database":"db-%d"},"total":1000,"errors":{"Neo.ClientError.Statement.SyntaxError":%d,"Neo.DatabaseError.General.UnknownError":1}}`+"\n", at.Format(time.RFC3339), db, user)
	}
	surgeFrom := start.Add(8*24*time.Hour - time.Hour)
	ts.clock = start.Add(8 * 24 * time.Hour)
	var body strings.Builder
	flush := func() {
		if body.Len() == 0 {
			return
		}
		if r := ts.pushBody(body.String()); r.status != http.StatusAccepted {
			t.Fatalf("push: %d %s", r.status, r.body)
		}
		body.Reset()
	}
	for at := start; at.Before(ts.clock); at = at.Add(time.Minute) {
		user := 1
		if !at.Before(surgeFrom) {
			user = 400
		}
		for db := range fleet {
			body.WriteString(line(at, db, user))
		}
		if body.Len() > 8<<20 {
			flush()
		}
	}
	flush()
	ctx := context.Background()
	if err := ts.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	// Minutes go on surging, committed as serve commits them.
	minute := func() {
		t.Helper()
		for db := range fleet {
			body.WriteString(line(ts.clock.Add(-time.Minute), db, 400))
		}
		flush()
		ts.clock = ts.clock.Add(time.Minute)
		if err := ts.Cycle(ctx); err != nil {
			t.Fatal(err)
		}
	}
	surgeFiring := func() bool {
		for _, a := range ts.Alerts() {
			if a.Alert == burnrate.UserFaultSurgeAlert && a.State == "firing" {
				return true
			}
		}
		return false
	}
	for range 13 {
		minute()
	}
	if !surgeFiring() {
		d, _ := ts.SLO("cypher-availability")
		var st string
		ts.engine(func(eng *engine.Engine) { st = engineState(eng) })
		t.Fatalf("the surge did not fire; alerts %+v transitions %d instances %d\n%.3000s", ts.Alerts(), len(ts.trs), len(d.All), st)
	}
	state := func() string {
		var s string
		ts.engine(func(eng *engine.Engine) { s = engineState(eng) })
		return s
	}
	compare := func(what, before, after string) {
		t.Helper()
		if before == after {
			return
		}
		bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
		inAfter := map[string]bool{}
		for _, l := range al {
			inAfter[l] = true
		}
		inBefore := map[string]bool{}
		for _, l := range bl {
			inBefore[l] = true
		}
		shown := 0
		for _, l := range bl {
			if !inAfter[l] && shown < 8 {
				t.Errorf("after %s, the engine's state lost: %.300s", what, l)
				shown++
			}
		}
		for _, l := range al {
			if !inBefore[l] && shown < 16 {
				t.Errorf("after %s, the engine's state gained: %.300s", what, l)
				shown++
			}
		}
	}
	quiet := func(what string) {
		t.Helper()
		ts.trs = nil
		for range 5 {
			minute()
		}
		for _, tr := range ts.trs {
			t.Errorf("after %s: %s %s %s at %s", what, tr.Alert, tr.Severity, tr.State, tr.Time.UTC())
		}
		if !surgeFiring() {
			t.Errorf("after %s the surge alert no longer fires", what)
		}
	}

	before := state()
	if !strings.Contains(before, "surging true") || !bytes.Contains([]byte(before), []byte(burnrate.UserFaultSurgeAlert)) {
		t.Fatalf("the state before holds no surge:\n%.2000s", before)
	}
	if err := ts.shutdown(); err != nil { // as SIGTERM stops serve
		t.Fatal(err)
	}
	ts.Close()
	ts.open()
	compare("a restart", before, state())
	quiet("a restart")

	before = state()
	if err := ts.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	compare("a reload", before, state())
	quiet("a reload")

	// A crash restores the last checkpoint and counts again what came
	// since: the alert still neither resolves nor fires again.
	ts.Close()
	ts.open()
	quiet("a crash")
}
