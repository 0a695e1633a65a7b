package slo

import (
	"slices"
	"strings"

	"github.com/burnwatch/burnwatch/classify"
)

// Classify is the config's part in classifying error codes: which built-in
// packs are on, and the config's own rules, which come before them.
type Classify struct {
	// Packs lists the built-in packs to use; left out, all of them are on.
	Packs []string        `yaml:"packs,omitempty"`
	Rules []classify.Rule `yaml:"rules,omitempty"`
	// Surge configures the guard that watches user faults.
	Surge Surge `yaml:"surge,omitempty"`
}

// Classifier builds the classifier this config describes.
func (c *Config) Classifier() (*classify.Classifier, error) {
	return classify.New(c.Classify.Rules, c.Classify.Packs)
}

func (c *Classify) validate(d *document, p path) {
	if !c.Surge.Disabled {
		c.Surge.validate(d, p.with("surge"))
	}
	for i, name := range c.Packs {
		switch {
		case !slices.Contains(classify.Packs, name):
			d.errorf(p.with("packs", i), "%q is not a built-in pack; valid: %s", name, strings.Join(classify.Packs, ", "))
		case slices.Index(c.Packs, name) < i:
			d.errorf(p.with("packs", i), "%q is listed twice", name)
		}
	}
	for i, r := range c.Rules {
		for _, fe := range r.Validate() {
			d.errorf(p.with("rules", i).with(fieldPath(fe.Field)...), "%s", fe.Msg)
		}
	}
}

// fieldPath splits a dotted field name such as match.regex into path elements.
func fieldPath(field string) path {
	var p path
	for _, e := range strings.Split(field, ".") {
		if e != "" {
			p = append(p, e)
		}
	}
	return p
}
