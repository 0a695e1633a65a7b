package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/burnwatch/burnwatch/ingest"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/store"
)

// BatchStore makes a batch of pushed events durable; the service's SQLite
// store implements it.
type BatchStore interface {
	// AppendBatch stores the raw NDJSON body of a batch that ParseEvents
	// accepted, received at the given Unix time in milliseconds, and returns
	// the batch's id. When it returns nil the batch survives a crash.
	AppendBatch(ctx context.Context, received int64, ndjson []byte) (id int64, err error)
	// BatchByKey and AppendKeyedBatch are for batches sent with an
	// Idempotency-Key (see store.DB's methods of the same names).
	BatchByKey(ctx context.Context, now int64, key string, ndjson []byte) (store.KeyedBatch, bool, error)
	AppendKeyedBatch(ctx context.Context, received int64, ndjson []byte, key string, accepted int) (store.KeyedBatch, error)
}

// PushedEvent is one line of POST /api/v1/events: the counts of one SLO
// instance in one minute.
type PushedEvent struct {
	Time   time.Time          `json:"time"` // RFC 3339; truncated to its minute, in UTC
	SLO    string             `json:"slo"`
	Labels map[string]string  `json:"labels"`
	Total  float64            `json:"total"`
	Errors map[string]float64 `json:"errors"` // code → count
}

// MaxEventSkew is how far after the batch's arrival a pushed event's time may
// be: a pusher's clock that runs a little fast is normal, one that runs
// minutes ahead is a bug that would count events in minutes that have not
// happened yet. (At the other end, an event older than its SLO's window counts
// in no window, so it is refused rather than silently dropped.)
const MaxEventSkew = 5 * time.Minute

// DefaultMaxBody is the largest body POST /api/v1/events accepts unless
// HandlerOptions.MaxBody says otherwise: about 50,000 lines of a typical
// event, a minute of a few tens of thousands of instances.
const DefaultMaxBody = 10 << 20

// MaxEventCount is the largest count a pushed line may carry, in total or
// for one error code: a trillion events in one minute of one instance,
// 16 billion a second, far above any real database. Bounded counts keep
// every sum the engine makes finite (no window, budget or burn rate can
// overflow to +Inf or become NaN, whatever is pushed, however often), and
// a count above it is a pusher's bug (a counter sent as an increase, a
// byte count for an event count) that would wreck the SLO's numbers.
const MaxEventCount = 1e12

// LineError is the first bad line of a pushed batch. Field is the JSON field
// at fault, such as total or errors["X"], or empty when the line as a whole
// is wrong.
type LineError struct {
	Line  int // 1-based, counting blank lines
	Field string
	Msg   string
	// limit is the reason of burnwatch_dropped_total when the line is
	// over a limit of the config's limits, "" otherwise.
	limit string
}

func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
}

// errNoEvents is the error of a body with no event in it.
var errNoEvents = errors.New("the body holds no events; send one JSON object a line")

