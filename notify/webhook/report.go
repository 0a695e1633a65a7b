package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ReportKind is the kind of a weekly report's body, where a notification's
// names its alert (burn-rate, user-fault-surge, no-data).
const ReportKind = "weekly-report"

// WeeklyReport is a weekly report to post: its ISO week and the report
// rendered in each format the config asks for.
type WeeklyReport struct {
	Week    string    // the ISO week, such as 2026-W47
	From    time.Time // its Monday 00:00 UTC
	To      time.Time // the next Monday 00:00 UTC
	Formats []Rendering
}

// Rendering is the report in one format, as its file holds it.
type Rendering struct {
	Format      string // md, html, json or csv
	ContentType string // such as text/markdown; charset=utf-8
	Content     []byte
}

// ReportPayload is the body of a weekly report's POST, version 1. Times
// are RFC 3339 in UTC.
type ReportPayload struct {
	Version string    `json:"version"` // "1"
	Kind    string    `json:"kind"`    // "weekly-report"
	Week    string    `json:"week"`    // the ISO week, such as 2026-W47
	From    time.Time `json:"from"`    // its Monday 00:00 UTC
	To      time.Time `json:"to"`      // the next Monday 00:00 UTC
	SentAt  time.Time `json:"sent_at"` // when this request was made; signed
	// Reports is the report once per format, in the config's order.
	Reports []ReportBody `json:"reports"`
}

// ReportBody is the report in one format. Body is the file's text as a
// JSON string, except for the json format, whose report is embedded as
// the JSON value it is; Content returns either as the file's bytes.
type ReportBody struct {
	Format      string          `json:"format"`       // md, html, json or csv
	ContentType string          `json:"content_type"` // as GET /api/v1/report sends it
	Body        json.RawMessage `json:"body"`
}

// Content returns the report as its format's file holds it: the string
// decoded, or a json report's bytes as they came (compacted).
func (b ReportBody) Content() ([]byte, error) {
	if b.Format == "json" {
		return b.Body, nil
	}
	var s string
	if err := json.Unmarshal(b.Body, &s); err != nil {
		return nil, fmt.Errorf("the %s report's body is not a string: %w", b.Format, err)
	}
	return []byte(s), nil
}

// PostReport posts the weekly report, signed as a notification is, to the
// receiver's URL. It returns whether a failure is worth a retry: see the
// package's Responses.
func (r *Receiver) PostReport(ctx context.Context, rep WeeklyReport) (retry bool, err error) {
	sent := r.sentAt()
	body, err := reportPayload(rep, sent)
	if err != nil {
		return false, fmt.Errorf("webhook %q: encoding report %s: %w", r.name, rep.Week, err)
	}
	return r.post(ctx, request{
		body: body,
		sent: sent,
		noun: "report",
		what: "report " + rep.Week,
		log:  r.log.With("receiver", r.name, "week", rep.Week),
	})
}

// reportPayload is the encoded body for rep, sent at sent. HTML is not
// escaped (\u003c), so that the reports read as they are; any JSON parser
// reads them either way.
func reportPayload(rep WeeklyReport, sent time.Time) ([]byte, error) {
	p := ReportPayload{
		Version: Version,
		Kind:    ReportKind,
		Week:    rep.Week,
		From:    rep.From.UTC(),
		To:      rep.To.UTC(),
		SentAt:  sent.UTC(),
		Reports: make([]ReportBody, 0, len(rep.Formats)),
	}
	for _, f := range rep.Formats {
		b := ReportBody{Format: f.Format, ContentType: f.ContentType, Body: f.Content}
		if f.Format != "json" {
			s, err := encode(string(f.Content))
			if err != nil {
				return nil, err
			}
			b.Body = s
		} else if !json.Valid(f.Content) {
			return nil, fmt.Errorf("the json report is not JSON")
		}
		p.Reports = append(p.Reports, b)
	}
	return encode(p)
}

// encode is json.Marshal without HTML escaping.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
