package report

import (
	"fmt"
	"io"
	"time"
)

// The postmortem export is streamed: an ExportWriter is handed the
// export's header, then each affected instance with its minutes and its
// impact, then the timeline, and writes each piece as it comes, so that a
// 30-day export of a whole fleet never sits in memory. The numbers are the
// caller's, computed with the alerts' arithmetic; the writers lay them out.

// ExportHeader describes an export.
type ExportHeader struct {
	// From and To are the incident's window; the minutes exported reach
	// Margin before and after it.
	From, To  time.Time
	Margin    time.Duration
	Generated time.Time
	// SLO and Match are the filters asked for: an SLO's name ("" for
	// every SLO) and labels an instance must have.
	SLO   string
	Match map[string]string
	// Windows are the alert windows of every SLO exported, shortest
	// first: the burn-rate columns of the CSV.
	Windows []string
}

// ExportInstance starts one affected instance.
type ExportInstance struct {
	SLO       string
	Objective float64 // e.g. 0.999
	Window    string  // the SLO's period, e.g. "30d"
	Labels    map[string]string
	// Windows are the SLO's alert windows, in the order of
	// ExportMinute.Burn.
	Windows []string
	// Codes are the instance's errors by code, with their class, most
	// first, over the whole hours the exported minutes lie in: codes are
	// kept by the hour.
	Codes []Code
}

// ExportMinute is one minute of an instance: the minute ending at T.
type ExportMinute struct {
	T          time.Time
	Valid, Bad float64
	// Burn is the burn rate of each window of ExportInstance.Windows
	// ending at T; NaN (null in JSON, an empty cell in CSV) for a minute
	// without events, whose windows no alert measured.
	Burn []float64
}

// ExportImpact sums up what the incident (From, To] cost an instance.
type ExportImpact struct {
	Valid, Bad float64 // events in the incident's window
	// BudgetConsumed is the fraction of the period's error budget the
	// window's failures took: bad ÷ (budget × valid events of the period
	// ending at To, a young instance's extrapolated over the period), as
	// the alerts' budget arithmetic has it (burnrate.Budget).
	BudgetConsumed float64
	// BudgetMinutes is the same as minutes of the period's budget (a 30d
	// period at 99.9% allows 43.2 minutes): BudgetConsumed × (1 −
	// objective) × the period in minutes.
	BudgetMinutes float64
	// OutageMinutes are the window's failures as minutes of full outage:
	// bad ÷ valid × the window's minutes.
	OutageMinutes float64
	// PeakBurn is the highest burn rate of each window over the exported
	// minutes with events, in ExportInstance.Windows order.
	PeakBurn []float64
	// FirstBad and LastBad are the first and the last exported minute with
	// failures; zero when there were none.
	FirstBad, LastBad time.Time
}

// Timeline events, as TimelineEvent.Event holds them.
const (
	EventFired     = "fired"     // an alert began firing
	EventResolved  = "resolved"  // an alert stopped
	EventDelivered = "delivered" // a receiver accepted its notification
	EventSilenced  = "silenced"  // a silence or maintenance window held it
	EventFailed    = "failed"    // a receiver refused it for good
	EventSkipped   = "skipped"   // not sent: a resolve whose trigger never went out
	EventPending   = "pending"   // still queued for its receiver
)

// TimelineEvent is one line of the timeline: a transition, or what became
// of one of its notifications.
type TimelineEvent struct {
	Time     time.Time
	Event    string // one of the Event constants
	Alert    string // burn-rate, user-fault-surge, no-data
	SLO      string
	Severity string
	Labels   map[string]string
	// Receiver is the receiver a notification went to; empty for a
	// transition.
	Receiver string
	// Detail says more: the burn rates of a transition, the attempts or
	// the error of a notification.
	Detail string
}

// ExportWriter writes an export as it is computed. Begin comes first and
// End last; between them, every instance's Instance, Minutes and Impact,
// and then the timeline's Events in time order.
type ExportWriter interface {
	Begin(ExportHeader) error
	Instance(ExportInstance) error
	Minute(ExportMinute) error
	Impact(ExportImpact) error
	Event(TimelineEvent) error
	End() error
}

// ExportFormats are the export's formats.
var ExportFormats = []string{"json", "csv", "md"}

// NewExportWriter returns the writer of a format: json (everything, one
// document), csv (the minutes, one row per instance and minute; the
// timeline goes to timeline if it is not nil) or md (impact and timeline,
// for a postmortem document; no minutes).
func NewExportWriter(format string, w, timeline io.Writer) (ExportWriter, error) {
	switch format {
	case "json":
		return newJSONExport(w), nil
	case "csv":
		return newCSVExport(w, timeline), nil
	case "md", "markdown":
		return newMarkdownExport(w), nil
	}
	return nil, fmt.Errorf("format %q is not an export format; valid: json, csv, md", format)
}

// ExportContentType is the media type of a format's main output.
func ExportContentType(format string) string {
	switch format {
	case "csv":
		return "text/csv; charset=utf-8"
	case "md", "markdown":
		return "text/markdown; charset=utf-8"
	}
	return "application/json"
}
