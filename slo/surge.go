package slo

import "time"

// Surge configures the user-fault surge guard. User faults do not burn the
// budget, but a fleet-wide jump in them is the signature of a platform
// regression (a parser bug shipped in a new version makes valid queries
// fail as syntax errors). Per SLO, the guard compares each instance's
// user-fault ratio over Window with its own ratio over the Baseline before
// that, and alerts when many instances surge at once.
type Surge struct {
	Disabled bool     `yaml:"disabled,omitempty"`
	Window   Duration `yaml:"window,omitempty"`   // the recent span judged; default 1h
	Baseline Duration `yaml:"baseline,omitempty"` // the span before it that is normal; default 7d
	// Factor is how many times its baseline ratio an instance's recent
	// ratio must reach to count as surging; default 10.
	Factor float64 `yaml:"factor,omitempty"`
	// MinInstances and MinPercent: the alert fires when at least this many
	// instances, and at least this percentage of the SLO's instances,
	// surge at once; defaults 5 and 5.
	MinInstances int     `yaml:"min_instances,omitempty"`
	MinPercent   float64 `yaml:"min_percent,omitempty"`
	// MinEvents is the fewest user faults within Window for an instance to
	// count as surging, so that three typos on a quiet database are not a
	// surge; default 10.
	MinEvents float64 `yaml:"min_events,omitempty"`
	// MinBaseline is the lowest baseline ratio assumed, so that an
	// instance with no user faults at all before surges only once its
	// ratio reaches Factor × MinBaseline; default 0.001 (0.1%).
	MinBaseline float64  `yaml:"min_baseline,omitempty"`
	Severity    Severity `yaml:"severity,omitempty"` // default ticket
	Playbook    string   `yaml:"playbook,omitempty"` // default user-fault-surge
}

// Surge guard defaults.
const (
	DefaultSurgeWindow       = Duration(time.Hour)
	DefaultSurgeBaseline     = Duration(7 * 24 * time.Hour)
	DefaultSurgeFactor       = 10
	DefaultSurgeMinInstances = 5
	DefaultSurgeMinPercent   = 5
	DefaultSurgeMinEvents    = 10
	DefaultSurgeMinBaseline  = 0.001
	DefaultSurgePlaybook     = "user-fault-surge"
)

func (s *Surge) applyDefaults() {
	if s.Window == 0 {
		s.Window = DefaultSurgeWindow
	}
	if s.Baseline == 0 {
		s.Baseline = DefaultSurgeBaseline
	}
	if s.Factor == 0 {
		s.Factor = DefaultSurgeFactor
	}
	if s.MinInstances == 0 {
		s.MinInstances = DefaultSurgeMinInstances
	}
	if s.MinPercent == 0 {
		s.MinPercent = DefaultSurgeMinPercent
	}
	if s.MinEvents == 0 {
		s.MinEvents = DefaultSurgeMinEvents
	}
	if s.MinBaseline == 0 {
		s.MinBaseline = DefaultSurgeMinBaseline
	}
	if s.Severity == "" {
		s.Severity = Ticket
	}
	if s.Playbook == "" {
		s.Playbook = DefaultSurgePlaybook
	}
}

func (s *Surge) validate(d *document, p path) {
	w, b := s.Window.Std(), s.Baseline.Std()
	if w < 5*time.Minute || w > 6*time.Hour || w%(5*time.Minute) != 0 {
		d.errorf(p.with("window"), "%s is not a surge window; use a multiple of 5m from 5m to 6h", s.Window)
	}
	if b < w || b%time.Hour != 0 {
		d.errorf(p.with("baseline"), "%s is not a baseline; use whole hours, at least the window (%s)", s.Baseline, s.Window)
	}
	if s.Factor <= 1 {
		d.errorf(p.with("factor"), "%v must be above 1: the times its baseline ratio an instance must reach", s.Factor)
	}
	if s.MinInstances < 1 {
		d.errorf(p.with("min_instances"), "%d must be at least 1", s.MinInstances)
	}
	if !(s.MinPercent > 0 && s.MinPercent <= 100) {
		d.errorf(p.with("min_percent"), "%v is not between 0 and 100", s.MinPercent)
	}
	if s.MinEvents < 0 {
		d.errorf(p.with("min_events"), "%v must not be negative", s.MinEvents)
	}
	if !(s.MinBaseline > 0 && s.MinBaseline < 1) {
		d.errorf(p.with("min_baseline"), "%v is not a ratio between 0 and 1", s.MinBaseline)
	}
	if s.Severity != Page && s.Severity != Ticket {
		d.errorf(p.with("severity"), "%q is not a severity; valid: page, ticket", s.Severity)
	}
	if !playbookRE.MatchString(s.Playbook) {
		d.errorf(p.with("playbook"), "%q is not a playbook id (lower-case letters, digits and dashes)", s.Playbook)
	}
}
