package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
)

// Keys shaped like Datadog's: 32 and 40 hex digits.
const (
	ddAPIKey = "5f1e0c2a9b8d7e6f5a4b3c2d1e0f9a8b"
	ddAppKey = "c0ffee00deadbeef0123456789abcdef01234567"
)

// ddT0 is 2026-11-05T00:00:00Z, where the fixtures start.
var ddT0 = time.Unix(1793836800, 0).UTC()

const ddQuery = "sum:neo4j.query.errors{orchestra:eu-1} by {database,code}.as_count().rollup(sum, 60)"

// fakeDatadog is Datadog's GET /api/v1/query: it checks each request as
// the API reference describes it (from and to in seconds, query, and the
// keys in DD-API-KEY and DD-APPLICATION-KEY) and lets answer write the
// response.
type fakeDatadog struct {
	t        *testing.T
	requests atomic.Int32
	// answer writes the response to request n (from 1).
	answer func(w http.ResponseWriter, n int, from, to int64, query string)
}

func (f *fakeDatadog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.requests.Add(1))
	if r.Method != http.MethodGet || r.URL.Path != "/api/v1/query" {
		f.t.Errorf("request %d: %s %s, want GET /api/v1/query", n, r.Method, r.URL.Path)
		http.Error(w, `{"errors":["Not found"]}`, http.StatusNotFound)
		return
	}
	if got := r.Header.Get("DD-API-KEY"); got != ddAPIKey {
		f.t.Errorf("request %d: DD-API-KEY is not the (trimmed) API key: %q", n, got)
	}
	if got := r.Header.Get("DD-APPLICATION-KEY"); got != ddAppKey {
		f.t.Errorf("request %d: DD-APPLICATION-KEY is not the (trimmed) application key: %q", n, got)
	}
	q := r.URL.Query()
	from, err1 := strconv.ParseInt(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseInt(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil || from >= to || from < 1e9 || to > 1e10 {
		f.t.Errorf("request %d: from=%q to=%q, want seconds since the epoch, from before to", n, q.Get("from"), q.Get("to"))
	}
	if q.Get("query") == "" {
		f.t.Errorf("request %d: no query", n)
	}
	f.answer(w, n, from, to, q.Get("query"))
}

// ddReply writes a JSON response.
func ddReply(w http.ResponseWriter, status int, body []byte, header ...string) {
	for i := 0; i+1 < len(header); i += 2 {
		w.Header().Set(header[i], header[i+1])
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// ddFixture reads a response from testdata/datadog. Handlers call it on the
// server's goroutines, so it fails the test with Errorf.
func ddFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "datadog", name))
	if err != nil {
		t.Errorf("fixture: %v", err)
	}
	return b
}

