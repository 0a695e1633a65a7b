package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/service"
)

// timeForms says which forms every time flag accepts, for its errors.
const timeForms = "RFC 3339 (2026-11-05T02:00:00Z), a date (2026-11-05, midnight UTC), or a time relative to now (now, now-2h, now-7d)"

// parseTime reads the time a flag gives, in one of the forms every time
// flag of every command accepts: RFC 3339 (also without seconds or zone,
// read as UTC), a date (midnight UTC), or now with an optional offset in
// Prometheus's duration units (now-2h, now-7d, now+30m).
func parseTime(flag, s string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(strings.TrimSpace(s), "now"); ok {
		if rest == "" {
			return now.UTC(), nil
		}
		sign := rest[0]
		if d, err := model.ParseDuration(rest[1:]); err == nil && (sign == '-' || sign == '+') {
			if sign == '-' {
				return now.Add(-time.Duration(d)).UTC(), nil
			}
			return now.Add(time.Duration(d)).UTC(), nil
		}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("--%s %q: want %s", flag, s, timeForms)}
}

// parseWeek reads --week: an ISO week (2026-W47), or any time parseTime
// reads, meaning the week that holds it (--week now-7d is last week).
// Empty is the last complete week. It returns the week's Monday 00:00 UTC.
func parseWeek(s string, now time.Time) (time.Time, error) {
	if s == "" || strings.Contains(s, "-W") {
		wk, err := service.WeekStart(s, now)
		if err != nil {
			return time.Time{}, usageError{fmt.Errorf("--week %q: want an ISO week (2026-W47) or a time within the week: %s", s, timeForms)}
		}
		return wk, nil
	}
	t, err := parseTime("week", s, now)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--week %q: want an ISO week (2026-W47) or a time within the week: %s", s, timeForms)}
	}
	y, w := t.ISOWeek()
	return service.WeekStart(fmt.Sprintf("%d-W%02d", y, w), now)
}