// ParseEvents validates a whole NDJSON batch against the config and returns
// every event, or the first bad line's *LineError. A batch is all or nothing,
// so one bad line fails it.
//
// Each line must name an SLO of cfg; its labels must be valid label names and
// hold a value for every group_by label of that SLO (further labels are
// allowed; the SLO's code label is not, since codes go in errors); total and
// every error count must be ≥ 0 and the errors must add up to no more than
// total; time must be RFC 3339, at most MaxEventSkew after now and within the
// SLO's window before it: now − window < time ≤ now + MaxEventSkew. Unknown
// fields are errors, so that a misspelt "erors" can't drop a batch's errors
// unseen. Blank lines are skipped. A body with no events is an error.
func ParseEvents(body []byte, cfg *slo.Config, now time.Time) ([]PushedEvent, error) {
	var events []PushedEvent
	for i, line := range bytes.Split(body, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		ev, err := parseEvent(line, cfg, now)
		if err != nil {
			err.Line = i + 1
			return nil, err
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		return nil, errNoEvents
	}
	return events, nil
}

// wireEvent is a line as sent, with pointers where a missing field must be
// told apart from a zero one.
type wireEvent struct {
	Time   *string            `json:"time"`
	SLO    string             `json:"slo"`
	Labels map[string]string  `json:"labels"`
	Total  *float64           `json:"total"`
	Errors map[string]float64 `json:"errors"`
}

func parseEvent(line []byte, cfg *slo.Config, now time.Time) (PushedEvent, *LineError) {
	var w wireEvent
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return PushedEvent{}, decodeError(err)
	}
	if dec.More() {
		return PushedEvent{}, &LineError{Msg: "more than one JSON value; send one event a line"}
	}

	if w.SLO == "" {
		return PushedEvent{}, &LineError{Field: "slo", Msg: "missing; name the SLO the counts belong to"}
	}
	s := cfg.SLO(w.SLO)
	if s == nil {
		return PushedEvent{}, &LineError{Field: "slo", Msg: fmt.Sprintf("%q is not an SLO of the running config", w.SLO)}
	}

	if w.Time == nil {
		return PushedEvent{}, &LineError{Field: "time", Msg: "missing; give the minute the counts belong to in RFC 3339, such as 2026-11-05T02:00:00Z"}
	}
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return PushedEvent{}, &LineError{Field: "time", Msg: fmt.Sprintf("%q is not an RFC 3339 time such as 2026-11-05T02:00:00Z", *w.Time)}
	}
	if t.After(now.Add(MaxEventSkew)) {
		return PushedEvent{}, &LineError{Field: "time", Msg: fmt.Sprintf("%s is more than %s in the future", *w.Time, model.Duration(MaxEventSkew))}
	}
	if !t.After(now.Add(-s.Window.Std())) {
		return PushedEvent{}, &LineError{Field: "time", Msg: fmt.Sprintf("%s is older than the %s window of SLO %q", *w.Time, s.Window, s.Name)}
	}

	if e := checkEventLabels(w.Labels, s, cfg.Limits); e != nil {
		return PushedEvent{}, e
	}

	if w.Total == nil {
		return PushedEvent{}, &LineError{Field: "total", Msg: "missing; give the number of events in the minute, failed ones included"}
	}
	if msg := checkCount(*w.Total); msg != "" {
		return PushedEvent{}, &LineError{Field: "total", Msg: msg}
	}
	if n, most := len(w.Errors), cfg.Limits.MaxCodesPerInstance; over(n, most) {
		return PushedEvent{}, &LineError{Field: "errors", Msg: fmt.Sprintf("%d codes, more than the %d an instance may count (limits.max_codes_per_instance)", n, most), limit: ingest.DropCodes.String()}
	}
	var sum float64
	for _, code := range sortedKeys(w.Errors) {
		n := w.Errors[code]
		field := fmt.Sprintf("errors[%q]", logText(code))
		if code == "" {
			return PushedEvent{}, &LineError{Field: field, Msg: "an error code can't be empty"}
		}
		if over(len(code), cfg.Limits.MaxLabelValueLength) {
			return PushedEvent{}, &LineError{Field: field, Msg: fmt.Sprintf("a code of %d bytes, longer than the %d a label value may have (limits.max_label_value_length)", len(code), cfg.Limits.MaxLabelValueLength), limit: ingest.DropLabelValueLength.String()}
		}
		if msg := checkCount(n); msg != "" {
			return PushedEvent{}, &LineError{Field: field, Msg: msg}
		}
		sum += n
	}
	// Counts are whole numbers in practice, whose sums are exact; the
	// tolerance only keeps fractional counts from failing on rounding.
	if sum > *w.Total+1e-9*math.Max(1, *w.Total) {
		return PushedEvent{}, &LineError{Field: "errors", Msg: fmt.Sprintf("they add up to %s, more than total %s", formatCount(sum), formatCount(*w.Total))}
	}

	return PushedEvent{
		Time:   t.UTC().Truncate(time.Minute),
		SLO:    w.SLO,
		Labels: w.Labels,
		Total:  *w.Total,
		Errors: w.Errors,
	}, nil
}

// checkCount says what is wrong with a count, "" if nothing: it must be a
// number from 0 to MaxEventCount.
func checkCount(n float64) string {
	switch {
	case math.IsNaN(n) || math.IsInf(n, 0):
		return formatCount(n) + " is not a number"
	case n < 0:
		return formatCount(n) + " is negative"
	case n > MaxEventCount:
		return fmt.Sprintf("%s is more than the %s events a line may count", formatCount(n), formatCount(MaxEventCount))
	}
	return ""
}

