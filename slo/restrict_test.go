package slo

import (
	"testing"
	"time"
)

func TestPagesOnlyKeepsTheFastPagePair(t *testing.T) {
	cfg, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.PagesOnly(Duration(time.Hour))
	pairs := got.SLOs[0].Pairs()
	if len(pairs) != 1 || pairs[0].Severity != Page || pairs[0].Long != Duration(time.Hour) || pairs[0].Factor != cfg.SLOs[0].Pairs()[0].Factor {
		t.Errorf("pairs %+v, want the workbook's 1h/5m page pair alone", pairs)
	}
	if !got.Classify.Surge.Disabled || cfg.Classify.Surge.Disabled {
		t.Errorf("the copy must turn the surge guard off, and the original keep it")
	}
	if len(cfg.SLOs[0].Pairs()) != 4 {
		t.Errorf("the original lost pairs: %+v", cfg.SLOs[0].Pairs())
	}
}
