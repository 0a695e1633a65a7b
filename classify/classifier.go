package classify

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// Decision is the outcome of classifying one code: its class, who decided,
// and why.
type Decision struct {
	Class Class
	// Rule names who decided: "config:rules[2]" for the config's own rules;
	// "pack:pattern" for a pack's, where a prefix shows as prefix+"*" and a
	// regular expression as "/re/" ("neo4j:Neo.ClientError.Cluster.*");
	// DefaultRule when no rule matched.
	Rule   string
	Reason string
}

// DefaultRule is Decision.Rule when no rule matched: the code is Platform,
// because an unknown failure is the platform's until a rule says otherwise.
const DefaultRule = "default"

// defaultDecision is returned for a code that no rule matches.
var defaultDecision = Decision{
	Class:  Platform,
	Rule:   DefaultRule,
	Reason: "no rule matches this code: an unknown failure is the platform's until a rule says otherwise",
}

// configRulePrefix names the config's own rules: config:rules[i].
const configRulePrefix = "config:rules"

// Classifier decides the class of error codes. It is immutable after New and
// safe for concurrent use.
//
// Rules are tried in order and the first match wins. To make that cheap, the
// rules are indexed, not scanned: exact codes without labels sit in a map,
// and every other rule hangs in a byte trie under the literal text its
// matches must begin with (the prefix, the regular expression's literal
// prefix, or the exact code when it also has labels). Classify looks up the
// map, then walks the trie along the code and tries only the rules it meets
// whose position is before the best match so far. A prefix or regex rule that
// comes before an exact rule therefore still wins, as first-match-wins says.
type Classifier struct {
	rules []compiled
	exact map[string]int32 // code -> index of the first exact rule without labels
	trie  []trieNode       // trie[0] is the root
	// fold classifies a code no rule matches as it is by its lower case,
	// against the exact and prefix rules with their keys in lower case
	// (see Classify); nil in the folded classifier itself, which keeps
	// its exact codes in the trie too, so that a code is lowered byte by
	// byte as the trie is walked, never copied.
	fold   *Classifier
	folded bool
}

// compiled is a rule ready to run.
type compiled struct {
	decision Decision
	kind     matchKind
	re       *regexp.Regexp // kind == kindRegex
	labels   []labels.Label // sorted by name; all must equal the series' values
	// key is the code or prefix as the rule spells it, for Canonical.
	key string
}

type matchKind uint8

const (
	kindExact matchKind = iota
	kindPrefix
	kindRegex
)

// trieNode is one byte of a key. Children are stored densely for the byte
// range lo..lo+len(next)-1, so a step is an index, not a search.
type trieNode struct {
	lo    byte
	next  []int32 // child node per byte from lo; 0 = none (0 is the root, never a child)
	rules []int32 // rules keyed at exactly this depth, ascending
	min   int32   // the smallest rule index here or below: the walk stops when it cannot beat the best
}

