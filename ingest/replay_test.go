package ingest

import "github.com/burnwatch/burnwatch/source"

// Every source yields what replay and the live service read.
var (
	_ Samples = (*source.Reader)(nil)
	_ Samples = (*source.PromSamples)(nil)
	_ Samples = (*source.DatadogSamples)(nil)
)
