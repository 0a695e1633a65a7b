// Package console prints notifications for a person to read: the
// receiver in force when the config names none, so that a new install,
// and the README's demo, shows the page it would have sent, with its
// playbook link:
//
//	20:36:00  PAGE FIRING  burn-rate cypher-availability{database="db-2"}
//	          1h burns 39.4×, 5m burns 200×
//	          codes: Neo.DatabaseError.General.UnknownError (platform, 998)
//	          playbook: http://127.0.0.1:9099/playbooks/database-unavailable
package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/readable"
)

// DefaultName is a console receiver's name unless WithName gives another.
const DefaultName = "console"

// indent lines up the lines below the first with the alert's severity:
// the width of "15:04:05  ".
const indent = "          "

// maxInstances bounds the surging instances a block names.
const maxInstances = 10

// Receiver writes each notification as a block of lines to a writer.
type Receiver struct {
	name string
	loc  *time.Location
	mu   sync.Mutex // one block at a time
	w    io.Writer
}

var _ notify.Receiver = (*Receiver)(nil)

// Option changes a Receiver from its defaults.
type Option func(*Receiver)

// WithName names the receiver as the config does.
func WithName(name string) Option { return func(r *Receiver) { r.name = name } }

// New returns a receiver that writes to w, with times of day in loc (the
// local time zone when nil).
func New(w io.Writer, loc *time.Location, opts ...Option) *Receiver {
	if loc == nil {
		loc = time.Local
	}
	r := &Receiver{name: DefaultName, loc: loc, w: w}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Name returns the receiver's name.
func (r *Receiver) Name() string { return r.name }

// Notify writes the notification's block in one write. A failed write is
// not retried: a console that cannot be written now will not be later.
func (r *Receiver) Notify(_ context.Context, n notify.Notification) (retry bool, err error) {
	b := Format(n, r.loc)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.w.Write(b); err != nil {
		return false, fmt.Errorf("console %q: writing alert %s: %w", r.name, n.AlertID, err)
	}
	return false, nil
}

// Format returns the block the receiver writes for n: a first line with
// the time of the transition in loc, severity, state, alert and instance,
// then one indented line each for the burn rates, a surge's instances,
// the error codes, the playbook and the dashboard, when there are any.
//
// Every line is written through readable.Text, so that a label value or
// an error code can neither start a line of its own (a forged "RESOLVED")
// nor send escape sequences to the terminal; numbers are written by
// readable ("1000×", not "1e+03×").
func Format(n notify.Notification, loc *time.Location) []byte {
	var b bytes.Buffer
	head := fmt.Sprintf("%s  %s %s  %s %s", n.Time.In(loc).Format(time.TimeOnly), strings.ToUpper(n.Severity), strings.ToUpper(n.State), n.Kind, n.SLO)
	if len(n.Labels) > 0 {
		head += labels.FromMap(n.Labels).String()
	}
	b.WriteString(readable.Text(head))
	b.WriteByte('\n')
	line := func(format string, args ...any) {
		b.WriteString(indent)
		b.WriteString(readable.Text(fmt.Sprintf(format, args...)))
		b.WriteByte('\n')
	}
	if len(n.BurnRates) > 0 {
		rates := make([]string, len(n.BurnRates))
		for i, r := range n.BurnRates {
			rates[i] = fmt.Sprintf("%s burns %s", r.Window, readable.Rate(r.Rate))
		}
		line("%s", strings.Join(rates, ", "))
	}
	if n.Fleet > 0 {
		var names []string
		for i, l := range n.Instances {
			if i == maxInstances {
				names = append(names, fmt.Sprintf("and %d more", len(n.Instances)-maxInstances))
				break
			}
			names = append(names, labels.FromMap(l).String())
		}
		if len(names) > 0 {
			line("%d of %d instances surging: %s", n.Surging, n.Fleet, strings.Join(names, ", "))
		} else {
			line("%d of %d instances surging", n.Surging, n.Fleet)
		}
	}
	if len(n.Codes) > 0 {
		codes := make([]string, len(n.Codes))
		for i, c := range n.Codes {
			codes[i] = fmt.Sprintf("%s (%s, %s)", c.Code, c.Class, readable.Number(c.Count))
		}
		line("codes: %s", strings.Join(codes, ", "))
	}
	switch {
	case n.PlaybookURL != "":
		line("playbook: %s", n.PlaybookURL)
	case n.PlaybookID != "":
		line("playbook: %s", n.PlaybookID)
	}
	if n.DashboardURL != "" {
		line("dashboard: %s", n.DashboardURL)
	}
	return b.Bytes()
}
