package silence

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestWindowValidate(t *testing.T) {
	oneOff := Window{Name: "eu-1-upgrade", Start: time.Date(2026, 11, 12, 22, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 13, 2, 0, 0, 0, time.UTC)}
	recurring := Window{Name: "sunday-patching", Schedule: "0 2 * * SUN", TimeZone: "Europe/Berlin", Duration: 2 * time.Hour}
	tests := []struct {
		name   string
		w      Window
		edit   func(*Window)
		fields []string
	}{
		{"a one-off window with start and end is valid", oneOff, func(*Window) {}, nil},
		{"a recurring window with schedule, zone and duration is valid", recurring, func(*Window) {}, nil},
		{"a recurring window's zone defaults to UTC", recurring, func(w *Window) { w.TimeZone = "" }, nil},
		{"a descriptor such as @daily is a schedule", recurring, func(w *Window) { w.Schedule = "@daily" }, nil},
		{"a window needs a name", oneOff, func(w *Window) { w.Name = "" }, []string{"name"}},
		{"an empty SLO name is a mistake", oneOff, func(w *Window) { w.SLOs = []string{"a", ""} }, []string{"slos[1]"}},
		{"a matcher's invalid regex is named", oneOff, func(w *Window) {
			w.Matchers = []Matcher{{Name: "database", Value: "(", Regex: true}}
		}, []string{"matchers[0].value"}},
		{"a window that excludes from the budget cannot match on severity", oneOff, func(w *Window) {
			w.ExcludeFromBudget = true
			w.Matchers = []Matcher{{Name: "orchestra", Value: "eu-1"}, {Name: "severity", Value: "page"}}
		}, []string{"matchers[1].name"}},
		{"a window that only silences may match on severity", oneOff, func(w *Window) {
			w.Matchers = []Matcher{{Name: "severity", Value: "page"}}
		}, nil},
		{"a one-off window needs a start and an end", oneOff, func(w *Window) { w.Start, w.End = time.Time{}, time.Time{} }, []string{"start", "end"}},
		{"a one-off window must end after it starts", oneOff, func(w *Window) { w.End = w.Start }, []string{"end"}},
		{"a one-off window takes no time zone", oneOff, func(w *Window) { w.TimeZone = "UTC" }, []string{"time_zone"}},
		{"a one-off window takes no duration", oneOff, func(w *Window) { w.Duration = time.Hour }, []string{"duration"}},
		{"a recurring window takes no start or end", recurring, func(w *Window) { w.Start = oneOff.Start }, []string{"start"}},
		{"a recurring window needs a duration", recurring, func(w *Window) { w.Duration = 0 }, []string{"duration"}},
		{"a negative duration is refused", recurring, func(w *Window) { w.Duration = -time.Hour }, []string{"duration"}},
		{"a schedule must parse as five fields", recurring, func(w *Window) { w.Schedule = "0 2 * *" }, []string{"schedule"}},
		{"a schedule names its zone in time_zone, not TZ=", recurring, func(w *Window) { w.Schedule = "TZ=UTC 0 2 * * SUN" }, []string{"schedule"}},
		{"@every has no fixed start times", recurring, func(w *Window) { w.Schedule = "@every 1h" }, []string{"schedule"}},
		{"a schedule on a day that never exists never runs", recurring, func(w *Window) { w.Schedule = "0 2 30 2 *" }, []string{"schedule"}},
		{"a schedule on 29 February runs in leap years", recurring, func(w *Window) { w.Schedule = "0 2 29 2 *" }, nil},
		{"the time zone must be an IANA name", recurring, func(w *Window) { w.TimeZone = "Mars/Olympus" }, []string{"time_zone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			w.SLOs = append([]string(nil), w.SLOs...)
			tt.edit(&w)
			var fields []string
			for _, e := range w.Validate() {
				fields = append(fields, e.Field)
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("problems in %v, want %v: %v", fields, tt.fields, w.Validate())
			}
		})
	}
}

