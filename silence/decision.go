package silence

// Decision is what to do with a notification, and so why it was or was not
// sent. Its values and names are notify.Reason's first three (sent,
// silenced, in_maintenance), for the same logs and metric labels.
type Decision int

const (
	Send          Decision = iota // nothing holds it
	Silenced                      // an active silence matches its alert
	InMaintenance                 // a running maintenance window covers it
)

func (d Decision) String() string {
	switch d {
	case Send:
		return "sent"
	case Silenced:
		return "silenced"
	case InMaintenance:
		return "in_maintenance"
	}
	return "unknown"
}
