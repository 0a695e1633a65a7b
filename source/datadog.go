package source

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
	"github.com/prometheus/prometheus/model/labels"
)

// The Datadog source reads SLO counters through Datadog's metrics query
// API, GET /api/v1/query (datadogV1.MetricsApi.QueryMetrics). Of the two
// query endpoints it is the one whose answer maps onto burnwatch's samples
// directly: it takes the classic query string as written
// (`sum:m{f} by {g}.as_count().rollup(sum, 60)`), and answers with one
// object per series carrying that series' tags (scope, tag_set) and its
// points as [ms, value] pairs. The v2 timeseries endpoint, which Datadog
// now recommends, answers in columns (one shared time axis, a values array
// per series, group tags per series); it holds the same data, and switching
// would change only query and the conversion in add.
//
// Datadog returns counts per rollup interval, not counters. A series'
// counts c1, c2, … of the buckets starting at t1, t2, … become a counter
// that starts at 0 at the series' first bucket and grows by each count at
// the end of its bucket:
//
//	(t1, 0), (t1+60s, c1), (t2+60s, c1+c2), …
//
// Downstream deltas, with Prometheus's reset rule and a series' first
// sample as its baseline, recover exactly c1, c2, …, each dated when its
// minute is complete. A bucket belongs to the range (from, to] that holds
// its end, so consecutive ranges never count a bucket twice; when t1 is
// not after from, the baseline 0 moves to just after from, so that every
// sample lies in the range.

const (
	// datadogRollup is the bucket every query asks for: burnwatch keeps
	// counts per minute.
	datadogRollup = time.Minute
	// datadogBackoff is the wait before the first retry of a 5xx, or of a
	// request that got no answer; it doubles with each retry.
	datadogBackoff = time.Second
	// datadogMaxBackoff caps the doubling, so that a long outage is
	// polled at least once a minute.
	datadogMaxBackoff = time.Minute
	// datadogMaxReset caps the wait a 429's X-RateLimit-Reset asks for:
	// Datadog's rate-limit periods are at most an hour, and a bogus header
	// must not park the source for a day.
	datadogMaxReset = time.Hour
	// datadogMaxChunk bounds the span of one query: 1440 one-minute
	// points per series. Datadog coarsens the rollup of a query that would
	// return too many points, which add refuses.
	datadogMaxChunk = 24 * time.Hour
	// datadogOperation names QueryMetrics in the client's server tables.
	datadogOperation = "v1.MetricsApi.QueryMetrics"
)

// DatadogConfig configures the Datadog source. Decode into
// DefaultDatadogConfig(), then Validate.
type DatadogConfig struct {
	// Site is the Datadog site: datadoghq.com, datadoghq.eu,
	// us3.datadoghq.com, ddog-gov.com, …; the API is at https://api.<site>.
	// The web app's host (app.datadoghq.com) is accepted for its site.
	Site string `yaml:"site"`
	// Endpoint, when set, replaces the site with a base URL such as
	// http://127.0.0.1:8080 or https://dd-proxy.internal: a proxy, a
	// private link, or a test server.
	Endpoint string `yaml:"endpoint"`
	// APIKeyFile and AppKeyFile are files holding the API and application
	// keys; when empty, the keys come from DD_API_KEY and DD_APP_KEY.
	// Surrounding white space is trimmed and an empty key is an error.
	APIKeyFile string `yaml:"api_key_file"`
	AppKeyFile string `yaml:"app_key_file"`
	// Timeout bounds each HTTP request.
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how often a request is tried again after a 429, a 5xx or
	// no answer at all; 0 tries once.
	Retries int `yaml:"retries"`
	// Chunk is the span of time one query reads: a whole number of
	// minutes, at most 24h.
	Chunk time.Duration `yaml:"chunk"`
}

// DefaultDatadogConfig returns the defaults: site datadoghq.com, 30s
// timeout, 3 retries, 1h chunks.
func DefaultDatadogConfig() DatadogConfig {
	return DatadogConfig{Site: "datadoghq.com", Timeout: 30 * time.Second, Retries: 3, Chunk: time.Hour}
}

