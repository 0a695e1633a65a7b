package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/common/model"
)

// jsonExport writes the export as one JSON document, piece by piece:
//
//	{"from", "to", "margin", "generated", "slo", "match",
//	 "instances": [{"slo", "labels", "objective", "window", "windows", "codes",
//	                "minutes": [{"t", "valid", "bad", "burn": {"5m": …}}, …],
//	                "impact": {…}}, …],
//	 "timeline": [{"time", "event", "alert", "slo", "severity", "labels", "receiver", "detail"}, …]}
type jsonExport struct {
	w        *bufio.Writer
	windows  []string
	minutes  int // minutes written in the current instance
	items    int // instances, then events, written in the current list
	inEvents bool
}

func newJSONExport(w io.Writer) *jsonExport { return &jsonExport{w: bufio.NewWriterSize(w, 64<<10)} }

func (j *jsonExport) put(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing the JSON export: %w", err)
	}
	_, err = j.w.Write(b)
	return err
}

func (j *jsonExport) Begin(h ExportHeader) error {
	head := struct {
		From      optTime           `json:"from"`
		To        optTime           `json:"to"`
		Margin    string            `json:"margin"`
		Generated optTime           `json:"generated"`
		SLO       string            `json:"slo"`
		Match     map[string]string `json:"match"`
	}{optTime(h.From), optTime(h.To), model.Duration(h.Margin).String(), optTime(h.Generated), h.SLO, nonNilMap(h.Match)}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("writing the JSON export: %w", err)
	}
	j.w.Write(b[:len(b)-1]) // the header's fields, the object left open
	_, err = j.w.WriteString(`,"instances":[`)
	return err
}

func (j *jsonExport) Instance(in ExportInstance) error {
	if j.items > 0 {
		j.w.WriteByte(',')
	}
	j.items++
	j.windows, j.minutes = in.Windows, 0
	head := struct {
		SLO       string            `json:"slo"`
		Labels    map[string]string `json:"labels"`
		Objective number            `json:"objective"`
		Window    string            `json:"window"`
		Windows   []string          `json:"windows"`
		Codes     []jsonCode        `json:"codes"`
	}{in.SLO, nonNilMap(in.Labels), number(in.Objective), in.Window, nonNil(in.Windows), jsonCodes(in.Codes)}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("writing the JSON export: %w", err)
	}
	j.w.Write(b[:len(b)-1])
	_, err = j.w.WriteString(`,"minutes":[`)
	return err
}

func (j *jsonExport) Minute(m ExportMinute) error {
	if j.minutes > 0 {
		j.w.WriteByte(',')
	}
	j.minutes++
	j.w.WriteString(`{"t":`)
	j.w.Write(m.T.UTC().AppendFormat(append(make([]byte, 0, 32), '"'), time.RFC3339))
	j.w.WriteString(`","valid":`)
	j.w.Write(appendNumber(nil, m.Valid))
	j.w.WriteString(`,"bad":`)
	j.w.Write(appendNumber(nil, m.Bad))
	j.w.WriteString(`,"burn":{`)
	for i, b := range m.Burn {
		if i > 0 {
			j.w.WriteByte(',')
		}
		j.w.WriteByte('"')
		j.w.WriteString(j.windows[i])
		j.w.WriteString(`":`)
		j.w.Write(appendNumber(nil, b))
	}
	_, err := j.w.WriteString("}}")
	return err
}

func (j *jsonExport) Impact(im ExportImpact) error {
	peak := make(map[string]number, len(im.PeakBurn))
	for i, p := range im.PeakBurn {
		peak[j.windows[i]] = number(p)
	}
	v := struct {
		Valid          number            `json:"valid"`
		Bad            number            `json:"bad"`
		BudgetConsumed number            `json:"budget_consumed"`
		BudgetMinutes  number            `json:"budget_consumed_minutes"`
		OutageMinutes  number            `json:"outage_minutes"`
		PeakBurn       map[string]number `json:"peak_burn"`
		FirstBad       optTime           `json:"first_bad"`
		LastBad        optTime           `json:"last_bad"`
	}{number(im.Valid), number(im.Bad), number(im.BudgetConsumed), number(im.BudgetMinutes), number(im.OutageMinutes), peak, optTime(im.FirstBad), optTime(im.LastBad)}
	j.w.WriteString(`],"impact":`)
	if err := j.put(v); err != nil {
		return err
	}
	_, err := j.w.WriteString("}")
	return err
}

func (j *jsonExport) startEvents() {
	if !j.inEvents {
		j.inEvents, j.items = true, 0
		j.w.WriteString(`],"timeline":[`)
	}
}

func (j *jsonExport) Event(e TimelineEvent) error {
	j.startEvents()
	if j.items > 0 {
		j.w.WriteByte(',')
	}
	j.items++
	return j.put(struct {
		Time     optTime           `json:"time"`
		Event    string            `json:"event"`
		Alert    string            `json:"alert"`
		SLO      string            `json:"slo"`
		Severity string            `json:"severity"`
		Labels   map[string]string `json:"labels"`
		Receiver string            `json:"receiver,omitempty"`
		Detail   string            `json:"detail,omitempty"`
	}{optTime(e.Time), e.Event, e.Alert, e.SLO, e.Severity, nonNilMap(e.Labels), e.Receiver, e.Detail})
}

func (j *jsonExport) End() error {
	j.startEvents()
	j.w.WriteString("]}\n")
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("writing the JSON export: %w", err)
	}
	return nil
}
