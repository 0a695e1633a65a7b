package slo

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// An SLO may read several sources, one per cluster, each of which adds
// its labels (orchestra: eu-1) to every series it reads, before the
// engine sees them: the instances of all of them are one SLO's, in one
// report. docs/deploy.md, "Many clusters".

// SourceNames are the sources the SLO reads: its sources, or its source.
func (s *SLO) SourceNames() []string {
	if len(s.Sources) > 0 {
		return s.Sources
	}
	if s.Source != "" {
		return []string{s.Source}
	}
	return nil
}

// Reads reports whether the SLO reads the named source.
func (s *SLO) Reads(source string) bool { return slices.Contains(s.SourceNames(), source) }

// MultiSource reports whether the SLO reads several sources: each of its
// instances then belongs to the one whose labels it carries.
func (s *SLO) MultiSource() bool { return len(s.SourceNames()) > 1 }

// SourceFor names the source a series of this SLO is read from: the one
// whose labels it carries, for an SLO reading several; its only one
// otherwise.
func (s *SLO) SourceFor(lset labels.Labels) string {
	names := s.SourceNames()
	if len(names) == 0 {
		return ""
	}
	for i, ls := range s.sourceLabels {
		if Carries(lset, ls) {
			return names[i]
		}
	}
	return names[0]
}

// Carries reports whether lset holds every label of want, with its value.
func Carries(lset labels.Labels, want map[string]string) bool {
	for k, v := range want {
		if lset.Get(k) != v {
			return false
		}
	}
	return true
}

// LabelSet is a source's labels as Prometheus labels, to add to a series.
func (s *Source) LabelSet() labels.Labels { return labels.FromMap(s.Labels) }

// validateSourceLabels checks a source's labels: Prometheus label names,
// non-empty values, and only on sources burnwatch reads series from.
func (s *Source) validateSourceLabels(d *document, p path) {
	if len(s.Labels) == 0 {
		return
	}
	if s.Events != nil {
		d.errorf(p.with("labels"), "an events source adds no labels: pushers send every label of a line themselves")
		return
	}
	for _, k := range slices.Sorted(maps.Keys(s.Labels)) {
		switch {
		case !model.LabelName(k).IsValidLegacy() || strings.HasPrefix(k, "__"):
			d.errorf(p.with("labels", k), "%q is not a label name a source may add", k)
		case s.Labels[k] == "":
			d.errorf(p.with("labels", k), "is empty; a label the source adds needs a value, such as eu-1")
		}
	}
}

// validateSources checks the sources an SLO names, and for several, that
// each instance can come from only one of them: every source adds labels,
// the SLO groups by each of them, and no two sources add the same set.
func (c *Config) validateSources(d *document, i int, s *SLO, names map[string]bool) {
	p := path{"slos", i}
	valid := validNames(sourceNames(c.Sources), "valid: ", "no source has a name yet")
	if s.Source != "" && len(s.Sources) > 0 {
		d.errorf(p.with("sources"), "name the sources in source or in sources, not both")
		return
	}
	if len(s.Sources) == 0 {
		switch {
		case s.Source == "":
			d.errorf(p.with("source"), "is required when there are several sources; %s", validNames(sourceNames(c.Sources), "name one of ", "give each source a name and name it here"))
		case !names[s.Source]:
			d.errorf(p.with("source"), "%q names no source; %s", s.Source, valid)
		default:
			c.rejectAddedLabelMatchers(d, p, s)
		}
		return
	}
	seen, missing := map[string]bool{}, map[string]bool{}
	sets := map[string]string{}
	ok := true
	for j, name := range s.Sources {
		q := p.with("sources", j)
		src := sourceNamed(c.Sources, name)
		switch {
		case src == nil:
			d.errorf(q, "%q names no source; %s", name, valid)
			ok = false
			continue
		case seen[name]:
			d.errorf(q, "%q is named twice", name)
			ok = false
			continue
		}
		seen[name] = true
		if len(s.Sources) == 1 {
			continue
		}
		switch {
		case src.Events != nil:
			d.errorf(q, "%q is an events source; an SLO reading several sources reads prometheus and datadog sources, each adding its labels", name)
			ok = false
			continue
		case len(src.Labels) == 0:
			d.errorf(q, "source %q adds no labels; each of several sources must add labels that tell its instances apart, such as labels: {orchestra: eu-1}", name)
			ok = false
			continue
		}
		key := labels.FromMap(src.Labels).String()
		if other, dup := sets[key]; dup {
			d.errorf(q, "source %q adds the same labels as %q, %s: their instances would be one", name, other, key)
			ok = false
		}
		sets[key] = name
		for _, k := range slices.Sorted(maps.Keys(src.Labels)) {
			if !slices.Contains(s.GroupBy, k) && !missing[k] {
				missing[k] = true
				d.errorf(p.with("group_by"), "must hold %q, a label source %q adds: each instance comes from one source", k, name)
				ok = false
			}
		}
	}
	if ok {
		c.rejectAddedLabelMatchers(d, p, s)
	}
}

// rejectAddedLabelMatchers refuses a selector that matches on a label its
// source adds: the source's server does not have it, and would return
// nothing. It also keeps the sources' label sets for SourceFor.
func (c *Config) rejectAddedLabelMatchers(d *document, p path, s *SLO) {
	s.sourceLabels = nil
	for _, name := range s.SourceNames() {
		src := sourceNamed(c.Sources, name)
		if src == nil {
			return
		}
		s.sourceLabels = append(s.sourceLabels, src.Labels)
		for _, x := range []struct {
			field string
			ms    []*labels.Matcher
		}{{"total", s.totalMatchers}, {"errors", s.errorMatchers}} {
			for _, m := range x.ms {
				if _, added := src.Labels[m.Name]; added {
					d.errorf(p.with("sli", x.field), "matches on %s, a label source %q adds after reading: its server's series do not have it; leave the matcher out", m.Name, name)
				}
			}
		}
	}
}

func sourceNamed(ss []*Source, name string) *Source {
	for _, src := range ss {
		if src != nil && src.Name == name {
			return src
		}
	}
	return nil
}