// Validate returns every problem of the config, each naming its field.
func (c DatadogConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("datadog: %s: "+format, append([]any{field}, args...)...))
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil:
			bad("endpoint", "%q is not a URL", c.Endpoint)
		case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
			bad("endpoint", "%q is not a base URL such as https://api.datadoghq.com", c.Endpoint)
		case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			bad("endpoint", "%q must have no query, fragment or user", c.Endpoint)
		}
	} else if c.Site == "" || strings.ContainsAny(c.Site, "/: ") {
		bad("site", "%q is not a Datadog site such as datadoghq.com or datadoghq.eu", c.Site)
	}
	if c.Timeout <= 0 {
		bad("timeout", "%v must be positive, such as 30s", c.Timeout)
	}
	if c.Retries < 0 {
		bad("retries", "%d must be 0 or more", c.Retries)
	}
	if c.Chunk < datadogRollup || c.Chunk > datadogMaxChunk || c.Chunk%datadogRollup != 0 {
		bad("chunk", "%v must be a whole number of minutes from 1m to 24h, such as 1h", c.Chunk)
	}
	return errors.Join(errs...)
}

// Datadog reads SLO counters from Datadog's metrics query API.
type Datadog struct {
	// Log receives a line for every retried request; nil is slog.Default().
	// Set it before use.
	Log *slog.Logger

	api            *datadogV1.MetricsApi
	apiKey, appKey string
	server         int               // index into the client's server table
	vars           map[string]string // that server's variables
	where          string            // the site or endpoint, for messages
	retries        int
	chunk          time.Duration
	// sleep waits d or until ctx ends; tests replace it to not wait.
	sleep func(ctx context.Context, d time.Duration) error
}

// NewDatadog returns a source for cfg, reading its keys.
func NewDatadog(cfg DatadogConfig) (*Datadog, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Datadog{retries: cfg.Retries, chunk: cfg.Chunk, sleep: datadogSleep}
	var err error
	if d.apiKey, err = datadogKey("api_key_file", cfg.APIKeyFile, "DD_API_KEY"); err != nil {
		return nil, err
	}
	if d.appKey, err = datadogKey("app_key_file", cfg.AppKeyFile, "DD_APP_KEY"); err != nil {
		return nil, err
	}
	// The client's server table (datadog.NewConfiguration): 1 is
	// "{protocol}://{name}", 2 is "https://{subdomain}.{site}" for any
	// site (0 is the same URL but checks the site against a list).
	if cfg.Endpoint != "" {
		u, _ := url.Parse(cfg.Endpoint)
		d.server = 1
		d.vars = map[string]string{"protocol": u.Scheme, "name": u.Host + strings.TrimSuffix(u.Path, "/")}
		d.where = cfg.Endpoint
	} else {
		site := strings.TrimPrefix(strings.TrimPrefix(cfg.Site, "app."), "api.")
		d.server = 2
		d.vars = map[string]string{"site": site, "subdomain": "api"}
		d.where = site
	}
	c := datadog.NewConfiguration()
	c.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	// Retries are done here, where 429 and 5xx are told apart and logged;
	// the client's own stay off. BackOffBase only silences the warning
	// NewAPIClient logs for a base under 2.
	c.RetryConfiguration.EnableRetry = false
	c.RetryConfiguration.BackOffBase = 2
	d.api = datadogV1.NewMetricsApi(datadog.NewAPIClient(c))
	return d, nil
}

// datadogKey reads a key from the file at path, or else from the environment
// variable env. A key never appears in an error.
func datadogKey(field, path, env string) (string, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("datadog: %s: %w", field, err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", fmt.Errorf("datadog: %s: %s holds no key", field, path)
		}
		return key, nil
	}
	key := strings.TrimSpace(os.Getenv(env))
	if key == "" {
		return "", fmt.Errorf("datadog: no key: set %s or the environment variable %s", field, env)
	}
	return key, nil
}

// String names the source without its keys.
func (d *Datadog) String() string { return "datadog(" + d.where + ")" }

// GoString is String, so that %#v shows no key either.
func (d *Datadog) GoString() string { return d.String() }

// LogValue is String, so that a logged source shows no key.
func (d *Datadog) LogValue() slog.Value { return slog.StringValue(d.String()) }

func (d *Datadog) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// authorize adds the keys and the server to a request's context, which is
// how the client takes them.
func (d *Datadog) authorize(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, datadog.ContextAPIKeys, map[string]datadog.APIKey{
		"apiKeyAuth": {Key: d.apiKey},
		"appKeyAuth": {Key: d.appKey},
	})
	ctx = context.WithValue(ctx, datadog.ContextServerIndex, d.server)
	return context.WithValue(ctx, datadog.ContextServerVariables, d.vars)
}

