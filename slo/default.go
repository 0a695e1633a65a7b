package slo

import _ "embed"

// DefaultConfig is the config used when none is given: one availability
// SLO over Neo4j's query counters, per database, with the workbook policy.
//
//go:embed default.yaml
var DefaultConfig []byte

// DefaultName is how errors name the embedded default config.
const DefaultName = "(embedded default config)"

// LoadDefault returns the embedded default config.
func LoadDefault() (*Config, error) { return Parse(DefaultName, DefaultConfig) }
