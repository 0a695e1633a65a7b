package slo

// PagesOnly returns a copy of the config that evaluates only the page
// pairs whose long window is at most within, and no surge guard: what a
// first start can evaluate from its last hour or so of data while the rest
// of the history is still being read. The SLOs are copies; nothing of c
// changes.
func (c *Config) PagesOnly(within Duration) *Config {
	cp := *c
	cp.Classify.Surge.Disabled = true
	cp.SLOs = make([]*SLO, 0, len(c.SLOs))
	for _, s := range c.SLOs {
		x := *s
		x.pairs = nil
		for _, p := range s.pairs {
			if p.Severity == Page && p.Long <= within {
				x.pairs = append(x.pairs, p)
			}
		}
		cp.SLOs = append(cp.SLOs, &x)
	}
	return &cp
}
