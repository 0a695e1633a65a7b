package burnrate

// Events are the increases of an instance's counters at one time, with
// its errors split by class. They are what a source and the classifier
// hand to the engine: the seam between them.
type Events struct {
	Total    float64 // every event
	User     float64 // errors the user caused
	Ignore   float64 // errors that are noise
	Platform float64 // failures of the platform, and errors no rule knew
}

// Add returns the sum of e and d.
func (e Events) Add(d Events) Events {
	return Events{e.Total + d.Total, e.User + d.User, e.Ignore + d.Ignore, e.Platform + d.Platform}
}

// Scale returns e with every count multiplied by f.
func (e Events) Scale(f float64) Events {
	return Events{e.Total * f, e.User * f, e.Ignore * f, e.Platform * f}
}

// Counts returns what the events count for the SLI:
//
//	valid = total − user − ignore
//	bad   = platform
func (e Events) Counts() Counts {
	return Counts{Valid: e.Total - e.User - e.Ignore, Bad: e.Platform}
}