// redact hides the keys in text that came from elsewhere, such as an error
// body.
func (d *Datadog) redact(s string) string {
	for _, k := range []string{d.apiKey, d.appKey} {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// DatadogQuery builds the query of one SLO counter: the sum per group of
// the metric's counts per minute,
//
//	sum:<metric>{<k>:<v>,…} by {<by>,…}.as_count().rollup(sum, 60)
//
// with the filter in key order ({*} when empty). by names the SLO's
// group_by tags and its code label. Values are written as given: Datadog
// tags hold no comma, brace or space.
func DatadogQuery(metric string, filter map[string]string, by []string) string {
	var b strings.Builder
	b.WriteString("sum:")
	b.WriteString(metric)
	b.WriteByte('{')
	if len(filter) == 0 {
		b.WriteByte('*')
	}
	for i, k := range slices.Sorted(maps.Keys(filter)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + ":" + filter[k])
	}
	b.WriteByte('}')
	if len(by) > 0 {
		b.WriteString(" by {" + strings.Join(by, ",") + "}")
	}
	fmt.Fprintf(&b, ".as_count().rollup(sum, %d)", int(datadogRollup/time.Second))
	return b.String()
}

// Samples reads the queries over (from, to], a chunk at a time, and returns
// their series as counters (see the conversion above), grouped by series
// and each in time order, series in label order.
//
// A series' samples can only be grouped once every chunk is read, so the
// whole range is held: 16 bytes per point, at most
// 16 × series × (1 + (to−from)/1m) bytes plus the labels; a range of a
// day is 23 KB per series. Callers bound it by the range they ask for;
// each sample is released as the iterator passes its series.
//
// Every sample lies in (from, to]. Every call starts each series' counter
// at 0 again, with a baseline sample of 0 before its first count; to a
// reader that carries the series over from the call before, that is a
// counter reset whose delta, the new value 0, is exact.
func (d *Datadog) Samples(ctx context.Context, queries []string, from, to time.Time) *DatadogSamples {
	s := &DatadogSamples{si: -1}
	if !to.After(from) {
		s.err = fmt.Errorf("datadog: reading (%s, %s]: the range is empty", datadogTime(from), datadogTime(to))
		return s
	}
	set := datadogSet{from: from.UnixMilli(), byKey: map[string]*datadogSeries{}}
	for qi, q := range queries {
		if slices.Contains(queries[:qi], q) {
			continue // asked twice, read once
		}
		for a := from; a.Before(to); a = a.Add(d.chunk) {
			b := a.Add(d.chunk)
			if b.After(to) {
				b = to
			}
			resp, err := d.query(ctx, q, a, b)
			if err == nil {
				err = set.add(qi, q, resp, a, b)
			}
			if err != nil {
				s.err = err
				return s
			}
		}
	}
	for _, ser := range set.byKey {
		if len(ser.pts) > 0 {
			s.series = append(s.series, ser)
		}
	}
	slices.SortFunc(s.series, func(a, b *datadogSeries) int { return labels.Compare(a.lset, b.lset) })
	return s
}

// query reads one chunk (a, b] of one query, retrying as Datadog asks.
func (d *Datadog) query(ctx context.Context, q string, a, b time.Time) (datadogV1.MetricsQueryResponse, error) {
	// The bucket that ends just after a starts up to a minute before it.
	fromSec := a.Add(-datadogRollup).Unix()
	toSec := b.Unix()
	if b.After(time.Unix(toSec, 0)) {
		toSec++
	}
	what := fmt.Sprintf("datadog: querying %q over (%s, %s]", q, datadogTime(a), datadogTime(b))
	actx := d.authorize(ctx)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return datadogV1.MetricsQueryResponse{}, fmt.Errorf("%s: %w", what, err)
		}
		resp, hr, err := d.api.QueryMetrics(actx, fromSec, toSec, q)
		if err == nil {
			if st := resp.GetStatus(); st != "" && st != "ok" {
				return resp, fmt.Errorf("%s: status %q: %s", what, st, d.redact(resp.GetError()))
			}
			if resp.UnparsedObject != nil {
				return resp, fmt.Errorf("%s: the answer is not a query response", what)
			}
			return resp, nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return resp, fmt.Errorf("%s: %w", what, cerr)
		}
		var (
			wait time.Duration
			oe   datadog.GenericOpenAPIError
		)
		switch {
		case hr == nil && errors.As(err, &oe):
			// The client refused to build the request.
			return resp, fmt.Errorf("%s: %w", what, err)
		case hr == nil:
			// No answer: refused, reset, timed out.
			wait = datadogRetryWait(attempt)
			if attempt >= d.retries {
				return resp, fmt.Errorf("%s: giving up after %d attempts: %w", what, attempt+1, err)
			}
		case hr.StatusCode < 300:
			return resp, fmt.Errorf("%s: reading the answer: %s", what, d.redact(err.Error()))
		case hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode >= 500:
			wait = datadogRetryWait(attempt)
			if hr.StatusCode == http.StatusTooManyRequests {
				if reset, ok := datadogResetWait(hr.Header.Get("X-RateLimit-Reset")); ok {
					wait = reset
				}
			}
			if attempt >= d.retries {
				return resp, fmt.Errorf("%s: %s after %d attempts: %s", what, hr.Status, attempt+1, d.errorText(err))
			}
		default:
			return resp, fmt.Errorf("%s: %s: %s", what, hr.Status, d.errorText(err))
		}
		status := "no answer"
		if hr != nil {
			status = hr.Status
		}
		d.log().Warn("datadog query failed; retrying", "query", q, "status", status,
			"error", d.redact(err.Error()), "attempt", attempt+1, "wait", wait)
		if err := d.sleep(ctx, wait); err != nil {
			return resp, fmt.Errorf("%s: %w", what, err)
		}
	}
}

