package slo

import (
	"github.com/burnwatch/burnwatch/silence"
)

func (c *Config) validateSilences(d *document) {
	for i, s := range c.Silences {
		if s.ID == "" {
			d.errorf(path{"silences", i, "id"}, "a silence in the config needs an id, so that a reload replaces it rather than adding another")
		}
		for _, fe := range s.Validate() {
			d.errorf(path{"silences", i}.with(fieldPath(fe.Field)...), "%s", fe.Msg)
		}
	}
	for i, w := range c.Maintenance {
		for _, fe := range w.Validate() {
			d.errorf(path{"maintenance", i}.with(fieldPath(fe.Field)...), "%s", fe.Msg)
		}
		for j, name := range w.SLOs {
			if c.SLO(name) == nil {
				d.errorf(path{"maintenance", i, "slos", j}, "%q names no SLO", name)
			}
		}
	}
}

// Silences and maintenance windows live in the silence package; the
// config holds those known in advance.
type (
	// SilenceConfig is a silence written in the config.
	SilenceConfig = silence.Silence
	// MaintenanceWindow is a maintenance window, one-off or recurring.
	MaintenanceWindow = silence.Window
)