// New builds a classifier from the config's rules (named config:rules[i]),
// followed by the rules of the named packs in the order given; packs == nil
// means every built-in pack in the order of Packs. The first matching rule
// wins; a code that none matches is Platform with the rule DefaultRule.
// Every invalid rule is reported, each as rules[i].field.
func New(rules []Rule, packs []string) (*Classifier, error) {
	var errs []error
	for i, r := range rules {
		for _, fe := range r.Validate() {
			errs = append(errs, fmt.Errorf("rules[%d].%s: %s", i, fe.Field, fe.Msg))
		}
	}
	if packs == nil {
		packs = Packs
	}
	seen := make(map[string]bool, len(packs))
	var loaded []*pack
	for _, name := range packs {
		if seen[name] {
			errs = append(errs, fmt.Errorf("pack %q is listed twice", name))
			continue
		}
		seen[name] = true
		p, err := loadPack(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		loaded = append(loaded, p)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("building classifier: %w", errors.Join(errs...))
	}

	c := &Classifier{exact: make(map[string]int32), trie: []trieNode{{min: math.MaxInt32}}}
	add := func(r Rule, name string) {
		if len(c.rules) >= math.MaxInt32 {
			panic("classify: too many rules")
		}
		c.add(r, name)
	}
	fold := &Classifier{exact: make(map[string]int32), trie: []trieNode{{min: math.MaxInt32}}, folded: true}
	both := func(r Rule, name string) {
		add(r, name)
		if f, ok := folded(r); ok {
			fold.add(f, name)
			fold.rules[len(fold.rules)-1].key = r.Match.Code + r.Match.Prefix
		}
	}
	for i, r := range rules {
		both(r, fmt.Sprintf("%s[%d]", configRulePrefix, i))
	}
	for _, p := range loaded {
		for _, r := range p.rules {
			both(r, p.name+":"+r.Match.name())
		}
	}
	c.fold = fold
	return c, nil
}

// folded returns an exact or prefix rule with its key in lower case (its
// ASCII letters), for the case-insensitive fallback; a regular expression
// rule has none. A family such as SQLSTATE's [0-9A-Z]{5}, folded, would
// take any word of five letters: case matters there, and only the codes
// and prefixes a vendor spells out are found whatever their case.
func folded(r Rule) (Rule, bool) {
	switch {
	case r.Match.Code != "":
		r.Match.Code = lowerASCII(r.Match.Code)
	case r.Match.Prefix != "":
		r.Match.Prefix = lowerASCII(r.Match.Prefix)
	default:
		return Rule{}, false
	}
	return r, true
}

// add compiles a valid rule and indexes it.
func (c *Classifier) add(r Rule, name string) {
	idx := int32(len(c.rules))
	cr := compiled{decision: Decision{Class: r.Class, Rule: name, Reason: r.Reason}, key: r.Match.Code + r.Match.Prefix}
	for k, v := range r.Match.Labels {
		cr.labels = append(cr.labels, labels.Label{Name: k, Value: v})
	}
	slices.SortFunc(cr.labels, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	var key string
	switch m := r.Match; {
	case m.Code != "":
		cr.kind, key = kindExact, m.Code
		if len(cr.labels) == 0 && !c.folded {
			if _, dup := c.exact[key]; !dup {
				c.exact[key] = idx
			}
			c.rules = append(c.rules, cr)
			return
		}
	case m.Prefix != "":
		cr.kind, key = kindPrefix, m.Prefix
	default:
		cr.kind, key = kindRegex, literalPrefix(m.Regex)
		cr.re = regexp.MustCompile(`^(?:` + m.Regex + `)$`) // Validate compiled it already
	}
	c.rules = append(c.rules, cr)
	n := c.insert(key, idx)
	c.trie[n].rules = append(c.trie[n].rules, idx)
}

// insert returns the node for key, creating the path as needed, and records
// that rule idx lies on it.
func (c *Classifier) insert(key string, idx int32) int32 {
	var n int32
	c.trie[0].min = min(c.trie[0].min, idx)
	for i := 0; i < len(key); i++ {
		b := key[i]
		child := c.trie[n].child(b)
		if child == 0 {
			child = int32(len(c.trie))
			c.trie = append(c.trie, trieNode{min: idx})
			c.trie[n].setChild(b, child)
		}
		n = child
		c.trie[n].min = min(c.trie[n].min, idx)
	}
	return n
}

func (t *trieNode) child(b byte) int32 {
	if b < t.lo || int(b-t.lo) >= len(t.next) {
		return 0
	}
	return t.next[b-t.lo]
}

func (t *trieNode) setChild(b byte, child int32) {
	switch {
	case len(t.next) == 0:
		t.lo, t.next = b, []int32{child}
		return
	case b < t.lo:
		grown := make([]int32, int(t.lo-b)+len(t.next))
		copy(grown[t.lo-b:], t.next)
		t.lo, t.next = b, grown
	case int(b-t.lo) >= len(t.next):
		t.next = append(t.next, make([]int32, int(b-t.lo)+1-len(t.next))...)
	}
	t.next[b-t.lo] = child
}

// Classify decides the class of code, an error code of a series whose other
// labels are lset (which may be empty). The first matching rule decides.
//
// When none does, the code is tried in lower case (its ASCII letters; codes
// are ASCII) against the exact codes
// and the prefixes of the rules, in lower case too: Datadog lowercases tag
// values, so neo.clienterror.statement.syntaxerror is the user's syntax
// error, not an unknown failure. Regular expression families are not
// folded (see folded). If that finds nothing either, the code is
// Platform with the rule DefaultRule.
func (c *Classifier) Classify(code string, lset labels.Labels) Decision {
	if i := c.match(code, lset); i >= 0 {
		return c.rules[i].decision
	}
	if c.fold != nil {
		if i := c.fold.match(code, lset); i >= 0 {
			return c.fold.rules[i].decision
		}
	}
	return defaultDecision
}

// lowerASCII lowers the ASCII letters of s, as the folded walk lowers the
// code's bytes.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerByte(c)
	}
	return string(b)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Canonical returns code as the rule that classifies it spells it: a
// lowercased neo.clienterror.statement.syntaxerror is
// Neo.ClientError.Statement.SyntaxError, and a code matched by a prefix
// in lower case has that prefix as the pack writes it. A code that rules
// match as it is, or that none matches, is returned as it is. Reports,
// pages and exports show codes this way.
func (c *Classifier) Canonical(code string, lset labels.Labels) string {
	if c.match(code, lset) >= 0 || c.fold == nil {
		return code
	}
	i := c.fold.match(code, lset)
	if i < 0 {
		return code
	}
	r := c.fold.rules[i]
	if r.kind == kindExact {
		return r.key
	}
	return r.key + code[len(r.key):] // ASCII lowering keeps lengths
}

// match returns the index of the first rule that matches, or -1. In the
// folded classifier the code's bytes are lowered as the trie is walked.
func (c *Classifier) match(code string, lset labels.Labels) int32 {
	best := int32(math.MaxInt32)
	if i, ok := c.exact[code]; ok {
		best = i
	}
	// Walk the trie along code; at depth d the node's rules are those keyed by
	// code[:d]. A node's rules are ascending, so the first match in a node is
	// its best, and no rule at or after best can win: the walk ends where no
	// rule below can beat it (an exact code of a pack, ahead of its families,
	// costs the map lookup alone).
	var n int32
	for depth := 0; c.trie[n].min < best; depth++ {
		for _, ri := range c.trie[n].rules {
			if ri >= best {
				break
			}
			if c.rules[ri].matches(code, depth, lset) {
				best = ri
				break
			}
		}
		if depth == len(code) {
			break
		}
		b := code[depth]
		if c.folded {
			b = lowerByte(b)
		}
		if n = c.trie[n].child(b); n == 0 {
			break
		}
	}
	if best == math.MaxInt32 {
		return -1
	}
	return best
}

// matches reports whether a rule found in the trie at depth matches; the trie
// path has already matched the rule's key against code[:depth].
func (r *compiled) matches(code string, depth int, lset labels.Labels) bool {
	for _, l := range r.labels {
		if lset.Get(l.Name) != l.Value {
			return false
		}
	}
	switch r.kind {
	case kindExact:
		return depth == len(code)
	case kindRegex:
		return r.re.MatchString(code)
	}
	return true
}