// over reports whether n is over a limit; a limit of 0 is none (a config
// made in code, without defaults).
func over(n, limit int) bool { return limit > 0 && n > limit }

func checkEventLabels(ls map[string]string, s *slo.SLO, limits slo.Limits) *LineError {
	if over(len(ls), limits.MaxLabels) {
		return &LineError{Field: "labels", Msg: fmt.Sprintf("%d labels, more than the %d a series may have (limits.max_labels)", len(ls), limits.MaxLabels), limit: ingest.DropLabels.String()}
	}
	for _, name := range sortedKeys(ls) {
		field := fmt.Sprintf("labels[%q]", logText(name))
		if !model.LabelName(name).IsValidLegacy() {
			return &LineError{Field: field, Msg: fmt.Sprintf("%q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", logText(name))}
		}
		if most := limits.MaxLabelValueLength; over(len(ls[name]), most) || over(len(name), most) {
			return &LineError{Field: field, Msg: fmt.Sprintf("longer than the %d bytes a label may have (limits.max_label_value_length)", limits.MaxLabelValueLength), limit: ingest.DropLabelValueLength.String()}
		}
		if name == s.SLI.CodeLabel {
			return &LineError{Field: field, Msg: fmt.Sprintf("%q is the code label of SLO %q; error codes go in errors", name, s.Name)}
		}
	}
	for _, g := range s.GroupBy {
		v, ok := ls[g]
		if !ok {
			return &LineError{Field: "labels", Msg: fmt.Sprintf("%q is missing; SLO %q groups by %s", g, s.Name, strings.Join(s.GroupBy, ", "))}
		}
		if v == "" {
			return &LineError{Field: fmt.Sprintf("labels[%q]", g), Msg: fmt.Sprintf("empty; SLO %q groups by it, so it needs a value", s.Name)}
		}
	}
	return nil
}

// decodeError turns a JSON decoding error into a LineError naming the field.
func decodeError(err error) *LineError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return &LineError{Msg: fmt.Sprintf("a JSON %s where an event object belongs", typeErr.Value)}
		}
		if n, ok := strings.CutPrefix(typeErr.Value, "number "); ok && jsonKind(typeErr.Type) == "number" {
			return &LineError{Field: typeErr.Field, Msg: fmt.Sprintf("%s is out of range; a count is at most %s", n, formatCount(MaxEventCount))}
		}
		return &LineError{Field: typeErr.Field, Msg: fmt.Sprintf("a JSON %s where a %s belongs", typeErr.Value, jsonKind(typeErr.Type))}
	case errors.As(err, &syntaxErr):
		return &LineError{Msg: "not JSON: " + syntaxErr.Error()}
	// encoding/json has no error type for an unknown field, only this text.
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return &LineError{Field: strings.Trim(name, `"`), Msg: "unknown field; an event has time, slo, labels, total and errors"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &LineError{Msg: "not JSON: the line ends inside a value"}
	}
	return &LineError{Msg: "not JSON: " + err.Error()}
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float64:
		return "number"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}

