package silence

import (
	"testing"
	"time"
)

// at parses an RFC 3339 time or fails the test.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestMatcher(t *testing.T) {
	alert := map[string]string{
		"slo": "cypher-availability", "alert": "burn-rate", "severity": "page",
		"database": "db-10", "orchestra": "eu-1",
	}
	tests := []struct {
		name string
		m    Matcher
		want bool
	}{
		{"an exact matcher matches the label's value", Matcher{Name: "database", Value: "db-10"}, true},
		{"an exact matcher does not match a prefix of the value", Matcher{Name: "database", Value: "db-1"}, false},
		{"a regex is anchored at both ends, so db-1 does not match db-10", Matcher{Name: "database", Value: "db-1", Regex: true}, false},
		{"a regex matches the whole value", Matcher{Name: "database", Value: "db-1.*", Regex: true}, true},
		{"a regex alternation is anchored as a whole", Matcher{Name: "database", Value: "db-2|db-1", Regex: true}, false},
		{"a regex alternation matches one of its branches", Matcher{Name: "database", Value: "db-2|db-10", Regex: true}, true},
		{"a negated exact matcher matches another value", Matcher{Name: "severity", Value: "ticket", Negate: true}, true},
		{"a negated exact matcher does not match its value", Matcher{Name: "severity", Value: "page", Negate: true}, false},
		{"a negated regex does not match a value it matches", Matcher{Name: "orchestra", Value: "eu-.*", Regex: true, Negate: true}, false},
		{"the alert's own labels can be matched", Matcher{Name: "alert", Value: "burn-rate"}, true},
		{"a missing label has the empty value, so a value does not match it", Matcher{Name: "region", Value: "eu"}, false},
		{"a missing label matches the empty value", Matcher{Name: "region", Value: ""}, true},
		{"a negated matcher matches a missing label", Matcher{Name: "region", Value: "eu", Negate: true}, true},
		{"a regex that needs a character does not match a missing label", Matcher{Name: "region", Value: ".+", Regex: true}, false},
		{"an invalid regex matches nothing", Matcher{Name: "database", Value: "db-(", Regex: true}, false},
		{"an invalid regex matches nothing even negated", Matcher{Name: "database", Value: "db-(", Regex: true, Negate: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Silence{Matchers: []Matcher{tt.m}}
			if got := s.Matches(alert); got != tt.want {
				t.Errorf("%s on %v = %v, want %v", tt.m, alert, got, tt.want)
			}
		})
	}
}

func TestMatchersAllMustMatch(t *testing.T) {
	lset := map[string]string{"database": "db-1", "severity": "page"}
	tests := []struct {
		name string
		ms   []Matcher
		want bool
	}{
		{"every matcher matching matches", []Matcher{{Name: "database", Value: "db-1"}, {Name: "severity", Value: "page"}}, true},
		{"one matcher failing fails the silence", []Matcher{{Name: "database", Value: "db-1"}, {Name: "severity", Value: "ticket"}}, false},
		{"a silence without matchers matches nothing", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Silence{Matchers: tt.ms}).Matches(lset); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatcherString(t *testing.T) {
	tests := []struct {
		m    Matcher
		want string
	}{
		{Matcher{Name: "a", Value: "x"}, `a="x"`},
		{Matcher{Name: "a", Value: "x", Negate: true}, `a!="x"`},
		{Matcher{Name: "a", Value: "x.*", Regex: true}, `a=~"x.*"`},
		{Matcher{Name: "a", Value: "x.*", Regex: true, Negate: true}, `a!~"x.*"`},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}
