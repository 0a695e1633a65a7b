package classify

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// benchCodes returns distinct codes for fresh classifications, all packs on:
// every pack's own codes and samples of its families (the code mix of a real
// fleet leans on exact codes), plus as many codes that no rule knows, which
// walk the index furthest before falling to the default.
func benchCodes(b *testing.B) map[string][]string {
	b.Helper()
	known := allSampleCodes(b)
	var unknown []string
	for i := range len(known) {
		unknown = append(unknown, fmt.Sprintf("Vendor.Error.Unknown%d", i))
	}
	var neo4j, families []string
	for _, name := range Packs {
		p, err := loadPack(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range p.rules {
			switch {
			case r.Match.Code != "" && name == "neo4j":
				neo4j = append(neo4j, r.Match.Code)
			case r.Match.Code == "":
				families = append(families, samplesFor(r.Match)...)
			}
		}
	}
	return map[string][]string{
		"mixed":         append(append([]string{}, known...), unknown...),
		"neo4j-exact":   neo4j,
		"family-sample": families,
		"unknown":       unknown,
	}
}

// BenchmarkClassifyFresh measures Classify for series seen for the first
// time, with every pack on: the cost paid once per distinct series.
func BenchmarkClassifyFresh(b *testing.B) {
	c := mustNew(b, nil, nil)
	sets := benchCodes(b)
	lset := labels.FromStrings("database", "db-1", "orchestra", "eu-1")
	for _, name := range []string{"mixed", "neo4j-exact", "family-sample", "unknown"} {
		codes := sets[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Classify(codes[i], lset)
				if i++; i == len(codes) {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "classifications/s")
		})
	}
}

// BenchmarkClassifyCached measures what the caller pays per sample once a
// series is classified: a map lookup keyed by the series' identity, as the
// evaluation caches decisions (the classifier is not called per sample).
func BenchmarkClassifyCached(b *testing.B) {
	c := mustNew(b, nil, nil)
	codes := benchCodes(b)["mixed"]
	const databases = 20 // series = codes × databases
	type series struct {
		key  string
		code string
	}
	var all []series
	for d := range databases {
		for _, code := range codes {
			l := labels.FromStrings("code", code, "database", fmt.Sprintf("db-%d", d))
			all = append(all, series{key: l.String(), code: code})
		}
	}
	cache := make(map[string]Decision, len(all))
	for _, s := range all {
		cache[s.key] = c.Classify(s.code, labels.EmptyLabels())
	}
	b.ReportAllocs()
	i, user := 0, 0
	for b.Loop() {
		if cache[all[i].key].Class == User {
			user++
		}
		if i++; i == len(all) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/sample")
	b.ReportMetric(float64(len(all)), "series")
	_ = user
}
