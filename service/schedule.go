package service

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/burnwatch/burnwatch/report"
)

// scheduledReports writes the weekly report when its schedule comes due,
// judged by the service's clock: the config's cron expression in its time
// zone (default Monday 09:00 UTC).
func (s *Service) scheduledReports(ctx context.Context) {
	s.mu.RLock()
	rc := s.cfg.Reports
	s.mu.RUnlock()
	if rc.Dir == "" {
		return
	}
	sched, loc, err := rc.ReportSchedule()
	if err != nil {
		return // validated with the config
	}
	now := s.now()
	if s.nextReport.IsZero() {
		s.nextReport = sched.Next(now.In(loc))
		return
	}
	if now.Before(s.nextReport) {
		return
	}
	s.nextReport = sched.Next(now.In(loc))
	from, _ := weekStart("", now)
	rep, err := s.Report(ctx, from, from.Add(7*24*time.Hour))
	if err != nil {
		s.log.Error("making the scheduled report", "err", err)
		return
	}
	if err := os.MkdirAll(rc.Dir, 0o755); err != nil {
		s.log.Error("writing the scheduled report", "err", err)
		return
	}
	for _, f := range rc.Formats {
		path := filepath.Join(rc.Dir, fmt.Sprintf("burnwatch-%d-W%02d.%s", isoYear(from), isoWeek(from), f))
		if err := writeReportFile(path, f, rep); err != nil {
			s.log.Error("writing the scheduled report", "file", path, "err", err)
			continue
		}
		s.log.Info("weekly report written", "file", path, "next", s.nextReport.Format(time.RFC3339))
	}
}

func writeReportFile(path, format string, rep report.Report) error {
	write, _, ok := reportWriter(format)
	if !ok {
		return fmt.Errorf("format %q", format)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f, rep); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reportWriter returns a format's writer and content type.
func reportWriter(format string) (func(io.Writer, report.Report) error, string, bool) {
	switch format {
	case "", "json":
		return report.WriteJSON, "application/json", true
	case "md", "markdown":
		return report.WriteMarkdown, "text/markdown; charset=utf-8", true
	case "html":
		return report.WriteHTML, "text/html; charset=utf-8", true
	case "csv":
		return report.WriteCSV, "text/csv; charset=utf-8", true
	}
	return nil, "", false
}
