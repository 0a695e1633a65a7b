package scale

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestCachedHistoryGoesOnWhereItEnded generates a history, reuses it from
// the cache an hour later, and checks that the hour between was written
// and that the fleet stands where one run without a break would.
func TestCachedHistoryGoesOnWhereItEnded(t *testing.T) {
	const n = 4
	cache := t.TempDir()
	t0 := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	first, err := PrepareHistory(context.Background(), quiet, cache, t.TempDir(), n, 0.25, 9, time.Hour, t0)
	if err != nil {
		t.Fatal(err)
	}
	if first.Cached || first.Gap.Samples != 0 {
		t.Fatalf("the first history was cached (%v) or had a gap (%d samples)", first.Cached, first.Gap.Samples)
	}
	later, err := PrepareHistory(context.Background(), quiet, cache, t.TempDir(), n, 0.25, 9, time.Hour, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !later.Cached || later.Gap.Samples != 3*n*240 || !later.End.Equal(t0.Add(time.Hour)) {
		t.Fatalf("cached %v, gap of %d samples, end %s; want cached, 3×%d×240, %s", later.Cached, later.Gap.Samples, later.End, n, t0.Add(time.Hour))
	}
	want := NewFleet(n, 9)
	for tt := later.Start; !tt.After(later.End); tt = tt.Add(Step) {
		for i := range n {
			want.Advance(i, tt.UnixMilli())
		}
	}
	for i := range n {
		if got, w := later.Fleet.State(i), want.State(i); got != w {
			t.Errorf("%s: %+v after the cache and the gap, want %+v", want.Name(i), got, w)
		}
	}

	stale, err := PrepareHistory(context.Background(), quiet, cache, t.TempDir(), n, 0.25, 9, time.Hour, t0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if stale.Cached {
		t.Error("a history that ended longer ago than the maximum age was reused")
	}
}

// TestSimulatorGoesOnAndFails scrapes the live target at the history's end
// and a minute later, after making one database fail: the counters are
// those of the fleet advanced without a break, and the failing database's
// platform errors grew by exactly its queries.
func TestSimulatorGoesOnAndFails(t *testing.T) {
	const n = 3
	end := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	now := end
	f := NewFleet(n, 5)
	for i := range n {
		f.Advance(i, end.UnixMilli())
	}
	sim := NewSimulator(f, end, func() time.Time { return now })
	srv := httptest.NewServer(sim)
	defer srv.Close()

	before := scrapeSim(t, srv.URL)
	resp, err := http.PostForm(srv.URL+"/-/fail", url.Values{"database": {"db-2"}, "at": {end.Add(time.Second).Format(time.RFC3339)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /-/fail: %s", resp.Status)
	}
	now = end.Add(time.Minute + 5*time.Second)
	after := scrapeSim(t, srv.URL)
	if sim.Scrapes() != 2 {
		t.Errorf("%d scrapes counted, want 2", sim.Scrapes())
	}

	ref := NewFleet(n, 5)
	for i := range n {
		ref.Advance(i, end.UnixMilli())
	}
	ref.Fail(1, end.Add(time.Second))
	for k := 1; k <= 4; k++ {
		for i := range n {
			ref.Advance(i, end.Add(time.Duration(k)*Step).UnixMilli())
		}
	}
	for i := range n {
		for s, ls := range ref.seriesLabels(i) {
			if got, want := after[ls.String()], ref.state[i].values()[s]; got != want {
				t.Errorf("%s = %g, want %g", ls, got, want)
			}
		}
	}
	ls := ref.seriesLabels(1)
	queries := after[ls[0].String()] - before[ls[0].String()]
	platform := after[ls[2].String()] - before[ls[2].String()]
	user := after[ls[1].String()] - before[ls[1].String()]
	if queries == 0 || platform != queries || user != 0 {
		t.Errorf("the failing database ran %g queries with %g platform and %g user errors; want all of them platform", queries, platform, user)
	}
}

// scrapeSim reads the simulator's exposition into values by series, in
// the labels' String form.
func scrapeSim(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		// name{a="b",…} → {__name__="name", a="b", …}, as labels.String writes it
		name, rest, _ := strings.Cut(line[:i], "{")
		key := `{__name__="` + name + `", ` + strings.ReplaceAll(strings.TrimSuffix(rest, "}"), `",`, `", `) + "}"
		out[key] = v
	}
	return out
}
