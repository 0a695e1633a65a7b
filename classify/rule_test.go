package classify

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule Rule
		want []FieldError
	}{
		{
			name: "an exact code with a class is valid",
			rule: Rule{Match: Match{Code: "42001"}, Class: User},
		},
		{
			name: "a prefix with labels is valid",
			rule: Rule{Match: Match{Prefix: "Neo.", Labels: map[string]string{"tier": "free"}}, Class: User},
		},
		{
			name: "a rule that matches nothing says what it needs",
			rule: Rule{Class: User},
			want: []FieldError{{"match", "needs one of code, prefix or regex"}},
		},
		{
			name: "a rule with two ways to match names both",
			rule: Rule{Match: Match{Code: "a", Regex: "b"}, Class: User},
			want: []FieldError{{"match", "has code and regex: give exactly one of code, prefix or regex"}},
		},
		{
			name: "an invalid regular expression is a validation error, not a panic",
			rule: Rule{Match: Match{Regex: "Neo.(Client"}, Class: User},
			want: []FieldError{{"match.regex", `invalid regular expression "Neo.(Client": missing closing )`}},
		},
		{
			name: "an empty label name is an error",
			rule: Rule{Match: Match{Code: "x", Labels: map[string]string{"": "v"}}, Class: User},
			want: []FieldError{{"match.labels", "label name must not be empty"}},
		},
		{
			name: "an out-of-range class names the valid ones",
			rule: Rule{Match: Match{Code: "x"}, Class: Class(9)},
			want: []FieldError{{"class", "unknown class 9 (valid: platform, user, ignore)"}},
		},
		{
			name: "every problem is reported, not just the first",
			rule: Rule{Match: Match{Prefix: "p", Regex: "(", Labels: map[string]string{"": ""}}, Class: Class(3)},
			want: []FieldError{
				{"match", "has prefix and regex: give exactly one of code, prefix or regex"},
				{"match.regex", `invalid regular expression "(": missing closing )`},
				{"match.labels", "label name must not be empty"},
				{"class", "unknown class 3 (valid: platform, user, ignore)"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.rule.Validate()
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate() =\n  %v\nwant\n  %v", got, tc.want)
			}
		})
	}
}

func TestRuleFromYAML(t *testing.T) {
	for _, tc := range []struct {
		name      string
		doc       string
		want      Rule
		wantErr   string       // decode error substring
		wantField []FieldError // from Validate after a clean decode
	}{
		{
			name: "a config rule decodes with its labels, and an unquoted number stays text",
			doc:  "match: {code: 429, labels: {tenant: t-9}}\nclass: platform\nreason: our rate limiter\n",
			want: Rule{Match: Match{Code: "429", Labels: map[string]string{"tenant": "t-9"}}, Class: Platform, Reason: "our rate limiter"},
		},
		{
			name:      "a rule without a class does not silently become platform",
			doc:       "match: {code: Neo.ClientError.Security.AuthenticationRateLimit}\n",
			wantField: []FieldError{{"class", "missing: give one of platform, user, ignore"}},
		},
		{
			name:      "an unknown rule field names the valid ones",
			doc:       "match: {code: x}\nclass: user\nclas: user\n",
			wantField: []FieldError{{"clas", "unknown field; valid fields here: match, class, reason"}},
		},
		{
			name:      "an unknown match field names the valid ones",
			doc:       "match: {cod: x}\nclass: user\n",
			wantField: []FieldError{{"match.cod", "unknown field; valid fields here: code, prefix, regex, labels"}},
		},
		{
			name: "every bad field of a rule is reported",
			doc:  "match: {code: [x]}\nclass: usr\n",
			wantField: []FieldError{
				{"match.code", "code must be a string, not a list"},
				{"class", `unknown class "usr" (valid: platform, user, ignore)`},
			},
		},
		{
			name: "a bad class does not hide a bad match",
			doc:  "match: {code: X, prefix: Y}\nclass: fatal\n",
			wantField: []FieldError{
				{"class", `unknown class "fatal" (valid: platform, user, ignore)`},
				{"match", "has code and prefix: give exactly one of code, prefix or regex"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Rule
			err := yaml.Unmarshal([]byte(tc.doc), &r)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Validate(); !slices.Equal(got, tc.wantField) {
				t.Fatalf("Validate() = %v, want %v", got, tc.wantField)
			}
			if tc.wantField == nil && (r.Match.Code != tc.want.Match.Code || r.Class != tc.want.Class || r.Reason != tc.want.Reason || r.Match.Labels["tenant"] != tc.want.Match.Labels["tenant"]) {
				t.Errorf("decoded %+v, want %+v", r, tc.want)
			}
		})
	}
}

func TestRuleNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		match Match
		want  string
	}{
		{"an exact code shows as itself", Match{Code: "Neo.ClientError.Cluster.NotALeader"}, "Neo.ClientError.Cluster.NotALeader"},
		{"a prefix shows with a star", Match{Prefix: "Neo.ClientError.Cluster."}, "Neo.ClientError.Cluster.*"},
		{"a regex shows between slashes", Match{Regex: "4[0-9]{2}"}, "/4[0-9]{2}/"},
		{"labels show sorted in braces", Match{Code: "429", Labels: map[string]string{"z": "1", "a": "2"}}, `429{a="2",z="1"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.match.name(); got != tc.want {
				t.Errorf("name() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLiteralPrefix(t *testing.T) {
	for _, tc := range []struct {
		name, re, want string
	}{
		{"leading literals are the prefix", "08N[0-9A-Z]{2}", "08N"},
		{"a common prefix of alternatives is found", "08N00|08N01", "08N0"},
		{"a caret the user wrote is harmless", "^Neo\\.Client.*", "Neo.Client"},
		{"case folding ends the prefix", "(?i)neo.*", ""},
		{"an optional first character means no prefix", "a?b", ""},
		{"an invalid expression has no prefix", "(", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := literalPrefix(tc.re); got != tc.want {
				t.Errorf("literalPrefix(%q) = %q, want %q", tc.re, got, tc.want)
			}
		})
	}
}

// TestABadRuleKeepsItsPlaceInItsList: yaml.v3 drops a list item whose
// decoding fails, which reported the problems of rules[1] as rules[0]'s
// and the bad rule's not at all. Each rule keeps its index and reports
// every problem.
func TestABadRuleKeepsItsPlaceInItsList(t *testing.T) {
	var v struct{ Rules []Rule }
	doc := "rules:\n  - match: {code: X, prefix: Y}\n    class: fatal\n  - match: {}\n"
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Rules) != 2 {
		t.Fatalf("decoded %d rules, want 2", len(v.Rules))
	}
	want := [][]FieldError{
		{{"class", `unknown class "fatal" (valid: platform, user, ignore)`}, {"match", "has code and prefix: give exactly one of code, prefix or regex"}},
		{{"match", "needs one of code, prefix or regex"}, {"class", "missing: give one of platform, user, ignore"}},
	}
	for i, r := range v.Rules {
		if got := r.Validate(); !slices.Equal(got, want[i]) {
			t.Errorf("rules[%d].Validate() = %v, want %v", i, got, want[i])
		}
	}
}