// errorText is Datadog's explanation of a failed request: the messages of
// its {"errors": […]} body, or else the start of the body.
func (d *Datadog) errorText(err error) string {
	var oe datadog.GenericOpenAPIError
	if !errors.As(err, &oe) {
		return d.redact(err.Error())
	}
	var body struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(oe.Body(), &body) == nil && len(body.Errors) > 0 {
		return d.redact(strings.Join(body.Errors, "; "))
	}
	text := strings.TrimSpace(string(oe.Body()))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		text = "no explanation"
	}
	return d.redact(strconv.Quote(text))
}

// datadogRetryWait is the wait before retry n+1: 1s, 2s, 4s, … up to a minute.
func datadogRetryWait(n int) time.Duration {
	if n >= 6 {
		return datadogMaxBackoff
	}
	return min(datadogBackoff<<n, datadogMaxBackoff)
}

// datadogResetWait reads X-RateLimit-Reset, the seconds until the limit
// resets. The header is whole seconds, so "0" may mean half a second: the
// wait is at least a second.
func datadogResetWait(h string) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	n = min(max(n, 1), int64(datadogMaxReset/time.Second))
	return time.Duration(n) * time.Second, true
}

func datadogSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func datadogTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// datadogSeries is one series being read: its counter so far.
type datadogSeries struct {
	lset  labels.Labels
	query int
	sum   float64
	pts   []datadogPoint
}

type datadogPoint struct {
	t int64 // ms
	v float64
}

// datadogSet is the series of a range being read, by their labels.
type datadogSet struct {
	from  int64 // the range's start, ms
	byKey map[string]*datadogSeries
}

// add takes the answer of query qi over the chunk (a, b]: every non-null
// count of a bucket that ends in the chunk adds to its series' counter.
func (set *datadogSet) add(qi int, q string, resp datadogV1.MetricsQueryResponse, a, b time.Time) error {
	aMs, bMs := a.UnixMilli(), b.UnixMilli()
	inChunk := map[*datadogSeries]bool{}
	for _, m := range resp.Series {
		if m.UnparsedObject != nil {
			return fmt.Errorf("datadog: query %q: a series of the answer is not a series", q)
		}
		lset := datadogLabels(m, q)
		iv, err := datadogInterval(m)
		if err != nil {
			return fmt.Errorf("datadog: query %q: series %s: %w", q, lset, err)
		}
		key := lset.String()
		s := set.byKey[key]
		switch {
		case s == nil:
			s = &datadogSeries{lset: lset, query: qi}
			set.byKey[key] = s
		case s.query != qi:
			return fmt.Errorf("datadog: queries %d and %d both return series %s; they must differ in metric or tags", s.query+1, qi+1, lset)
		case inChunk[s]:
			return fmt.Errorf("datadog: query %q: two series map to %s", q, lset)
		}
		inChunk[s] = true
		pts := slices.Clone(m.Pointlist)
		slices.SortFunc(pts, func(x, y []*float64) int { return cmp.Compare(datadogPointTime(x), datadogPointTime(y)) })
		for _, p := range pts {
			if len(p) < 2 || p[0] == nil || p[1] == nil {
				continue // a bucket without data
			}
			start := int64(*p[0])
			end := start + iv
			if end <= aMs || end > bMs {
				continue // another chunk's bucket
			}
			v := *p[1]
			if v < 0 || math.IsNaN(v) {
				return fmt.Errorf("datadog: query %q: series %s: count %v for the minute from %s; a count is never negative (is the metric a count?)",
					q, lset, v, datadogTime(time.UnixMilli(start)))
			}
			if len(s.pts) == 0 {
				// The baseline, at the bucket's start, or just after the
				// range's when that is later, so that every sample lies in
				// the range. (There is no room only when the range starts
				// 1ms before the bucket ends.)
				bt := max(start, set.from+1)
				if bt >= end {
					bt = start
				}
				s.pts = append(s.pts, datadogPoint{bt, 0})
			} else if end <= s.pts[len(s.pts)-1].t {
				continue
			}
			s.sum += v
			s.pts = append(s.pts, datadogPoint{end, s.sum})
		}
	}
	return nil
}