// formatCount writes a count as short as it reads: 3, 0.5, -1.
func formatCount(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// acceptedBatch is the body of a 202 from POST /api/v1/events.
type acceptedBatch struct {
	Accepted int   `json:"accepted"`
	Batch    int64 `json:"batch"`
}

// pushEvents is POST /api/v1/events: authenticate, read at most MaxBody,
// validate the whole batch, make it durable, and only then answer 202.
func (a *apiServer) pushEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	want, err := a.eventsToken()
	if err != nil {
		// The error says why the token file is unusable; it is logged for
		// the operator, and the client only learns that pushing is off.
		a.log.LogAttrs(ctx, slog.LevelError, "events endpoint has no usable token", slog.Any("err", err))
		respondError(w, http.StatusServiceUnavailable, "the events endpoint has no usable token configured; see the server's log")
		return
	}
	// A basic-auth user of the web configuration file, or a client
	// certificate it verified, stands for the token: with basic auth on,
	// every request carries it, and none could carry a bearer token too.
	if !bearerMatches(r.Header.Get("Authorization"), want) && !authenticatedByListener(ctx) {
		a.reject(ctx, RejectUnauthorized, nil)
		w.Header().Set("WWW-Authenticate", `Bearer realm="burnwatch"`)
		respondError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}

	// NDJSON, or a client that says nothing; never a form's types.
	if !requireContentType(w, r, true, "application/x-ndjson", "application/json") {
		a.reject(ctx, RejectInvalid, errors.New("Content-Type "+r.Header.Get("Content-Type")))
		return
	}
	key, err := idempotencyKey(r.Header)
	if err != nil {
		a.reject(ctx, RejectInvalid, err)
		respondError(w, http.StatusBadRequest, "%s", err.Error())
		return
	}
	if r.ContentLength > a.o.MaxBody {
		a.tooLarge(w, r)
		return
	}
	body, err := readBody(w, r, a.o.MaxBody)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.tooLarge(w, r)
			return
		}
		a.reject(ctx, RejectInvalid, err)
		respondError(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}

	now := a.o.Now()
	cfg := a.o.Config()
	if cfg == nil {
		respondError(w, http.StatusServiceUnavailable, "no config is loaded yet")
		return
	}
	if key != "" {
		// A batch sent again gets its first answer, even if it would not
		// validate now (its minutes aged out of the window since).
		if kb, ok, err := a.o.Batches.BatchByKey(ctx, now.UnixMilli(), key, body); ok || err != nil {
			a.answerKeyed(ctx, w, kb, err)
			return
		}
	}
	events, err := ParseEvents(body, cfg, now)
	if err != nil {
		if le, ok := errors.AsType[*LineError](err); ok && le.limit != "" {
			a.o.Metrics.dropped(le.limit, 1)
		}
		a.reject(ctx, RejectInvalid, err)
		respondError(w, http.StatusBadRequest, "%s", err.Error())
		return
	}

	var id int64
	if key == "" {
		id, err = a.o.Batches.AppendBatch(ctx, now.UnixMilli(), body)
	} else {
		var kb store.KeyedBatch
		kb, err = a.o.Batches.AppendKeyedBatch(ctx, now.UnixMilli(), body, key, len(events))
		if err == nil && kb.Duplicate || errors.Is(err, store.ErrKeyReused) {
			a.answerKeyed(ctx, w, kb, err) // sent twice at once: the other request stored it
			return
		}
		id = kb.ID
	}
	if err != nil {
		a.reject(ctx, RejectStoreError, err)
		respondError(w, http.StatusServiceUnavailable, "the batch could not be stored, and nothing of it was kept; send it again later")
		return
	}
	a.o.Metrics.accepted(len(events))
	a.log.LogAttrs(ctx, slog.LevelDebug, "event batch stored",
		slog.Int64("batch", id), slog.Int("events", len(events)), slog.Int("bytes", len(body)))
	respondJSON(w, http.StatusAccepted, acceptedBatch{Accepted: len(events), Batch: id})
}

// eventsToken returns the bearer token, treating an empty one as missing, so
// that an empty token file can never mean "no authentication".
func (a *apiServer) eventsToken() (string, error) {
	if a.o.EventsToken == nil {
		return "", errors.New("no events token is configured")
	}
	tok, err := a.o.EventsToken()
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", errors.New("the events token is empty")
	}
	return tok, nil
}

func (a *apiServer) tooLarge(w http.ResponseWriter, r *http.Request) {
	a.reject(r.Context(), RejectTooLarge, nil)
	// The rest of the body is not read; closing the connection keeps a
	// client from streaming it into a server that has stopped listening.
	w.Header().Set("Connection", "close")
	respondError(w, http.StatusRequestEntityTooLarge, "the body is larger than %d bytes; send smaller batches", a.o.MaxBody)
}

// reject counts and logs a refused batch. err is the client's mistake or the
// store's failure; it never holds the token.
func (a *apiServer) reject(ctx context.Context, reason RejectReason, err error) {
	a.o.Metrics.rejected(reason)
	level := slog.LevelInfo
	if reason == RejectStoreError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("reason", reason.String())}
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
	}
	a.log.LogAttrs(ctx, level, "event batch rejected", attrs...)
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}
