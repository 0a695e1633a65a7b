package silence

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Silence holds the notifications of the alerts its matchers match, from
// Start (inclusive) to End (exclusive). Author and Comment say who silenced
// what and why: a silence nobody can explain is a page nobody gets.
type Silence struct {
	// ID is assigned by Set.Add when empty: random and URL-safe. A silence
	// added with the ID of one already held replaces it.
	ID       string    `json:"id" yaml:"id,omitempty"`
	Matchers []Matcher `json:"matchers" yaml:"matchers"`
	Start    time.Time `json:"start" yaml:"start"`
	End      time.Time `json:"end" yaml:"end"`
	Author   string    `json:"author" yaml:"author"`
	Comment  string    `json:"comment" yaml:"comment"`
}

// idRE is what a given ID may be: it names the silence in URLs
// (/api/v1/silences/{id}) and in logs.
var idRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate returns every problem of s, each naming its field; nil when
// there is none. It does not depend on the time: Set.Add also refuses a
// silence that has already ended.
func (s Silence) Validate() []FieldError {
	_, errs := s.compile()
	return errs
}

// compile checks s and compiles its matchers.
func (s Silence) compile() ([]matcher, []FieldError) {
	var errs []FieldError
	if s.ID != "" && !idRE.MatchString(s.ID) {
		errs = append(errs, FieldError{"id", "may hold only letters, digits, - and _ (at most 64): it is part of the silence's URL"})
	}
	ms, merrs := compileMatchers(s.Matchers)
	switch {
	case len(s.Matchers) == 0:
		errs = append(errs, FieldError{"matchers", "at least one matcher is required, such as {name: database, value: db-1}"})
	case len(merrs) > 0:
		errs = append(errs, merrs...)
	case matchAll(ms, map[string]string{}):
		// Alertmanager's rule: matchers that all match the empty value
		// match every alert, which is an outage of paging, not a silence.
		errs = append(errs, FieldError{"matchers", "every matcher also matches an alert without the label, so the silence would hold every alert: add one that requires a value"})
	}
	if s.Start.IsZero() {
		errs = append(errs, FieldError{"start", "is required (Set.Add puts now when it is left out)"})
	}
	if s.End.IsZero() {
		errs = append(errs, FieldError{"end", "is required: a silence must end"})
	} else if !s.Start.IsZero() && !s.End.After(s.Start) {
		errs = append(errs, FieldError{"end", fmt.Sprintf("%s is not after start %s", s.End.Format(time.RFC3339), s.Start.Format(time.RFC3339))})
	}
	if strings.TrimSpace(s.Author) == "" {
		errs = append(errs, FieldError{"author", "is required: who to ask about this silence"})
	}
	if strings.TrimSpace(s.Comment) == "" {
		errs = append(errs, FieldError{"comment", "is required: why the alerts are silenced (a ticket or change number)"})
	}
	return ms, errs
}

// Active reports whether s holds notifications at now: Start ≤ now < End.
func (s Silence) Active(now time.Time) bool {
	return !now.Before(s.Start) && now.Before(s.End)
}

// Matches reports whether every matcher of s matches lset. A silence with
// no matchers, or with an invalid regex, matches nothing. (A Set compiles
// its silences' regexes once; this compiles them on each call.)
func (s Silence) Matches(lset map[string]string) bool {
	if len(s.Matchers) == 0 {
		return false
	}
	ms, errs := compileMatchers(s.Matchers)
	return len(errs) == 0 && matchAll(ms, lset)
}

// Status is where a silence stands at a time, for the API and logs.
type Status int

const (
	StatusPending Status = iota // not yet started
	StatusActive                // holding notifications
	StatusExpired               // ended
)

func (st Status) String() string {
	switch st {
	case StatusPending:
		return "pending"
	case StatusActive:
		return "active"
	case StatusExpired:
		return "expired"
	}
	return "unknown"
}

// Status tells whether s is pending, active or expired at now.
func (s Silence) Status(now time.Time) Status {
	switch {
	case now.Before(s.Start):
		return StatusPending
	case now.Before(s.End):
		return StatusActive
	}
	return StatusExpired
}

// clone returns s with its own copy of the matchers, so that a caller's
// slice never aliases one held by a Set.
func (s Silence) clone() Silence {
	s.Matchers = append([]Matcher(nil), s.Matchers...)
	return s
}