// TestRecurringAcrossDST: clocks in Berlin fall back from 03:00 CEST to
// 02:00 CET on Sunday 2026-10-25, so 02:00 happens twice that night. A
// Sunday 02:00 window runs once that night, at the first 02:00, and stays
// at 02:00 on the wall clock before and after: 00:00Z in summer, 01:00Z in
// winter. (robfig/cron's Next would run it at both 02:00s.)
func TestRecurringAcrossDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	w := Window{Name: "sunday-patching", Schedule: "0 2 * * SUN", TimeZone: "Europe/Berlin", Duration: 2 * time.Hour}
	got := w.Occurrences(at(t, "2026-10-12T00:00:00Z"), at(t, "2026-11-09T00:00:00Z"))
	want := []Span{
		{at(t, "2026-10-18T00:00:00Z"), at(t, "2026-10-18T02:00:00Z")},
		{at(t, "2026-10-25T00:00:00Z"), at(t, "2026-10-25T02:00:00Z")}, // 02:00 CEST, once
		{at(t, "2026-11-01T01:00:00Z"), at(t, "2026-11-01T03:00:00Z")}, // 02:00 CET
		{at(t, "2026-11-08T01:00:00Z"), at(t, "2026-11-08T03:00:00Z")},
	}
	if !spansEqual(got, want) {
		t.Fatalf("occurrences\n got %v\nwant %v", got, want)
	}
	for _, sp := range got {
		if l := sp.Start.In(berlin); l.Hour() != 2 || l.Minute() != 0 || l.Weekday() != time.Sunday {
			t.Errorf("occurrence starts at %s local, want Sunday 02:00", l)
		}
	}

	tests := []struct {
		name string
		t    string
		want bool
	}{
		{"at the first 02:00 (CEST) the window starts", "2026-10-25T00:00:00Z", true},
		{"at the second 02:00 (CET) it is still in its first hour", "2026-10-25T01:00:00Z", true},
		{"two elapsed hours after its start it has ended, at 03:00 CET", "2026-10-25T02:00:00Z", false},
		{"a week later it starts at 02:00 CET, 01:00Z", "2026-11-01T01:00:00Z", true},
		{"a week later 00:30Z is 01:30 CET, before the window", "2026-11-01T00:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.ActiveAt(at(t, tt.t)); got != tt.want {
				t.Errorf("ActiveAt(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

// TestDailyAcrossDST: a daily 02:30 window over both 2026 changes in
// Berlin. On 2026-03-29 02:30 does not exist (02:00 jumps to 03:00): the
// window starts as late as the gap is long, at 03:30 CEST. On 2026-10-25
// 02:30 happens twice: the window runs once, at the first.
func TestDailyAcrossDST(t *testing.T) {
	w := Window{Name: "nightly", Schedule: "30 2 * * *", TimeZone: "Europe/Berlin", Duration: time.Hour}
	tests := []struct {
		name     string
		from, to string
		starts   []string
	}{
		{"spring forward moves the skipped 02:30 to 03:30 CEST", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"}},
		{"fall back runs the repeated 02:30 once, in summer time", "2026-10-24T00:00:00Z", "2026-10-27T00:00:00Z",
			[]string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []time.Time
			for _, sp := range w.Occurrences(at(t, tt.from), at(t, tt.to)) {
				got = append(got, sp.Start)
			}
			if len(got) != len(tt.starts) {
				t.Fatalf("starts %v, want %v", got, tt.starts)
			}
			for i, s := range tt.starts {
				if !got[i].Equal(at(t, s)) {
					t.Errorf("start %d = %s, want %s", i, got[i].UTC(), s)
				}
			}
		})
	}
}

// TestOccurrencesOverAMonth: a weekly window over November 2026, whose
// Sundays are the 1st, 8th, 15th, 22nd and 29th, and the overlap rule at
// the range's edges.
func TestOccurrencesOverAMonth(t *testing.T) {
	weekly := Window{Name: "patching", Schedule: "0 22 * * SUN", Duration: 4 * time.Hour}
	tests := []struct {
		name     string
		w        Window
		from, to string
		starts   []string
	}{
		{"every Sunday of the month, once", weekly, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
			[]string{"2026-11-01T22:00:00Z", "2026-11-08T22:00:00Z", "2026-11-15T22:00:00Z", "2026-11-22T22:00:00Z", "2026-11-29T22:00:00Z"}},
		{"an occurrence that started before from but still runs overlaps", weekly, "2026-11-02T01:00:00Z", "2026-11-08T00:00:00Z",
			[]string{"2026-11-01T22:00:00Z"}},
		{"an occurrence that ended exactly at from does not overlap", weekly, "2026-11-02T02:00:00Z", "2026-11-08T00:00:00Z",
			nil},
		{"an occurrence that starts exactly at to does not overlap", weekly, "2026-11-02T02:00:00Z", "2026-11-08T22:00:00Z",
			nil},
		{"first and fifteenth of the month at 03:00", Window{Name: "m", Schedule: "0 3 1,15 * *", Duration: time.Hour}, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
			[]string{"2026-11-01T03:00:00Z", "2026-11-15T03:00:00Z"}},
		{"a one-off window overlapping the month is its one occurrence", Window{Name: "o", Start: at(t, "2026-10-31T23:00:00Z"), End: at(t, "2026-11-01T01:00:00Z")}, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
			[]string{"2026-10-31T23:00:00Z"}},
		{"an empty range has no occurrences", weekly, "2026-11-08T00:00:00Z", "2026-11-01T00:00:00Z", nil},
		{"an invalid window has no occurrences", Window{Schedule: "0 22 * * SUN"}, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.w.Occurrences(at(t, tt.from), at(t, tt.to))
			var starts []string
			for _, sp := range got {
				starts = append(starts, sp.Start.UTC().Format(time.RFC3339))
				if want := sp.Start.Add(tt.w.Duration); tt.w.Schedule != "" && !sp.End.Equal(want) {
					t.Errorf("occurrence from %s ends %s, want %s", sp.Start, sp.End, want)
				}
			}
			if !reflect.DeepEqual(starts, tt.starts) {
				t.Errorf("starts %v, want %v", starts, tt.starts)
			}
		})
	}
}

func TestWindowActiveAt(t *testing.T) {
	oneOff := Window{Name: "o", Start: at(t, "2026-11-12T22:00:00Z"), End: at(t, "2026-11-13T02:00:00Z")}
	weekly := Window{Name: "w", Schedule: "0 22 * * SUN", Duration: 4 * time.Hour}
	everyMinute := Window{Name: "m", Schedule: "* * * * *", Duration: 30 * 24 * time.Hour}
	tests := []struct {
		name string
		w    Window
		t    string
		want bool
	}{
		{"a one-off window is active at its start", oneOff, "2026-11-12T22:00:00Z", true},
		{"a one-off window is not active at its end", oneOff, "2026-11-13T02:00:00Z", false},
		{"a recurring window is active at a start", weekly, "2026-11-08T22:00:00Z", true},
		{"a recurring window is active past midnight", weekly, "2026-11-09T01:59:59Z", true},
		{"a recurring window is not active at a start plus its duration", weekly, "2026-11-09T02:00:00Z", false},
		{"a recurring window is not active a minute before a start", weekly, "2026-11-08T21:59:00Z", false},
		{"a frequent schedule with a long duration answers quickly", everyMinute, "2026-11-08T21:59:30Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.w.ActiveAt(at(t, tt.t)); got != tt.want {
				t.Errorf("ActiveAt(%s) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestWindowApplies(t *testing.T) {
	lset := map[string]string{"database": "db-1", "orchestra": "eu-1"}
	tests := []struct {
		name string
		w    Window
		slo  string
		want bool
	}{
		{"a window without SLOs or matchers applies to everything", Window{}, "cypher-availability", true},
		{"a window applies to an SLO it names", Window{SLOs: []string{"a", "cypher-availability"}}, "cypher-availability", true},
		{"a window does not apply to an SLO it does not name", Window{SLOs: []string{"bolt-latency"}}, "cypher-availability", false},
		{"matchers narrow a window to instances", Window{Matchers: []Matcher{{Name: "orchestra", Value: "eu-.*", Regex: true}}}, "x", true},
		{"a matcher that fails keeps the window away", Window{Matchers: []Matcher{{Name: "orchestra", Value: "us-1"}}}, "x", false},
		{"an invalid window applies to nothing", Window{Matchers: []Matcher{{Name: "orchestra", Value: "(", Regex: true}}}, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.w
			w.Name = "w"
			w.Start, w.End = at(t, "2026-11-01T00:00:00Z"), at(t, "2026-11-02T00:00:00Z")
			if got := w.Applies(tt.slo, lset); got != tt.want {
				t.Errorf("Applies(%s, %v) = %v, want %v", tt.slo, lset, got, tt.want)
			}
		})
	}
}

// TestWindowYAML: the maintenance section of docs/silences.md decodes as
// written, durations and timestamps included.
func TestWindowYAML(t *testing.T) {
	const doc = `
maintenance:
  - name: sunday-patching
    schedule: "0 2 * * SUN"
    time_zone: Europe/Berlin
    duration: 2h
    matchers:
      - {name: orchestra, value: eu-1}
    exclude_from_budget: true
  - name: eu-1-storage-migration
    slos: [cypher-availability]
    start: 2026-11-12T22:00:00Z
    end: 2026-11-13T02:00:00Z
silences:
  - id: db-7-restore
    matchers:
      - {name: database, value: db-7}
      - {name: severity, value: ticket, negate: true}
    start: 2026-11-05T01:00:00Z
    end: 2026-11-05T05:00:00Z
    author: jane@example.com
    comment: CHG-1234 restoring db-7 from backup
`
	var cfg struct {
		Maintenance []Window  `yaml:"maintenance"`
		Silences    []Silence `yaml:"silences"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	want := []Window{
		{Name: "sunday-patching", Schedule: "0 2 * * SUN", TimeZone: "Europe/Berlin", Duration: 2 * time.Hour,
			Matchers: []Matcher{{Name: "orchestra", Value: "eu-1"}}, ExcludeFromBudget: true},
		{Name: "eu-1-storage-migration", SLOs: []string{"cypher-availability"},
			Start: at(t, "2026-11-12T22:00:00Z"), End: at(t, "2026-11-13T02:00:00Z")},
	}
	if !reflect.DeepEqual(cfg.Maintenance, want) {
		t.Errorf("maintenance\n got %+v\nwant %+v", cfg.Maintenance, want)
	}
	if _, err := NewSet(cfg.Maintenance); err != nil {
		t.Errorf("NewSet: %v", err)
	}
	if len(cfg.Silences) != 1 || cfg.Silences[0].Validate() != nil || !cfg.Silences[0].Matchers[1].Negate {
		t.Errorf("silences = %+v: %v", cfg.Silences, cfg.Silences[0].Validate())
	}
}

func spansEqual(a, b []Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Start.Equal(b[i].Start) || !a[i].End.Equal(b[i].End) {
			return false
		}
	}
	return true
}