func datadogPointTime(p []*float64) float64 {
	if len(p) == 0 || p[0] == nil {
		return math.Inf(-1)
	}
	return *p[0]
}

// datadogInterval returns a series' bucket in milliseconds. The API
// reference calls `interval` milliseconds and its examples show seconds
// (60), so both are read; any other bucket than the minute asked for
// means Datadog coarsened the rollup, and counts would be dated wrong.
func datadogInterval(m datadogV1.MetricsQueryMetadata) (int64, error) {
	want := datadogRollup.Milliseconds()
	iv, ok := m.GetIntervalOk()
	if !ok || *iv == want || *iv == want/1000 {
		return want, nil
	}
	return 0, fmt.Errorf("the answer's interval is %d, not the %v rollup asked for; use a smaller chunk", *iv, datadogRollup)
}

// datadogLabels returns the labels of a series: each of its tags, those of
// the filter (from scope) and of the group (from tag_set), as a label
// ("database:db-1" is database="db-1"), and __name__, the metric's name
// with its dots as underscores (neo4j.query.errors is neo4j_query_errors).
// Characters a label name cannot hold become "_"; tags without a value and
// negated or wildcard filters are left out.
func datadogLabels(m datadogV1.MetricsQueryMetadata, q string) labels.Labels {
	lm := map[string]string{}
	addTag := func(tag string) {
		tag = strings.TrimSpace(tag)
		if tag == "" || strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "-") || strings.ContainsAny(tag, "* ()") {
			return
		}
		k, v, ok := strings.Cut(tag, ":")
		if !ok || k == "" {
			return
		}
		lm[datadogPromName(k, false)] = v
	}
	for tag := range strings.SplitSeq(m.GetScope(), ",") {
		addTag(tag)
	}
	for _, tag := range m.GetTagSet() {
		addTag(tag)
	}
	metric := m.GetMetric()
	if metric == "" {
		// sum:<metric>{…}
		_, rest, _ := strings.Cut(q, ":")
		metric, _, _ = strings.Cut(rest, "{")
	}
	lm[labels.MetricName] = datadogPromName(strings.TrimSpace(metric), true)
	return labels.FromMap(lm)
}

// datadogPromName makes a Datadog metric name or tag key a Prometheus metric or
// label name: characters other than [a-zA-Z0-9_] (and ':' in a metric
// name) become '_', and a leading digit gets a '_' before it.
func datadogPromName(s string, metric bool) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= '0' && c <= '9' || metric && c == ':') {
			b[i] = '_'
		}
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		return "_" + string(b)
	}
	return string(b)
}

// DatadogSamples iterates over the counter samples Samples read, grouped by
// series; it implements ingest.Samples.
type DatadogSamples struct {
	series    []*datadogSeries
	si, pi    int
	newSeries bool
	err       error
}

// Next advances to the next sample; false at the end or when the read
// failed, which Err returns.
func (s *DatadogSamples) Next() bool {
	if s.err != nil {
		return false
	}
	if s.si >= 0 && s.si < len(s.series) && s.pi+1 < len(s.series[s.si].pts) {
		s.pi++
		s.newSeries = false
		return true
	}
	if s.si >= 0 && s.si < len(s.series) {
		s.series[s.si].pts = nil // passed: let it go
	}
	if s.si+1 >= len(s.series) {
		s.si = len(s.series)
		return false
	}
	s.si++
	s.pi = 0
	s.newSeries = true
	return true
}

// NewSeries reports whether the sample starts another series.
func (s *DatadogSamples) NewSeries() bool { return s.newSeries }

// Labels returns the current series' labels.
func (s *DatadogSamples) Labels() labels.Labels { return s.series[s.si].lset }

// At returns the current sample's time in milliseconds and its value.
func (s *DatadogSamples) At() (int64, float64) {
	p := s.series[s.si].pts[s.pi]
	return p.t, p.v
}

// Err returns the error that stopped the read, if any.
func (s *DatadogSamples) Err() error { return s.err }

// Errorf returns an error located at the current sample: its series and
// time.
func (s *DatadogSamples) Errorf(format string, args ...any) error {
	ts, _ := s.At()
	return fmt.Errorf("datadog series %s at %s: "+format,
		append([]any{s.Labels(), datadogTime(time.UnixMilli(ts))}, args...)...)
}
