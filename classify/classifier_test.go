package classify

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// naive is the specification Classify is an optimisation of: try every rule
// in order, first match wins.
type naive struct {
	rules []Rule
	names []string
}

func newNaive(t testing.TB, config []Rule, packs []string) *naive {
	t.Helper()
	n := &naive{}
	for i, r := range config {
		n.rules = append(n.rules, r)
		n.names = append(n.names, fmt.Sprintf("config:rules[%d]", i))
	}
	if packs == nil {
		packs = Packs
	}
	for _, name := range packs {
		p, err := loadPack(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.rules {
			n.rules = append(n.rules, r)
			n.names = append(n.names, name+":"+r.Match.name())
		}
	}
	return n
}

func (n *naive) classify(code string, lset labels.Labels) Decision {
	for i, r := range n.rules {
		ok := labelsMatch(r, lset)
		switch {
		case !ok:
		case r.Match.Code != "":
			ok = code == r.Match.Code
		case r.Match.Prefix != "":
			ok = strings.HasPrefix(code, r.Match.Prefix)
		default:
			ok = regexp.MustCompile(`^(?:` + r.Match.Regex + `)$`).MatchString(code)
		}
		if ok {
			return Decision{Class: r.Class, Rule: n.names[i], Reason: r.Reason}
		}
	}
	// The fallback: the code in lower case against the exact codes and the
	// prefixes in lower case, in order; never a regular expression.
	lower := lowerASCII(code)
	for i, r := range n.rules {
		ok := labelsMatch(r, lset)
		switch {
		case !ok:
		case r.Match.Code != "":
			ok = lower == lowerASCII(r.Match.Code)
		case r.Match.Prefix != "":
			ok = strings.HasPrefix(lower, lowerASCII(r.Match.Prefix))
		default:
			ok = false
		}
		if ok {
			return Decision{Class: r.Class, Rule: n.names[i], Reason: r.Reason}
		}
	}
	return defaultDecision
}

func mustNew(t testing.TB, rules []Rule, packs []string) *Classifier {
	t.Helper()
	c, err := New(rules, packs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPrecedence(t *testing.T) {
	config := []Rule{
		{Match: Match{Code: "Neo.ClientError.Security.AuthenticationRateLimit"}, Class: Platform, Reason: "our auth throttle is shared by all tenants"},
		{Match: Match{Prefix: "Neo.ClientError.Statement.", Labels: map[string]string{"database": "canary"}}, Class: Platform, Reason: "the canary's queries are ours and known good"},
		{Match: Match{Regex: "5[0-9]{2}", Labels: map[string]string{"handler": "/healthz"}}, Class: Ignore, Reason: "probes"},
	}
	c := mustNew(t, config, nil)
	for _, tc := range []struct {
		name     string
		code     string
		lset     labels.Labels
		want     Class
		wantRule string
	}{
		{"a config rule comes before the packs", "Neo.ClientError.Security.AuthenticationRateLimit", labels.EmptyLabels(), Platform, "config:rules[0]"},
		{"a label-matching rule applies when the series has the label", "Neo.ClientError.Statement.SyntaxError", labels.FromStrings("database", "canary"), Platform, "config:rules[1]"},
		{"a label-matching rule does not apply to other series", "Neo.ClientError.Statement.SyntaxError", labels.FromStrings("database", "db-1"), User, "neo4j:Neo.ClientError.Statement.SyntaxError"},
		{"a label-matching rule does not apply to a series without the label", "Neo.ClientError.Statement.SyntaxError", labels.EmptyLabels(), User, "neo4j:Neo.ClientError.Statement.SyntaxError"},
		{"a regex config rule with labels wins over the http family", "503", labels.FromStrings("handler", "/healthz"), Ignore, "config:rules[2]"},
		{"without the label the http family decides", "503", labels.EmptyLabels(), Platform, "http:/5[0-9]{2}/"},
		{"an unknown code is the platform's, decided by the default", "Vendor.Mystery.Failure", labels.EmptyLabels(), Platform, DefaultRule},
		{"an empty code is unknown", "", labels.EmptyLabels(), Platform, DefaultRule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Classify(tc.code, tc.lset)
			if d.Class != tc.want || d.Rule != tc.wantRule {
				t.Errorf("Classify(%q) = %v %q, want %v %q", tc.code, d.Class, d.Rule, tc.want, tc.wantRule)
			}
			if d.Reason == "" {
				t.Error("decision has no reason")
			}
		})
	}
}

func TestFirstMatchWinsAcrossRuleKinds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rules    []Rule
		code     string
		wantRule string
	}{
		{
			name: "an earlier prefix rule wins over a later exact rule",
			rules: []Rule{
				{Match: Match{Prefix: "Neo.ClientError."}, Class: Platform},
				{Match: Match{Code: "Neo.ClientError.Statement.SyntaxError"}, Class: User},
			},
			code: "Neo.ClientError.Statement.SyntaxError", wantRule: "config:rules[0]",
		},
		{
			name: "an earlier regex rule wins over a later exact rule",
			rules: []Rule{
				{Match: Match{Regex: "(?i)neo\\..*"}, Class: Ignore},
				{Match: Match{Code: "Neo.X"}, Class: User},
			},
			code: "Neo.X", wantRule: "config:rules[0]",
		},
		{
			name: "an earlier exact rule wins over a later prefix rule",
			rules: []Rule{
				{Match: Match{Code: "ab"}, Class: User},
				{Match: Match{Prefix: "a"}, Class: Platform},
			},
			code: "ab", wantRule: "config:rules[0]",
		},
		{
			name: "the shorter of two prefixes wins when it comes first",
			rules: []Rule{
				{Match: Match{Prefix: "a"}, Class: User},
				{Match: Match{Prefix: "ab"}, Class: Platform},
			},
			code: "abc", wantRule: "config:rules[0]",
		},
		{
			name: "the longer of two prefixes wins when it comes first",
			rules: []Rule{
				{Match: Match{Prefix: "ab"}, Class: Platform},
				{Match: Match{Prefix: "a"}, Class: User},
			},
			code: "abc", wantRule: "config:rules[0]",
		},
		{
			name: "a duplicate exact rule never wins over the first",
			rules: []Rule{
				{Match: Match{Code: "x"}, Class: User},
				{Match: Match{Code: "x"}, Class: Platform},
			},
			code: "x", wantRule: "config:rules[0]",
		},
		{
			name: "an exact rule with labels that do not match falls through to the next rule",
			rules: []Rule{
				{Match: Match{Code: "x", Labels: map[string]string{"a": "1"}}, Class: User},
				{Match: Match{Code: "x"}, Class: Ignore},
			},
			code: "x", wantRule: "config:rules[1]",
		},
		{
			name: "a rule for the empty label value matches a series without that label",
			rules: []Rule{
				{Match: Match{Code: "x", Labels: map[string]string{"tier": ""}}, Class: User},
			},
			code: "x", wantRule: "config:rules[0]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.rules, []string{})
			if got := c.Classify(tc.code, labels.EmptyLabels()).Rule; got != tc.wantRule {
				t.Errorf("rule = %q, want %q", got, tc.wantRule)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rules   []Rule
		packs   []string
		wantErr []string
	}{
		{
			name:    "an unknown pack is an error naming the valid ones",
			packs:   []string{"neo4j", "oracle"},
			wantErr: []string{`unknown pack "oracle" (valid: neo4j, gqlstatus, sqlstate, http, grpc, k8s)`},
		},
		{
			name:    "a pack listed twice is an error",
			packs:   []string{"http", "http"},
			wantErr: []string{`pack "http" is listed twice`},
		},
		{
			name: "every invalid rule is reported with its index and field",
			rules: []Rule{
				{Match: Match{Code: "ok"}, Class: User},
				{Match: Match{Regex: "a("}, Class: User},
				{Class: User},
			},
			wantErr: []string{"rules[1].match.regex: invalid regular expression", "rules[2].match: needs one of code, prefix or regex"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.rules, tc.packs)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

func TestPackSelection(t *testing.T) {
	t.Run("nil packs means every pack", func(t *testing.T) {
		if d := mustNew(t, nil, nil).Classify("OOMKilled", labels.EmptyLabels()); d.Rule != "k8s:OOMKilled" {
			t.Errorf("rule = %q", d.Rule)
		}
	})
	t.Run("an empty pack list means only the config's rules", func(t *testing.T) {
		if d := mustNew(t, nil, []string{}).Classify("OOMKilled", labels.EmptyLabels()); d.Rule != DefaultRule {
			t.Errorf("rule = %q", d.Rule)
		}
	})
	t.Run("packs are tried in the order given", func(t *testing.T) {
		// 08000 is in both gqlstatus and sqlstate.
		if d := mustNew(t, nil, []string{"sqlstate", "gqlstatus"}).Classify("08000", labels.EmptyLabels()); d.Rule != "sqlstate:/08[0-9A-Z]{3}/" {
			t.Errorf("rule = %q", d.Rule)
		}
		if d := mustNew(t, nil, []string{"gqlstatus", "sqlstate"}).Classify("08000", labels.EmptyLabels()); d.Rule != "gqlstatus:08000" {
			t.Errorf("rule = %q", d.Rule)
		}
	})
}

func TestClassifyAgreesWithFirstMatchOverEveryPackCode(t *testing.T) {
	config := []Rule{
		{Match: Match{Prefix: "Neo.ClientError.Security."}, Class: Platform, Reason: "test: a prefix ahead of exact pack rules"},
		{Match: Match{Regex: "4[0-2][0-9]"}, Class: Ignore, Reason: "test: a regex ahead of exact pack rules"},
		{Match: Match{Code: "42N01", Labels: map[string]string{"db": "x"}}, Class: Platform, Reason: "test: labels"},
	}
	c := mustNew(t, config, nil)
	n := newNaive(t, config, nil)
	codes := allSampleCodes(t)
	for _, lset := range []labels.Labels{labels.EmptyLabels(), labels.FromStrings("db", "x")} {
		for _, code := range codes {
			if got, want := c.Classify(code, lset), n.classify(code, lset); got != want {
				t.Errorf("Classify(%q, %v) = %+v, first-match says %+v", code, lset, got, want)
			}
		}
	}
}

func TestClassifyIsSafeForConcurrentUse(t *testing.T) {
	c := mustNew(t, nil, nil)
	codes := allSampleCodes(t)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for _, code := range codes {
				c.Classify(code, labels.EmptyLabels())
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func labelsMatch(r Rule, lset labels.Labels) bool {
	for k, v := range r.Match.Labels {
		if lset.Get(k) != v {
			return false
		}
	}
	return true
}

// TestLowercasedCodesKeepTheirClass: Datadog lowercases tag values, so a
// Neo4j syntax error arrives as neo.clienterror.statement.syntaxerror. A
// code no rule matches as it is is classified by its lower case against
// the exact codes and prefixes of the rules, and Canonical spells it as
// the vendor does; regular expression families are not folded.
func TestLowercasedCodesKeepTheirClass(t *testing.T) {
	c := mustNew(t, []Rule{{Match: Match{Code: "E_Storage_Quota"}, Class: Ignore, Reason: "ours"}}, nil)
	none := labels.EmptyLabels()
	for _, tc := range []struct {
		name, code, rule, canonical string
		want                        Class
	}{
		{"a lowercased Neo4j syntax error is the user's", "neo.clienterror.statement.syntaxerror", "neo4j:Neo.ClientError.Statement.SyntaxError", "Neo.ClientError.Statement.SyntaxError", User},
		{"a lowercased NotALeader is still the platform's", "neo.clienterror.cluster.notaleader", "neo4j:Neo.ClientError.Cluster.NotALeader", "Neo.ClientError.Cluster.NotALeader", Platform},
		{"a lowercased code of a Neo4j family takes the family's prefix", "neo.clienterror.statement.somethingnew", "neo4j:Neo.ClientError.*", "Neo.ClientError.statement.somethingnew", User},
		{"a lowercased SQLSTATE code is its code", "40p01", "sqlstate:40P01", "40P01", User},
		{"an upper-case status class is the class", "5XX", "http:5xx", "5xx", Platform},
		{"a config rule's code is found in lower case too", "e_storage_quota", "config:rules[0]", "E_Storage_Quota", Ignore},
		{"a code that matches as it is is not folded", "Neo.ClientError.Statement.SyntaxError", "neo4j:Neo.ClientError.Statement.SyntaxError", "Neo.ClientError.Statement.SyntaxError", User},
		{"a five-letter word is no SQLSTATE: families are not folded", "abort", DefaultRule, "abort", Platform},
		{"a code no rule knows in any case stays unknown", "vendor.mystery", DefaultRule, "vendor.mystery", Platform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Classify(tc.code, none)
			if d.Class != tc.want || d.Rule != tc.rule {
				t.Errorf("Classify(%q) = %v by %s, want %v by %s", tc.code, d.Class, d.Rule, tc.want, tc.rule)
			}
			if got := c.Canonical(tc.code, none); got != tc.canonical {
				t.Errorf("Canonical(%q) = %q, want %q", tc.code, got, tc.canonical)
			}
		})
	}
}

// TestNoTwoPackCodesFoldTogetherWithAnotherClass: the fallback would give
// a lowercased code the class of the first rule whose code folds to it;
// two codes of the packs that differ only in case must therefore mean
// the same class.
func TestNoTwoPackCodesFoldTogetherWithAnotherClass(t *testing.T) {
	seen := map[string]Rule{}
	for _, name := range Packs {
		p, err := loadPack(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.rules {
			key := lowerASCII(r.Match.Code + r.Match.Prefix)
			if key == "" || len(r.Match.Labels) > 0 {
				continue
			}
			if first, ok := seen[key]; ok && first.Class != r.Class {
				t.Errorf("%s:%s and %s fold together with classes %v and %v", name, r.Match.name(), first.Match.name(), r.Class, first.Class)
			}
			seen[key] = r
		}
	}
}
