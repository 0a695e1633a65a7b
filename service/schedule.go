package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/burnwatch/burnwatch/notify"
	"github.com/burnwatch/burnwatch/notify/webhook"
	"github.com/burnwatch/burnwatch/report"
)

// Sending the scheduled report to its receiver, each with why.
const (
	// reportAttempts bounds the POSTs of one scheduled report. The report
	// is not kept in the outbox, which is for pages: a receiver down for
	// longer misses the week's POST, and the report is still in
	// reports.dir (if set) and at GET /api/v1/report.
	reportAttempts = 3
	// reportSendTimeout bounds one report's delivery, the waits between
	// attempts (backoff: about 1s, then 2s, or a 429's Retry-After) and
	// each POST (the receiver's own timeout, default 10s) included.
	reportSendTimeout = time.Minute
)

// reportOutcome is what became of the scheduled report at one
// destination: in the log, and the outcome label of
// burnwatch_reports_total{destination,outcome}.
type reportOutcome int

const (
	reportSent    reportOutcome = iota // written, or taken by the receiver (a 2xx)
	reportRefused                      // refused for good (a 4xx but 408 and 429), not retried
	reportFailed                       // not written, or failed through every attempt or the time allowed
)

var reportOutcomes = [...]string{reportSent: "sent", reportRefused: "refused", reportFailed: "failed"}

func (o reportOutcome) String() string {
	if int(o) < 0 || int(o) >= len(reportOutcomes) {
		return "unknown"
	}
	return reportOutcomes[o]
}

// The destination label of burnwatch_reports_total, named after the
// config's field.
const (
	reportToDir      = "dir"
	reportToReceiver = "receiver"
)

// reportPoster is a receiver that takes the weekly report: a webhook's.
type reportPoster interface {
	PostReport(ctx context.Context, r webhook.WeeklyReport) (retry bool, err error)
}

// scheduledReports makes the weekly report when its schedule comes due,
// judged by the service's clock: the config's cron expression in its time
// zone (default Monday 09:00 UTC). It writes a file per format to
// reports.dir, if set, and posts the formats to reports.receiver, if set.
func (s *Service) scheduledReports(ctx context.Context) {
	in := s.cur.Load()
	rc := in.cfg.Reports
	rcv := in.receivers[rc.Receiver]
	if !rc.Scheduled() {
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
	due := s.nextReport
	s.nextReport = sched.Next(now.In(loc))
	if !s.ledAt(due) {
		// With two replicas, the report is the business of the one that
		// led when it came due: sent once, by it (leader.go).
		s.log.Info("scheduled report left to the leader", "due", due.Format(time.RFC3339))
		return
	}
	from, _ := WeekStart("", now)
	to := from.Add(7 * 24 * time.Hour)
	rep, err := s.Report(ctx, from, to)
	if err != nil {
		s.log.Error("making the scheduled report", "err", err)
		return
	}
	week := fmt.Sprintf("%d-W%02d", isoYear(from), isoWeek(from))
	var formats []webhook.Rendering
	for _, f := range rc.Formats {
		r, err := renderReport(f, rep)
		if err != nil {
			s.log.Error("rendering the scheduled report", "week", week, "format", f, "err", err)
			continue
		}
		formats = append(formats, r)
	}
	if rc.Dir != "" {
		s.writeReports(rc.Dir, week, formats)
	}
	if rc.Receiver != "" && len(formats) > 0 {
		s.sendReport(ctx, rc.Receiver, rcv, webhook.WeeklyReport{Week: week, From: from, To: to, Formats: formats})
	}
}

// renderReport is the report in one format, in memory.
func renderReport(format string, rep report.Report) (webhook.Rendering, error) {
	write, ctype, ok := ReportWriter(format)
	if !ok {
		return webhook.Rendering{}, fmt.Errorf("format %q", format)
	}
	var b bytes.Buffer
	if err := write(&b, rep); err != nil {
		return webhook.Rendering{}, err
	}
	return webhook.Rendering{Format: format, ContentType: ctype, Content: b.Bytes()}, nil
}

// writeReports writes each format to dir as burnwatch-2026-W47.md and so
// on, each whole or not at all (written aside, then renamed).
func (s *Service) writeReports(dir, week string, formats []webhook.Rendering) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.Error("writing the scheduled report", "err", err)
		s.metrics.report(reportToDir, reportFailed)
		return
	}
	for _, f := range formats {
		path := filepath.Join(dir, "burnwatch-"+week+"."+f.Format)
		if err := writeFileAtomic(path, f.Content); err != nil {
			s.log.Error("writing the scheduled report", "file", path, "err", err)
			s.metrics.report(reportToDir, reportFailed)
			continue
		}
		s.metrics.report(reportToDir, reportSent)
		s.log.Info("weekly report written", "file", path, "next", s.nextReport.Format(time.RFC3339))
	}
}

func writeFileAtomic(path string, content []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// sendReport posts the report to the receiver named name in a goroutine,
// so that a slow or failing receiver never holds up the evaluation loop:
// at most reportAttempts POSTs within reportSendTimeout of real time (not
// the service's clock), cut short when ctx, the service's run, ends. Run
// waits for it before it returns; a test calls reportsSending.Wait.
func (s *Service) sendReport(ctx context.Context, name string, rcv notify.Receiver, rep webhook.WeeklyReport) {
	log := s.log.With("receiver", name, "week", rep.Week)
	poster, ok := rcv.(reportPoster)
	if !ok {
		// The config allows only a webhook; a receiver a program brought
		// under its name may take no reports.
		log.Error("weekly report not sent: the receiver takes no reports", "outcome", reportRefused)
		s.metrics.report(reportToReceiver, reportRefused)
		return
	}
	s.reportsSending.Add(1)
	go func() {
		defer s.reportsSending.Done()
		ctx, cancel := context.WithTimeout(ctx, reportSendTimeout)
		defer cancel()
		s.metrics.report(reportToReceiver, postReport(ctx, poster, rep, log))
	}()
}

// postReport posts rep until it is taken, refused for good, or the
// attempts or ctx run out, and logs what became of it.
func postReport(ctx context.Context, p reportPoster, rep webhook.WeeklyReport, log *slog.Logger) reportOutcome {
	giveUp := func(attempt int, err error) reportOutcome {
		log.Error("weekly report not sent; giving up", "outcome", reportFailed, "attempt", attempt, "err", err)
		return reportFailed
	}
	for attempt := 1; ; attempt++ {
		retry, err := p.PostReport(ctx, rep)
		if err == nil {
			log.Info("weekly report sent", "outcome", reportSent, "attempt", attempt)
			return reportSent
		}
		if !retry {
			log.Error("weekly report refused; not retried", "outcome", reportRefused, "attempt", attempt, "err", err)
			return reportRefused
		}
		wait := backoff(attempt)
		var ra notify.RetryAfter
		if errors.As(err, &ra) && ra.RetryAfter() > wait {
			wait = ra.RetryAfter()
		}
		if deadline, _ := ctx.Deadline(); attempt == reportAttempts || time.Until(deadline) < wait {
			return giveUp(attempt, err)
		}
		log.Warn("sending the weekly report failed; will retry", "attempt", attempt, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return giveUp(attempt, ctx.Err())
		case <-t.C:
		}
	}
}

// ReportWriter returns a format's writer and content type.
func ReportWriter(format string) (func(io.Writer, report.Report) error, string, bool) {
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
