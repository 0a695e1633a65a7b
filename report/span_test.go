package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/report"
)

// TestASpanOtherThanAWeekIsNamedByItsLength: a report of two days speaks
// of "these 2 days", never of "this week", in every human format.
func TestASpanOtherThanAWeekIsNamedByItsLength(t *testing.T) {
	r := handMade()
	r.To = r.From.Add(48 * time.Hour)
	for name, write := range map[string]func(*bytes.Buffer, report.Report) error{
		"md":   func(b *bytes.Buffer, r report.Report) error { return report.WriteMarkdown(b, r) },
		"html": func(b *bytes.Buffer, r report.Report) error { return report.WriteHTML(b, r) },
	} {
		var b bytes.Buffer
		if err := write(&b, r); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"Burned these 2 days", "the 2 days before", "From "} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q", name, want)
			}
		}
		for _, bad := range []string{"this week", "last week", "Week "} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: says %q of a 2-day report", name, bad)
			}
		}
	}
}
