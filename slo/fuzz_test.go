package slo

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds the config loader arbitrary bytes: it may reject them,
// but only with errors, never a panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/config/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add(DefaultConfig)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && len(cfg.SLOs) == 0 {
			t.Errorf("accepted a config without SLOs")
		}
		if es, ok := err.(Errors); ok && len(es) == 0 {
			t.Errorf("returned an empty error list")
		}
	})
}
