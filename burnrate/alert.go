package burnrate

// State is where an alert is in its life: inactive → firing → resolved,
// and firing again if it comes back.
type State uint8

const (
	Inactive State = iota // never fired
	Firing                // a pair of its windows burns above its factor
	Resolved              // fired before; no pair fires now
)

func (s State) String() string {
	switch s {
	case Firing:
		return "firing"
	case Resolved:
		return "resolved"
	}
	return "inactive"
}

// MarshalText writes the state's name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Alert is the state of one alert: one per SLO, instance and severity.
type Alert struct {
	State State
	Since int64 // milliseconds since the epoch when State was entered
}

// Step moves the alert to its state at time ts, given whether any of its
// pairs fires then, and reports whether the state changed. It is a pure
// step: the time is given, never read.
func (a *Alert) Step(ts int64, firing bool) bool {
	switch {
	case firing && a.State != Firing:
		a.State, a.Since = Firing, ts
		return true
	case !firing && a.State == Firing:
		a.State, a.Since = Resolved, ts
		return true
	}
	return false
}
