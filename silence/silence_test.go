package silence

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestSilenceValidate(t *testing.T) {
	start := at(t, "2026-11-05T01:00:00Z")
	good := Silence{
		Matchers: []Matcher{{Name: "database", Value: "db-1"}},
		Start:    start,
		End:      start.Add(2 * time.Hour),
		Author:   "jane@example.com",
		Comment:  "CHG-1234 storage migration",
	}
	tests := []struct {
		name   string
		edit   func(*Silence)
		fields []string // the fields of the problems, in order
	}{
		{"a complete silence is valid", func(*Silence) {}, nil},
		{"a silence needs at least one matcher", func(s *Silence) { s.Matchers = nil }, []string{"matchers"}},
		{"a matcher needs a label name", func(s *Silence) { s.Matchers[0].Name = "" }, []string{"matchers[0].name"}},
		{"a matcher's name must be a label name", func(s *Silence) { s.Matchers[0].Name = "0db" }, []string{"matchers[0].name"}},
		{"an invalid regex is a problem of its value", func(s *Silence) {
			s.Matchers = append(s.Matchers, Matcher{Name: "orchestra", Value: "eu-(1", Regex: true})
		}, []string{"matchers[1].value"}},
		{"matchers that all match an alert without the label would silence everything", func(s *Silence) {
			s.Matchers = []Matcher{{Name: "database", Value: ".*", Regex: true}, {Name: "orchestra", Value: "eu-1", Negate: true}}
		}, []string{"matchers"}},
		{"start is required", func(s *Silence) { s.Start = time.Time{} }, []string{"start"}},
		{"end is required", func(s *Silence) { s.End = time.Time{} }, []string{"end"}},
		{"end must be after start", func(s *Silence) { s.End = s.Start.Add(-time.Minute) }, []string{"end"}},
		{"end equal to start is an empty silence", func(s *Silence) { s.End = s.Start }, []string{"end"}},
		{"author is required", func(s *Silence) { s.Author = " " }, []string{"author"}},
		{"comment is required", func(s *Silence) { s.Comment = "" }, []string{"comment"}},
		{"a given ID must be URL-safe", func(s *Silence) { s.ID = "a/b" }, []string{"id"}},
		{"every problem is reported at once, in field order", func(s *Silence) {
			*s = Silence{Matchers: []Matcher{{Name: "", Value: "x"}}}
		}, []string{"matchers[0].name", "start", "end", "author", "comment"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good.clone()
			tt.edit(&s)
			var fields []string
			for _, e := range s.Validate() {
				fields = append(fields, e.Field)
				if e.Msg == "" {
					t.Errorf("%s: empty message", e.Field)
				}
			}
			if !reflect.DeepEqual(fields, tt.fields) {
				t.Errorf("problems in %v, want %v: %v", fields, tt.fields, s.Validate())
			}
		})
	}
}

func TestSilenceActive(t *testing.T) {
	s := Silence{Start: at(t, "2026-11-05T01:00:00Z"), End: at(t, "2026-11-05T03:00:00Z")}
	tests := []struct {
		name   string
		now    string
		want   bool
		status Status
	}{
		{"before its start a silence is pending", "2026-11-05T00:59:59Z", false, StatusPending},
		{"at its start a silence is active (start is inclusive)", "2026-11-05T01:00:00Z", true, StatusActive},
		{"between start and end it is active", "2026-11-05T02:00:00Z", true, StatusActive},
		{"a nanosecond before its end it is active", "2026-11-05T02:59:59.999999999Z", true, StatusActive},
		{"at its end a silence has expired (end is exclusive)", "2026-11-05T03:00:00Z", false, StatusExpired},
		{"the same instant in another zone is the same edge", "2026-11-05T04:00:00+01:00", false, StatusExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(t, tt.now)
			if got := s.Active(now); got != tt.want {
				t.Errorf("Active(%s) = %v, want %v", tt.now, got, tt.want)
			}
			if got := s.Status(now); got != tt.status {
				t.Errorf("Status(%s) = %v, want %v", tt.now, got, tt.status)
			}
		})
	}
}

// TestSilenceJSON pins the API's shape: docs/silences.md shows it.
func TestSilenceJSON(t *testing.T) {
	s := Silence{
		ID:       "abc",
		Matchers: []Matcher{{Name: "database", Value: "db-1"}},
		Start:    at(t, "2026-11-05T01:00:00Z"),
		End:      at(t, "2026-11-05T03:00:00Z"),
		Author:   "jane",
		Comment:  "CHG-1",
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"abc","matchers":[{"name":"database","value":"db-1","regex":false,"negate":false}],"start":"2026-11-05T01:00:00Z","end":"2026-11-05T03:00:00Z","author":"jane","comment":"CHG-1"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	var back Silence
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip = %+v, want %+v", back, s)
	}
}
