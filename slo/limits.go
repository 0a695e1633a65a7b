package slo

// Limits bound what sources, pushers and API clients can make burnwatch
// keep, so that neither a cardinality explosion at a source nor a careless
// (or hostile) client grows its memory or disk without end. What is over a
// limit is refused by the API (400) or, for series read from a source,
// dropped with a reason in the log and in burnwatch_dropped_total{reason}.
// Every limit has a default that real fleets stay well inside.
type Limits struct {
	// MaxInstancesPerSLO bounds an SLO's instances (value sets of
	// group_by): a series or pushed line that would make one more is
	// dropped. About 15 KB each for a 30d SLO.
	MaxInstancesPerSLO int `yaml:"max_instances_per_slo,omitempty"`
	// MaxCodesPerInstance bounds the error codes (error series) an
	// instance counts; the errors of a code over it are dropped.
	MaxCodesPerInstance int `yaml:"max_codes_per_instance,omitempty"`
	// MaxLabels bounds the labels of a series read, or of a pushed line.
	MaxLabels int `yaml:"max_labels,omitempty"`
	// MaxLabelValueLength bounds a label value (an error code included),
	// in bytes.
	MaxLabelValueLength int `yaml:"max_label_value_length,omitempty"`
	// MaxSilences bounds the silences made through the API that have not
	// expired.
	MaxSilences int `yaml:"max_silences,omitempty"`
	// MaxSilenceBytes bounds one silence as posted (its JSON: matchers,
	// author, comment).
	MaxSilenceBytes int `yaml:"max_silence_bytes,omitempty"`
}

// The limits' defaults.
const (
	DefaultMaxInstancesPerSLO  = 100_000
	DefaultMaxCodesPerInstance = 200
	DefaultMaxLabels           = 64
	DefaultMaxLabelValueLength = 1024
	DefaultMaxSilences         = 1000
	DefaultMaxSilenceBytes     = 16 << 10
)

func (c *Config) applyLimitDefaults() {
	l := &c.Limits
	for _, x := range []struct {
		v   *int
		def int
	}{
		{&l.MaxInstancesPerSLO, DefaultMaxInstancesPerSLO},
		{&l.MaxCodesPerInstance, DefaultMaxCodesPerInstance},
		{&l.MaxLabels, DefaultMaxLabels},
		{&l.MaxLabelValueLength, DefaultMaxLabelValueLength},
		{&l.MaxSilences, DefaultMaxSilences},
		{&l.MaxSilenceBytes, DefaultMaxSilenceBytes},
	} {
		if *x.v == 0 {
			*x.v = x.def
		}
	}
}

func (c *Config) validateLimits(d *document) {
	l := c.Limits
	for _, x := range []struct {
		field string
		v     int
		least int
	}{
		{"max_instances_per_slo", l.MaxInstancesPerSLO, 1},
		{"max_codes_per_instance", l.MaxCodesPerInstance, 1},
		// Enough for the group_by labels, the metric name and the code.
		{"max_labels", l.MaxLabels, 8},
		{"max_label_value_length", l.MaxLabelValueLength, 64},
		{"max_silences", l.MaxSilences, 1},
		{"max_silence_bytes", l.MaxSilenceBytes, 1024},
	} {
		if x.v < x.least {
			d.errorf(path{"limits", x.field}, "%d is too small; at least %d (leave it out for the default)", x.v, x.least)
		}
	}
}