// newTestDatadog starts f on 127.0.0.1 and returns a source pointed at it,
// its keys read from files with white space around them, and the waits
// it asked for instead of sleeping.
func newTestDatadog(t *testing.T, f *fakeDatadog, edit func(*DatadogConfig)) (*Datadog, *[]time.Duration) {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	cfg := DefaultDatadogConfig()
	cfg.Endpoint = srv.URL
	cfg.APIKeyFile = filepath.Join(dir, "api_key")
	cfg.AppKeyFile = filepath.Join(dir, "app_key")
	for path, key := range map[string]string{cfg.APIKeyFile: ddAPIKey, cfg.AppKeyFile: ddAppKey} {
		if err := os.WriteFile(path, []byte("  "+key+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(&cfg)
	}
	d, err := NewDatadog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.Log = slog.New(slog.DiscardHandler)
	var waits []time.Duration
	d.sleep = func(ctx context.Context, w time.Duration) error {
		waits = append(waits, w)
		return ctx.Err()
	}
	return d, &waits
}

type ddSample struct {
	series string
	ts     int64
	v      float64
	new    bool
}

// readDatadog reads the samples of (from, to], checking that they lie in it.
func readDatadog(t *testing.T, d *Datadog, ctx context.Context, queries []string, from, to time.Time) ([]ddSample, error) {
	t.Helper()
	s := d.Samples(ctx, queries, from, to)
	var got []ddSample
	for s.Next() {
		ts, v := s.At()
		if ts <= from.UnixMilli() || ts > to.UnixMilli() {
			t.Errorf("sample %s %d %v outside (%d, %d]", s.Labels(), ts, v, from.UnixMilli(), to.UnixMilli())
		}
		got = append(got, ddSample{s.Labels().String(), ts, v, s.NewSeries()})
	}
	return got, s.Err()
}

func ddMs(t time.Time) int64 { return t.UnixMilli() }

func TestDatadogReadsCountsAsCounters(t *testing.T) {
	f := &fakeDatadog{answer: func(w http.ResponseWriter, n int, from, to int64, query string) {
		// (ddT0, ddT0+4m] asks from a minute early, for the bucket ending just after ddT0.
		if from != ddT0.Unix()-60 || to != ddT0.Unix()+240 || query != ddQuery {
			t.Errorf("from=%d to=%d query=%q", from, to, query)
		}
		ddReply(w, http.StatusOK, ddFixture(t, "query.json"))
	}}
	d, waits := newTestDatadog(t, f, nil)
	got, err := readDatadog(t, d, context.Background(), []string{ddQuery}, ddT0, ddT0.Add(4*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	db := func(n int) string {
		return fmt.Sprintf(`{__name__="neo4j_query_errors", code="neo.transienterror.general.databaseunavailable", database="db-%d", orchestra="eu-1"}`, n)
	}
	m := func(i int) int64 { return ddMs(ddT0.Add(time.Duration(i) * time.Minute)) }
	// db-1 counts 2, null, 3, 0 in the minutes from ddT0; the minute before
	// ddT0 and the one ending after ddT0+4m belong to other ranges. db-2
	// counts 1, 4 from ddT0+1m.
	want := []ddSample{
		{db(1), m(0) + 1, 0, true}, // the bucket starts at ddT0, outside (ddT0, …]
		{db(1), m(1), 2, false},
		{db(1), m(3), 5, false},
		{db(1), m(4), 5, false},
		{db(2), m(1), 0, true},
		{db(2), m(2), 1, false},
		{db(2), m(3), 5, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%v\nwant\n%v", got, want)
	}
	if f.requests.Load() != 1 || len(*waits) != 0 {
		t.Errorf("%d requests, waits %v; want 1 request, no wait", f.requests.Load(), *waits)
	}
}

// ddTruth is what a synthetic Datadog holds: counts per minute from ddT0 for
// two series, db-2 appearing at minute 50; nil is a minute without data.
func ddTruth(db, minute int) *float64 {
	if minute < 0 || minute >= 240 || db == 2 && minute < 50 || minute%13 == 5 {
		return nil
	}
	v := float64((minute*7 + db) % 5)
	return &v
}

// ddSynthetic answers any range from ddTruth, with every bucket that starts
// in [from, to], edges included, as a server might.
func ddSynthetic(w http.ResponseWriter, _ int, from, to int64, _ string) {
	type series struct {
		Metric    string        `json:"metric"`
		Scope     string        `json:"scope"`
		TagSet    []string      `json:"tag_set"`
		Interval  int           `json:"interval"`
		Pointlist [][2]*float64 `json:"pointlist"`
	}
	resp := struct {
		Status  string   `json:"status"`
		ResType string   `json:"res_type"`
		Series  []series `json:"series"`
	}{Status: "ok", ResType: "time_series"}
	for db := 1; db <= 2; db++ {
		s := series{Metric: "neo4j.queries", Scope: fmt.Sprintf("database:db-%d", db), TagSet: []string{fmt.Sprintf("database:db-%d", db)}, Interval: 60}
		for start := (from + 59) / 60 * 60; start <= to; start += 60 {
			minute := int((start - ddT0.Unix()) / 60)
			if minute < 0 || minute >= 240 || db == 2 && minute < 50 {
				continue
			}
			ts := float64(start * 1000)
			s.Pointlist = append(s.Pointlist, [2]*float64{&ts, ddTruth(db, minute)})
		}
		if len(s.Pointlist) > 0 {
			resp.Series = append(resp.Series, s)
		}
	}
	b, _ := json.Marshal(resp)
	ddReply(w, http.StatusOK, b)
}

// ddCounts turns counter samples back into counts per series and minute end
// the way ingest does: a series' first sample is a baseline, a lower value
// is a reset. last carries the counters from one read to the next.
func ddCounts(t *testing.T, got []ddSample, last map[string]ddSample, into map[string]float64) {
	t.Helper()
	for _, s := range got {
		prev, seen := last[s.series]
		switch {
		case seen && s.ts < prev.ts:
			t.Errorf("%s: sample at %d after one at %d", s.series, s.ts, prev.ts)
		case !seen:
		case s.v < prev.v:
			into[fmt.Sprintf("%s@%d", s.series, s.ts)] += s.v
		default:
			into[fmt.Sprintf("%s@%d", s.series, s.ts)] += s.v - prev.v
		}
		last[s.series] = s
	}
	for k, v := range into {
		if v == 0 {
			delete(into, k)
		}
	}
}

func TestDatadogChunksJoinSeamlessly(t *testing.T) {
	// (ddT0+30s, ddT0+100m30s]: the buckets that end in it are minutes 0..99.
	from, to := ddT0.Add(30*time.Second), ddT0.Add(100*time.Minute+30*time.Second)
	want := map[string]float64{}
	for db := 1; db <= 2; db++ {
		for minute := range 100 {
			if v := ddTruth(db, minute); v != nil && *v != 0 {
				want[fmt.Sprintf(`{__name__="neo4j_queries", database="db-%d"}@%d`, db, ddMs(ddT0.Add(time.Duration(minute+1)*time.Minute)))] = *v
			}
		}
	}
	read := func(chunk time.Duration) ([]ddSample, int) {
		f := &fakeDatadog{answer: ddSynthetic}
		d, _ := newTestDatadog(t, f, func(c *DatadogConfig) { c.Chunk = chunk })
		got, err := readDatadog(t, d, context.Background(), []string{"sum:neo4j.queries{*} by {database}.as_count().rollup(sum, 60)"}, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return got, int(f.requests.Load())
	}
	whole, n := read(24 * time.Hour)
	if n != 1 {
		t.Errorf("one chunk took %d requests", n)
	}
	got := map[string]float64{}
	ddCounts(t, whole, map[string]ddSample{}, got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts recovered from one chunk:\n%v\nwant\n%v", got, want)
	}
	for _, chunk := range []time.Duration{time.Minute, 7 * time.Minute, time.Hour} {
		t.Run("in chunks of "+chunk.String()+" reads the same samples", func(t *testing.T) {
			chunked, n := read(chunk)
			if wantN := int((to.Sub(from) + chunk - 1) / chunk); n != wantN {
				t.Errorf("%d requests, want %d", n, wantN)
			}
			if !reflect.DeepEqual(chunked, whole) {
				t.Errorf("got\n%v\nwant\n%v", chunked, whole)
			}
		})
	}
	t.Run("consecutive reads count every minute once", func(t *testing.T) {
		f := &fakeDatadog{answer: ddSynthetic}
		d, _ := newTestDatadog(t, f, func(c *DatadogConfig) { c.Chunk = 7 * time.Minute })
		got, last := map[string]float64{}, map[string]ddSample{}
		q := []string{"sum:neo4j.queries{*} by {database}.as_count().rollup(sum, 60)"}
		for a := from; a.Before(to); a = a.Add(33 * time.Minute) {
			b := a.Add(33 * time.Minute)
			if b.After(to) {
				b = to
			}
			samples, err := readDatadog(t, d, context.Background(), q, a, b)
			if err != nil {
				t.Fatal(err)
			}
			ddCounts(t, samples, last, got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got\n%v\nwant\n%v", got, want)
		}
	})
}

func TestDatadogRetries(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retries   int
		fail      func(w http.ResponseWriter)
		failures  int // requests that fail before one succeeds
		requests  int
		waits     []time.Duration
		wantError string
	}{
		{
			name:    "a 429 waits for its X-RateLimit-Reset, then succeeds",
			retries: 3,
			fail: func(w http.ResponseWriter) {
				ddReply(w, http.StatusTooManyRequests, ddFixture(t, "rate_limited.json"),
					"X-RateLimit-Limit", "300", "X-RateLimit-Period", "3600", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "17")
			},
			failures: 1,
			requests: 2,
			waits:    []time.Duration{17 * time.Second},
		},
		{
			name:     "a 429 without a reset header backs off",
			retries:  3,
			fail:     func(w http.ResponseWriter) { ddReply(w, http.StatusTooManyRequests, ddFixture(t, "rate_limited.json")) },
			failures: 2,
			requests: 3,
			waits:    []time.Duration{time.Second, 2 * time.Second},
		},
		{
			name:    "a 5xx backs off, then succeeds",
			retries: 3,
			fail: func(w http.ResponseWriter) {
				ddReply(w, http.StatusServiceUnavailable, ddFixture(t, "unavailable.json"))
			},
			failures: 1,
			requests: 2,
			waits:    []time.Duration{time.Second},
		},
		{
			name:      "5xx after every retry gives up, saying so",
			retries:   2,
			fail:      func(w http.ResponseWriter) { ddReply(w, http.StatusInternalServerError, []byte("<html>oops</html>")) },
			failures:  3,
			requests:  3,
			waits:     []time.Duration{time.Second, 2 * time.Second},
			wantError: `500 Internal Server Error after 3 attempts: "<html>oops</html>"`,
		},
		{
			name:      "a 403 is not retried and says what Datadog said",
			retries:   3,
			fail:      func(w http.ResponseWriter) { ddReply(w, http.StatusForbidden, ddFixture(t, "forbidden.json")) },
			failures:  1,
			requests:  1,
			wantError: "403 Forbidden: Forbidden",
		},
		{
			name:    "a 400 is not retried",
			retries: 3,
			fail: func(w http.ResponseWriter) {
				ddReply(w, http.StatusBadRequest, []byte(`{"errors":["Error parsing query: unable to parse sum:x{: Rule 'scope_expr' didn't match"]}`))
			},
			failures:  1,
			requests:  1,
			wantError: "400 Bad Request: Error parsing query",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDatadog{answer: func(w http.ResponseWriter, n int, _, _ int64, _ string) {
				if n <= tc.failures {
					tc.fail(w)
					return
				}
				ddReply(w, http.StatusOK, ddFixture(t, "query.json"))
			}}
			d, waits := newTestDatadog(t, f, func(c *DatadogConfig) { c.Retries = tc.retries })
			got, err := readDatadog(t, d, context.Background(), []string{ddQuery}, ddT0, ddT0.Add(4*time.Minute))
			switch {
			case tc.wantError == "" && err != nil:
				t.Fatal(err)
			case tc.wantError == "" && len(got) != 7:
				t.Errorf("got %d samples, want 7", len(got))
			case tc.wantError != "" && (err == nil || !strings.Contains(err.Error(), tc.wantError)):
				t.Errorf("error %v, want one saying %q", err, tc.wantError)
			}
			if int(f.requests.Load()) != tc.requests {
				t.Errorf("%d requests, want %d", f.requests.Load(), tc.requests)
			}
			if !reflect.DeepEqual(*waits, tc.waits) && len(*waits)+len(tc.waits) > 0 {
				t.Errorf("waited %v, want %v", *waits, tc.waits)
			}
		})
	}
}

func TestDatadogStopsWithItsContext(t *testing.T) {
	t.Run("a cancelled context sends nothing", func(t *testing.T) {
		f := &fakeDatadog{answer: ddSynthetic}
		d, _ := newTestDatadog(t, f, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := readDatadog(t, d, ctx, []string{ddQuery}, ddT0, ddT0.Add(time.Hour))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context canceled", err)
		}
		if f.requests.Load() != 0 {
			t.Errorf("%d requests", f.requests.Load())
		}
	})
	t.Run("a wait ends with the context", func(t *testing.T) {
		f := &fakeDatadog{answer: func(w http.ResponseWriter, _ int, _, _ int64, _ string) {
			ddReply(w, http.StatusServiceUnavailable, ddFixture(t, "unavailable.json"))
		}}
		d, _ := newTestDatadog(t, f, nil)
		ctx, cancel := context.WithCancel(context.Background())
		d.sleep = func(ctx context.Context, _ time.Duration) error {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
		_, err := readDatadog(t, d, ctx, []string{ddQuery}, ddT0, ddT0.Add(time.Hour))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context canceled", err)
		}
		if f.requests.Load() != 1 {
			t.Errorf("%d requests, want 1", f.requests.Load())
		}
	})
}

func TestDatadogKeepsKeysSecret(t *testing.T) {
	echo := []byte(`{"errors":["key ` + ddAPIKey + ` with application key ` + ddAppKey + ` is not valid"]}`)
	f := &fakeDatadog{answer: func(w http.ResponseWriter, n int, _, _ int64, _ string) {
		if n == 1 {
			ddReply(w, http.StatusBadGateway, echo)
			return
		}
		ddReply(w, http.StatusBadRequest, echo)
	}}
	d, _ := newTestDatadog(t, f, nil)
	var logs bytes.Buffer
	d.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d.Log.Info("source", "datadog", d)
	_, err := readDatadog(t, d, context.Background(), []string{ddQuery}, ddT0, ddT0.Add(time.Hour))
	if err == nil {
		t.Fatal("no error")
	}
	shown := map[string]string{
		"the error":      err.Error(),
		"the log":        logs.String(),
		"%v of a source": fmt.Sprintf("%v %+v %s", d, d, d),
		"%#v":            fmt.Sprintf("%#v", d),
	}
	for what, text := range shown {
		for _, key := range []string{ddAPIKey, ddAppKey} {
			if strings.Contains(text, key) {
				t.Errorf("%s shows a key: %s", what, text)
			}
		}
	}
	if !strings.Contains(err.Error(), "[redacted]") || !strings.Contains(logs.String(), "retrying") {
		t.Errorf("error %q, log %q: want the keys redacted and the retry logged", err, logs.String())
	}
}

func TestDatadogConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	blank := filepath.Join(dir, "blank")
	os.WriteFile(keyFile, []byte(ddAPIKey+"\n"), 0o600)
	os.WriteFile(blank, []byte(" \n\t\n"), 0o600)
	for _, tc := range []struct {
		name string
		edit func(*DatadogConfig)
		env  [2]string // DD_API_KEY, DD_APP_KEY
		want string    // in the error; empty for none
	}{
		{"the defaults with keys from the environment are valid", nil, [2]string{" " + ddAPIKey + "\n", ddAppKey}, ""},
		{"keys come from files", func(c *DatadogConfig) { c.APIKeyFile, c.AppKeyFile = keyFile, keyFile }, [2]string{}, ""},
		{"a missing API key names both of its places", nil, [2]string{"", ddAppKey}, "set api_key_file or the environment variable DD_API_KEY"},
		{"a blank application key is an error", nil, [2]string{ddAPIKey, "  "}, "set app_key_file or the environment variable DD_APP_KEY"},
		{"a key file holding only white space is an error", func(c *DatadogConfig) { c.APIKeyFile = blank }, [2]string{ddAPIKey, ddAppKey}, "api_key_file: " + blank + " holds no key"},
		{"an unreadable key file is an error", func(c *DatadogConfig) { c.AppKeyFile = filepath.Join(dir, "none") }, [2]string{ddAPIKey, ddAppKey}, "app_key_file: open"},
		{"a site with a scheme is not a site", func(c *DatadogConfig) { c.Site = "https://datadoghq.eu" }, [2]string{ddAPIKey, ddAppKey}, "datadog: site:"},
		{"an endpoint must be a base URL", func(c *DatadogConfig) { c.Endpoint = "127.0.0.1:8080" }, [2]string{ddAPIKey, ddAppKey}, "datadog: endpoint:"},
		{"a chunk must be whole minutes", func(c *DatadogConfig) { c.Chunk = 90 * time.Second }, [2]string{ddAPIKey, ddAppKey}, "datadog: chunk: 1m30s must be"},
		{"a chunk over a day is refused", func(c *DatadogConfig) { c.Chunk = 25 * time.Hour }, [2]string{ddAPIKey, ddAppKey}, "datadog: chunk:"},
		{"the timeout must be positive", func(c *DatadogConfig) { c.Timeout = 0 }, [2]string{ddAPIKey, ddAppKey}, "datadog: timeout:"},
		{"retries cannot be negative", func(c *DatadogConfig) { c.Retries = -1 }, [2]string{ddAPIKey, ddAppKey}, "datadog: retries:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DD_API_KEY", tc.env[0])
			t.Setenv("DD_APP_KEY", tc.env[1])
			cfg := DefaultDatadogConfig()
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			d, err := NewDatadog(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && (d.apiKey != strings.TrimSpace(tc.env[0]) && d.apiKey != ddAPIKey):
				t.Errorf("API key %q not trimmed", d.apiKey)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), ddAPIKey) || strings.Contains(err.Error(), ddAppKey)) {
				t.Errorf("error shows a key: %v", err)
			}
		})
	}
	t.Run("every problem is reported", func(t *testing.T) {
		err := DatadogConfig{}.Validate()
		for _, field := range []string{"site:", "timeout:", "chunk:"} {
			if err == nil || !strings.Contains(err.Error(), field) {
				t.Errorf("error %v does not name %s", err, field)
			}
		}
	})
}

