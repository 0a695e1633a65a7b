package service

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/report"
)

// ParseExportQuery reads an export's query from URL parameters: from and to
// (RFC 3339), margin (a duration such as 30m; default 1h), slo, match
// (label=value, repeated) and all (true to export every matching instance).
func ParseExportQuery(v url.Values) (ExportQuery, error) {
	q := ExportQuery{SLO: v.Get("slo"), Margin: DefaultExportMargin}
	var err error
	if q.From, err = parseExportTime("from", v.Get("from")); err != nil {
		return q, err
	}
	if q.To, err = parseExportTime("to", v.Get("to")); err != nil {
		return q, err
	}
	if m := v.Get("margin"); m != "" {
		d, err := model.ParseDuration(m)
		if err != nil {
			return q, fmt.Errorf("margin %q: want a duration such as 30m or 2h", m)
		}
		q.Margin = time.Duration(d)
	}
	if q.Match, err = ParseMatch(v["match"]); err != nil {
		return q, err
	}
	if a := v.Get("all"); a != "" {
		if q.All, err = strconv.ParseBool(a); err != nil {
			return q, fmt.Errorf("all %q: want true or false", a)
		}
	}
	if !q.To.After(q.From) {
		return q, fmt.Errorf("to %s is not after from %s", v.Get("to"), v.Get("from"))
	}
	return q, nil
}

// checkSpan refuses an export whose window and margins span more than
// most, the history kept. Each part is checked before they are added, so
// that no sum overflows: a window from year 1 to 9999 is longer than
// time.Duration can say, and Sub saturates at its largest, 292 years.
func (q ExportQuery) checkSpan(most time.Duration) error {
	if q.Margin < 0 {
		return fmt.Errorf("margin %s is negative", q.Margin)
	}
	window := q.To.Sub(q.From)
	switch {
	case q.Margin > most || window > most:
		return fmt.Errorf("%w: the window and its margins span more than the %s of history kept", ErrExportTooLong, model.Duration(most))
	case window+2*q.Margin > most:
		return fmt.Errorf("%w: the window and its margins span %s, more than the %s of history kept", ErrExportTooLong, model.Duration(window+2*q.Margin), model.Duration(most))
	}
	return nil
}

func parseExportTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%s is missing: want a time such as 2026-11-05T02:00:00Z", name)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want RFC 3339, such as 2026-11-05T02:00:00Z", name, s)
	}
	return t, nil
}

// exportRoute serves GET /api/v1/export?from=…&to=…[&margin=][&slo=]
// [&match=label=value…][&all=true][&format=json|csv|md][&table=minutes|timeline]:
// the postmortem export, streamed as it is computed. For csv, table chooses
// the minutes (the default) or the timeline.
func (s *Service) exportRoute(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/export", func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := ParseExportQuery(v)
		if err != nil {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		format := v.Get("format")
		if format == "" {
			format = "json"
		}
		out := &countingWriter{w: w, rc: longAnswer(w, exportStall)}
		var ew report.ExportWriter
		switch table := v.Get("table"); {
		case format == "csv" && table == "timeline":
			ew, err = report.NewExportWriter(format, io.Discard, out)
		case table == "" || table == "minutes":
			ew, err = report.NewExportWriter(format, out, nil)
		default:
			err = fmt.Errorf("table %q: valid: minutes, timeline (for csv)", table)
		}
		if err != nil {
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		if _, err := s.exportSLOs(r.Context(), q.SLO); err != nil {
			writeJSONBody(w, http.StatusNotFound, map[string]any{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", report.ExportContentType(format))
		err = s.Export(withoutWaiting(r.Context()), q, ew)
		switch {
		case err == nil:
		case errors.Is(err, ErrExportTooLong) && out.n == 0:
			writeJSONBody(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
		case errors.Is(err, ErrBusy):
			busy(w)
		case r.Context().Err() != nil:
			// The client went away; the export stopped with it.
			s.log.Debug("export abandoned by its client", "err", err, "bytes", out.n)
		case out.n == 0:
			s.log.Error("export failed", "err", err, "from", q.From, "to", q.To)
			writeJSONBody(w, http.StatusServiceUnavailable, map[string]any{"error": "the export failed: " + err.Error()})
		default:
			// The status went with the first byte: break the response,
			// so that the client sees it cut short rather than complete.
			s.log.Error("export failed part way; the response is cut", "err", err, "from", q.From, "to", q.To, "bytes", out.n)
			panic(http.ErrAbortHandler)
		}
	})
}

// countingWriter counts what went to the client, and moves the write
// deadline on as it goes: a client that takes nothing for exportStall is
// given up on, one that reads goes on however long the export takes.
type countingWriter struct {
	w        io.Writer
	n        int64
	rc       *http.ResponseController
	deadline time.Time
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if now := time.Now(); c.rc != nil && now.Add(exportStall-time.Second).After(c.deadline) {
		c.deadline = now.Add(exportStall)
		_ = c.rc.SetWriteDeadline(c.deadline)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
