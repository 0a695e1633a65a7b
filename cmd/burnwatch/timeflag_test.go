package main

import (
	"strings"
	"testing"
	"time"
)

func TestEveryTimeFlagReadsTheSameForms(t *testing.T) {
	now := time.Date(2026, 11, 11, 10, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, in string
		want     time.Time
	}{
		{"RFC 3339", "2026-11-05T02:00:00Z", time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)},
		{"RFC 3339 with a zone is read in UTC", "2026-11-05T03:00:00+01:00", time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)},
		{"a time without a zone is UTC", "2026-11-05T02:00", time.Date(2026, 11, 5, 2, 0, 0, 0, time.UTC)},
		{"a date is midnight UTC", "2026-11-05", time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)},
		{"now", "now", now},
		{"two hours ago", "now-2h", now.Add(-2 * time.Hour)},
		{"a week in days", "now-7d", now.AddDate(0, 0, -7)},
		{"ahead", "now+30m", now.Add(30 * time.Minute)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTime("from", tt.in, now)
			if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{"yesterday", "now-2", "now*2h", "2026-13-01", "1700000000"} {
		_, err := parseTime("from", bad, now)
		if err == nil || !strings.Contains(err.Error(), "want "+timeForms) {
			t.Errorf("parseTime(%q) = %v; want an error naming the accepted forms", bad, err)
		}
	}
}

func TestWeekIsAnISOWeekOrATimeWithinIt(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) // Wednesday of 2026-W48
	w47 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	for _, in := range []string{"2026-W47", "now-7d", "2026-11-22", "2026-11-16T00:00:00Z", ""} {
		got, err := parseWeek(in, now)
		if err != nil || !got.Equal(w47) {
			t.Errorf("parseWeek(%q) = %v, %v; want %v", in, got, err, w47)
		}
	}
	if _, err := parseWeek("W47", now); err == nil || !strings.Contains(err.Error(), "ISO week (2026-W47) or a time within the week") {
		t.Errorf("parseWeek(W47) = %v; want the accepted forms", err)
	}
}

// TestTimeFlagErrorsNameTheForms runs each command that takes times with
// one it cannot read: each says which forms it accepts, and exits 2.
func TestTimeFlagErrorsNameTheForms(t *testing.T) {
	for _, args := range [][]string{
		{"report", "--from", "yesterday", "--to", "now"},
		{"report", "--week", "last"},
		{"export", "--from", "yesterday", "--to", "now"},
		{"replay", "--prometheus", "http://127.0.0.1:1", "--from", "yesterday"},
	} {
		code, _, stderr := runCmd(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, timeForms) {
			t.Errorf("%v: exit %d, %q; want exit %d naming %s", args, code, stderr, exitUsage, timeForms)
		}
	}
}