func TestDatadogServer(t *testing.T) {
	t.Setenv("DD_API_KEY", ddAPIKey)
	t.Setenv("DD_APP_KEY", ddAppKey)
	for _, tc := range []struct{ site, endpoint, want string }{
		{"datadoghq.com", "", "https://api.datadoghq.com"},
		{"datadoghq.eu", "", "https://api.datadoghq.eu"},
		{"app.datadoghq.eu", "", "https://api.datadoghq.eu"},
		{"us3.datadoghq.com", "", "https://api.us3.datadoghq.com"},
		{"private.example.com", "", "https://api.private.example.com"},
		{"datadoghq.com", "http://127.0.0.1:8126", "http://127.0.0.1:8126"},
		{"datadoghq.com", "https://proxy.internal/datadog/", "https://proxy.internal/datadog"},
	} {
		t.Run(tc.site+" "+tc.endpoint+" is "+tc.want, func(t *testing.T) {
			cfg := DefaultDatadogConfig()
			cfg.Site, cfg.Endpoint = tc.site, tc.endpoint
			d, err := NewDatadog(cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := d.api.Client.Cfg.ServerURLWithContext(d.authorize(context.Background()), datadogOperation)
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDatadogQuery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		filter map[string]string
		by     []string
		want   string
	}{
		{"filter in key order, grouped by instance and code", map[string]string{"orchestra": "eu-1", "env": "prod"}, []string{"database", "code"},
			"sum:neo4j.query.errors{env:prod,orchestra:eu-1} by {database,code}.as_count().rollup(sum, 60)"},
		{"no filter reads everything", nil, []string{"code"}, "sum:neo4j.query.errors{*} by {code}.as_count().rollup(sum, 60)"},
		{"no grouping sums everything", map[string]string{"env": "prod"}, nil, "sum:neo4j.query.errors{env:prod}.as_count().rollup(sum, 60)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DatadogQuery("neo4j.query.errors", tc.filter, tc.by); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDatadogLabels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		json  string
		query string
		want  string
	}{
		{"tags become labels and dots in the metric underscores",
			`{"metric":"neo4j.query.errors","scope":"database:db-1,code:X","tag_set":["database:db-1","code:X"]}`, "",
			`{__name__="neo4j_query_errors", code="X", database="db-1"}`},
		{"filter tags come from the scope, negations and wildcards do not",
			`{"metric":"q","scope":"env:prod,!env:dev,host:web-*,database:db-1","tag_set":["database:db-1"]}`, "",
			`{__name__="q", database="db-1", env="prod"}`},
		{"a value keeps its colons, a key's dots become underscores, a bare tag is dropped",
			`{"metric":"q","scope":"*","tag_set":["kube.namespace:a:b","prod","2fa:on"]}`, "",
			`{_2fa="on", __name__="q", kube_namespace="a:b"}`},
		{"without a metric field the query's metric names the series",
			`{"scope":"*"}`, "sum:neo4j.queries{*}.as_count()",
			`{__name__="neo4j_queries"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var md datadogV1.MetricsQueryMetadata
			if err := json.Unmarshal([]byte(tc.json), &md); err != nil {
				t.Fatal(err)
			}
			if got := datadogLabels(md, tc.query).String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDatadogRefusesWhatItCannotCount(t *testing.T) {
	for _, tc := range []struct {
		name    string
		series  string
		queries []string
		want    string
	}{
		{"a negative count is not a count",
			`{"metric":"q","scope":"*","interval":60,"pointlist":[[1793836800000,-1]]}`, nil, "never negative"},
		{"a coarser rollup than asked for would date ddCounts wrong",
			`{"metric":"q","scope":"*","interval":300,"pointlist":[[1793836800000,1]]}`, nil, "use a smaller chunk"},
		{"two queries must not return the same series",
			`{"metric":"q","scope":"*","interval":60,"pointlist":[[1793836800000,1]]}`, []string{"sum:q{*}.as_count()", "sum:q{*} .as_count()"}, "queries 1 and 2 both return series"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeDatadog{answer: func(w http.ResponseWriter, _ int, _, _ int64, _ string) {
				ddReply(w, http.StatusOK, []byte(`{"status":"ok","res_type":"time_series","series":[`+tc.series+`]}`))
			}}
			d, _ := newTestDatadog(t, f, nil)
			queries := tc.queries
			if queries == nil {
				queries = []string{"sum:q{*}.as_count()"}
			}
			_, err := readDatadog(t, d, context.Background(), queries, ddT0, ddT0.Add(time.Hour))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	t.Run("a query asked twice is read once", func(t *testing.T) {
		f := &fakeDatadog{answer: ddSynthetic}
		d, _ := newTestDatadog(t, f, nil)
		q := "sum:neo4j.queries{*} by {database}.as_count().rollup(sum, 60)"
		if _, err := readDatadog(t, d, context.Background(), []string{q, q}, ddT0, ddT0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if f.requests.Load() != 1 {
			t.Errorf("%d requests, want 1", f.requests.Load())
		}
	})
	t.Run("an empty range is an error", func(t *testing.T) {
		f := &fakeDatadog{answer: ddSynthetic}
		d, _ := newTestDatadog(t, f, nil)
		if _, err := readDatadog(t, d, context.Background(), []string{"sum:q{*}"}, ddT0, ddT0); err == nil {
			t.Error("no error")
		}
	})
}

func TestDatadogErrorfLocatesTheSample(t *testing.T) {
	f := &fakeDatadog{answer: func(w http.ResponseWriter, _ int, _, _ int64, _ string) {
		ddReply(w, http.StatusOK, ddFixture(t, "query.json"))
	}}
	d, _ := newTestDatadog(t, f, nil)
	s := d.Samples(context.Background(), []string{ddQuery}, ddT0, ddT0.Add(4*time.Minute))
	s.Next()
	s.Next()
	err := s.Errorf("bad %s", "thing")
	want := `datadog series {__name__="neo4j_query_errors", code="neo.transienterror.general.databaseunavailable", database="db-1", orchestra="eu-1"} at 2026-11-05T00:01:00Z: bad thing`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}
