package silence

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"testing"
	"time"
)

// newSilence returns a valid silence on database=db for [start, end).
func newSilence(t testing.TB, db, start, end string) Silence {
	return Silence{
		Matchers: []Matcher{{Name: "database", Value: db}},
		Start:    at(t, start),
		End:      at(t, end),
		Author:   "jane@example.com",
		Comment:  "CHG-1234",
	}
}

func TestAdd(t *testing.T) {
	now := at(t, "2026-11-05T01:00:00Z")
	set, err := NewSet(nil)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("an ID is assigned, random and URL-safe", func(t *testing.T) {
		a, err := set.Add(newSilence(t, "db-1", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z"), now)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := set.Add(newSilence(t, "db-1", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z"), now)
		if !regexp.MustCompile(`^[a-z2-7]{26}$`).MatchString(a.ID) || a.ID == b.ID {
			t.Errorf("IDs %q and %q: want two different 26-character URL-safe IDs", a.ID, b.ID)
		}
		if got, ok := set.Get(a.ID); !ok || !reflect.DeepEqual(got, a) {
			t.Errorf("Get(%s) = %+v, %v; want what Add returned", a.ID, got, ok)
		}
	})
	t.Run("a silence without a start starts now", func(t *testing.T) {
		s := newSilence(t, "db-2", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z")
		s.Start = time.Time{}
		got, err := set.Add(s, now.Add(time.Minute))
		if err != nil || !got.Start.Equal(now.Add(time.Minute)) {
			t.Errorf("Add = %+v, %v; want start %s", got, err, now.Add(time.Minute))
		}
	})
	t.Run("a silence that has already ended is refused on end", func(t *testing.T) {
		_, err := set.Add(newSilence(t, "db-3", "2026-11-04T01:00:00Z", "2026-11-05T01:00:00Z"), now)
		var fe FieldErrors
		if !errors.As(err, &fe) || len(fe) != 1 || fe[0].Field != "end" {
			t.Errorf("Add = %v; want one FieldError on end", err)
		}
	})
	t.Run("an invalid silence is refused with every problem", func(t *testing.T) {
		_, err := set.Add(Silence{End: now.Add(time.Hour)}, now)
		var fe FieldErrors
		if !errors.As(err, &fe) || len(fe) != 3 {
			t.Errorf("Add = %v; want problems on matchers, author and comment", err)
		}
	})
	t.Run("a silence with a held ID replaces it", func(t *testing.T) {
		s := newSilence(t, "db-4", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z")
		s.ID = "db-4-restore"
		if _, err := set.Add(s, now); err != nil {
			t.Fatal(err)
		}
		s.Comment = "extended"
		s.End = at(t, "2026-11-05T04:00:00Z")
		if _, err := set.Add(s, now); err != nil {
			t.Fatal(err)
		}
		got, _ := set.Get("db-4-restore")
		if got.Comment != "extended" || !got.End.Equal(s.End) {
			t.Errorf("after the second Add: %+v", got)
		}
	})
	t.Run("a caller changing its matchers after Add changes nothing held", func(t *testing.T) {
		s := newSilence(t, "db-5", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z")
		held, _ := set.Add(s, now)
		s.Matchers[0].Value = "db-6"
		held.Matchers[0].Value = "db-6"
		if d, _ := set.Decide(now, map[string]string{"database": "db-5"}); d != Silenced {
			t.Errorf("db-5 is %v after the caller edited its slices", d)
		}
	})
	t.Run("Delete removes a silence once", func(t *testing.T) {
		s, _ := set.Add(newSilence(t, "db-7", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z"), now)
		if !set.Delete(s.ID) || set.Delete(s.ID) {
			t.Error("Delete: want true, then false")
		}
		if d, _ := set.Decide(now, map[string]string{"database": "db-7"}); d != Send {
			t.Errorf("after Delete, db-7 is %v", d)
		}
	})
}

func TestListAndExpire(t *testing.T) {
	now := at(t, "2026-11-05T12:00:00Z")
	set, _ := NewSet(nil)
	set.Restore([]Silence{
		{ID: "future", Start: at(t, "2026-11-06T00:00:00Z"), End: at(t, "2026-11-06T02:00:00Z")},
		{ID: "active-b", Start: at(t, "2026-11-05T10:00:00Z"), End: at(t, "2026-11-05T14:00:00Z")},
		{ID: "active-a", Start: at(t, "2026-11-05T10:00:00Z"), End: at(t, "2026-11-05T13:00:00Z")},
		{ID: "ended-overnight", Start: at(t, "2026-11-05T01:00:00Z"), End: at(t, "2026-11-05T03:00:00Z")},
		{ID: "ended-a-day-ago", Start: at(t, "2026-11-04T10:00:00Z"), End: at(t, "2026-11-04T12:00:00Z")},
		{ID: "ended-long-ago", Start: at(t, "2026-10-01T00:00:00Z"), End: at(t, "2026-10-01T01:00:00Z")},
	})
	var ids []string
	for _, s := range set.List(now) {
		ids = append(ids, s.ID)
	}
	want := []string{"ended-overnight", "active-a", "active-b", "future"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("List = %v, want %v: by start then ID, ended within 24h kept, ended 24h or more ago left out", ids, want)
	}
	if got := set.Expire(now); !reflect.DeepEqual(got, []string{"ended-a-day-ago", "ended-long-ago"}) {
		t.Errorf("Expire = %v", got)
	}
	if _, ok := set.Get("ended-long-ago"); ok {
		t.Error("an expired silence is still held after Expire")
	}
}

func TestRestore(t *testing.T) {
	now := at(t, "2026-11-05T01:30:00Z")
	set, _ := NewSet(nil)
	good := newSilence(t, "db-1", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z")
	good.ID = "kept"
	broken := newSilence(t, "db-2", "2026-11-05T01:00:00Z", "2026-11-05T02:00:00Z")
	broken.ID = "broken"
	broken.Matchers = append(broken.Matchers, Matcher{Name: "x", Value: "(", Regex: true})
	set.Restore([]Silence{good, broken})

	tests := []struct {
		name string
		db   string
		want Decision
	}{
		{"a restored silence holds its alerts again", "db-1", Silenced},
		{"a restored silence whose regex no longer compiles holds nothing", "db-2", Send},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, _ := set.Decide(now, map[string]string{"database": tt.db, "x": "("}); d != tt.want {
				t.Errorf("Decide = %v, want %v", d, tt.want)
			}
		})
	}
	if len(set.List(now)) != 2 {
		t.Error("List must show the broken silence too, so someone can delete it")
	}
}

func TestNewSetErrors(t *testing.T) {
	_, err := NewSet([]Window{
		{Name: "a", Schedule: "0 2 * * SUN", Duration: time.Hour},
		{Name: "a", Schedule: "0 2 * * SUN"},
	})
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("NewSet = %v, want FieldErrors", err)
	}
	var fields []string
	for _, e := range fe {
		fields = append(fields, e.Field)
	}
	want := []string{"maintenance[1].duration", "maintenance[1].name"}
	if !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v: %v", fields, want, err)
	}
}

func TestDecide(t *testing.T) {
	now := at(t, "2026-11-08T22:30:00Z") // a Sunday, inside the 22:00 windows
	windows := []Window{
		{Name: "eu-1-patching", Schedule: "0 22 * * SUN", Duration: 4 * time.Hour,
			Matchers: []Matcher{{Name: "orchestra", Value: "eu-1"}}},
		{Name: "bolt-upgrade", SLOs: []string{"bolt-latency"},
			Start: at(t, "2026-11-08T20:00:00Z"), End: at(t, "2026-11-09T00:00:00Z")},
		{Name: "all-pages-maintenance", Schedule: "0 22 * * SUN", Duration: time.Hour,
			Matchers: []Matcher{{Name: "orchestra", Value: "us-1"}, {Name: "severity", Value: "page"}}},
	}
	set, err := NewSet(windows)
	if err != nil {
		t.Fatal(err)
	}
	sils := []Silence{
		{ID: "db-1-late", Matchers: []Matcher{{Name: "database", Value: "db-1"}}, Start: at(t, "2026-11-08T22:00:00Z"), End: at(t, "2026-11-09T00:00:00Z"), Author: "a", Comment: "c"},
		{ID: "db-1-early", Matchers: []Matcher{{Name: "database", Value: "db-1"}}, Start: at(t, "2026-11-08T21:00:00Z"), End: at(t, "2026-11-09T00:00:00Z"), Author: "a", Comment: "c"},
		{ID: "db-9-tickets", Matchers: []Matcher{{Name: "database", Value: "db-9"}, {Name: "severity", Value: "ticket"}}, Start: at(t, "2026-11-08T21:00:00Z"), End: at(t, "2026-11-09T00:00:00Z"), Author: "a", Comment: "c"},
		{ID: "db-8-tomorrow", Matchers: []Matcher{{Name: "database", Value: "db-8"}}, Start: at(t, "2026-11-09T00:00:00Z"), End: at(t, "2026-11-09T02:00:00Z"), Author: "a", Comment: "c"},
	}
	for _, s := range sils {
		if _, err := set.Add(s, at(t, "2026-11-08T20:00:00Z")); err != nil {
			t.Fatal(err)
		}
	}
	alert := func(slo, orchestra, db, severity string) map[string]string {
		return map[string]string{"slo": slo, "alert": "burn-rate", "severity": severity, "orchestra": orchestra, "database": db}
	}
	tests := []struct {
		name   string
		lset   map[string]string
		now    time.Time
		want   Decision
		reason string
	}{
		{"an alert nothing matches is sent", alert("cypher-availability", "us-2", "db-2", "page"), now, Send, ""},
		{"a silence and a window both matching: the silence is reported", alert("cypher-availability", "eu-1", "db-1", "page"), now, Silenced, "db-1-early"},
		{"of two matching silences the one that started first is named", alert("cypher-availability", "us-2", "db-1", "page"), now, Silenced, "db-1-early"},
		{"a window matching by label holds the alert", alert("cypher-availability", "eu-1", "db-2", "page"), now, InMaintenance, "eu-1-patching"},
		{"a window matching by SLO holds the alert", alert("bolt-latency", "us-2", "db-2", "ticket"), now, InMaintenance, "bolt-upgrade"},
		{"a window for pages holds a page", alert("cypher-availability", "us-1", "db-2", "page"), now, InMaintenance, "all-pages-maintenance"},
		{"a window for pages lets a ticket through", alert("cypher-availability", "us-1", "db-2", "ticket"), now, Send, ""},
		{"a silence for tickets lets the page through", alert("cypher-availability", "us-2", "db-9", "page"), now, Send, ""},
		{"a silence for tickets holds the ticket", alert("cypher-availability", "us-2", "db-9", "ticket"), now, Silenced, "db-9-tickets"},
		{"a silence that has not started holds nothing", alert("cypher-availability", "us-2", "db-8", "page"), now, Send, ""},
		{"a silence holds from its start", alert("cypher-availability", "us-2", "db-8", "page"), at(t, "2026-11-09T00:00:00Z"), Silenced, "db-8-tomorrow"},
		{"a silence has let go at its end", alert("cypher-availability", "us-2", "db-8", "page"), at(t, "2026-11-09T02:00:00Z"), Send, ""},
		{"a window has let go at its end", alert("cypher-availability", "eu-1", "db-2", "page"), at(t, "2026-11-09T02:00:00Z"), Send, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, why := set.Decide(tt.now, tt.lset)
			if d != tt.want || why != tt.reason {
				t.Errorf("Decide = %v %q, want %v %q", d, why, tt.want, tt.reason)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{Send: "sent", Silenced: "silenced", InMaintenance: "in_maintenance", 7: "unknown"} {
		if d.String() != want {
			t.Errorf("%d.String() = %s, want %s", int(d), d, want)
		}
	}
}

func TestExcluded(t *testing.T) {
	windows := []Window{
		{Name: "nightly-eu", Schedule: "0 2 * * *", Duration: 2 * time.Hour, ExcludeFromBudget: true,
			Matchers: []Matcher{{Name: "orchestra", Value: "eu-1"}}},
		{Name: "upgrade", SLOs: []string{"cypher-availability"}, ExcludeFromBudget: true,
			Start: at(t, "2026-11-03T03:00:00Z"), End: at(t, "2026-11-03T05:00:00Z")}, // overlaps the 3rd's nightly
		{Name: "adjacent", SLOs: []string{"cypher-availability"}, ExcludeFromBudget: true,
			Start: at(t, "2026-11-02T04:00:00Z"), End: at(t, "2026-11-02T04:30:00Z")}, // touches the 2nd's nightly
		{Name: "ragged", SLOs: []string{"cypher-availability"}, ExcludeFromBudget: true,
			Start: at(t, "2026-11-04T10:00:30Z"), End: at(t, "2026-11-04T10:05:10Z")}, // not on whole minutes
		{Name: "silence-only", Schedule: "0 12 * * *", Duration: time.Hour}, // pages held, budget untouched
		{Name: "by-slo-label", ExcludeFromBudget: true, Matchers: []Matcher{{Name: "slo", Value: "bolt-latency"}},
			Start: at(t, "2026-11-02T12:00:00Z"), End: at(t, "2026-11-02T13:00:00Z")},
	}
	set, err := NewSet(windows)
	if err != nil {
		t.Fatal(err)
	}
	eu := map[string]string{"orchestra": "eu-1", "database": "db-1"}
	us := map[string]string{"orchestra": "us-1", "database": "db-1"}
	span := func(a, b string) Span { return Span{at(t, a), at(t, b)} }
	tests := []struct {
		name     string
		slo      string
		lset     map[string]string
		from, to string
		want     []Span
	}{
		{"recurring windows give one span a night", "other", eu, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z",
			[]Span{span("2026-11-01T02:00:00Z", "2026-11-01T04:00:00Z"), span("2026-11-02T02:00:00Z", "2026-11-02T04:00:00Z")}},
		{"overlapping windows merge, and touching ones join", "cypher-availability", eu, "2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z",
			[]Span{span("2026-11-02T02:00:00Z", "2026-11-02T04:30:00Z"), span("2026-11-03T02:00:00Z", "2026-11-03T05:00:00Z")}},
		{"spans are clipped to [from, to)", "cypher-availability", eu, "2026-11-02T03:00:00Z", "2026-11-03T04:00:00Z",
			[]Span{span("2026-11-02T03:00:00Z", "2026-11-02T04:30:00Z"), span("2026-11-03T02:00:00Z", "2026-11-03T04:00:00Z")}},
		{"a window that ends at from removes nothing", "bolt-latency", eu, "2026-11-01T04:00:00Z", "2026-11-02T02:00:00Z", nil},
		{"a window's matchers select the instances it excludes", "cypher-availability", us, "2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z",
			[]Span{span("2026-11-02T04:00:00Z", "2026-11-02T04:30:00Z"), span("2026-11-03T03:00:00Z", "2026-11-03T05:00:00Z")}},
		{"a window's SLOs select the SLOs it excludes", "bolt-latency", us, "2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z",
			[]Span{span("2026-11-02T12:00:00Z", "2026-11-02T13:00:00Z")}},
		{"a window's edges off the minute widen to whole minutes", "cypher-availability", us, "2026-11-04T00:00:00Z", "2026-11-05T00:00:00Z",
			[]Span{span("2026-11-04T10:00:00Z", "2026-11-04T10:06:00Z")}},
		{"a window without exclude_from_budget removes nothing", "other", us, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.Excluded(tt.slo, tt.lset, at(t, tt.from), at(t, tt.to))
			if !spansEqual(got, tt.want) {
				t.Errorf("Excluded\n got %v\nwant %v", got, tt.want)
			}
			for i, sp := range got {
				if sp.Start.Location() != time.UTC || (i > 0 && !got[i-1].End.Before(sp.Start)) {
					t.Errorf("span %d %v: want UTC, ordered and apart from the one before", i, sp)
				}
			}
		})
	}
}

// TestConcurrent runs Add, Delete, List, Decide and Excluded together; run
// it with -race.
func TestConcurrent(t *testing.T) {
	now := at(t, "2026-11-08T22:30:00Z")
	set, err := NewSet([]Window{{Name: "w", Schedule: "0 22 * * SUN", Duration: 4 * time.Hour, ExcludeFromBudget: true}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				s := newSilence(t, fmt.Sprintf("db-%d-%d", g, i), "2026-11-08T22:00:00Z", "2026-11-09T00:00:00Z")
				held, err := set.Add(s, now)
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					set.Delete(held.ID)
				}
				_ = set.List(now)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				set.Decide(now, map[string]string{"slo": "s", "database": fmt.Sprintf("db-%d-%d", g, i)})
				set.Excluded("s", nil, now.Add(-time.Hour), now)
			}
		}()
	}
	wg.Wait()
	if got := len(set.List(now)); got != 8*100 {
		t.Errorf("%d silences held, want %d", got, 8*100)
	}
	for g := range 8 {
		for i := range 200 {
			d, _ := set.Decide(now, map[string]string{"slo": "s", "database": fmt.Sprintf("db-%d-%d", g, i)})
			if want := map[bool]Decision{true: InMaintenance, false: Silenced}[i%2 == 0]; d != want {
				t.Fatalf("db-%d-%d is %v, want %v", g, i, d, want)
			}
		}
	}
}
