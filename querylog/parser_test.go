package querylog

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// secret is written into every field of the test logs that holds tenants'
// data: query text, parameters, users, messages, annotations.
const secret = "SECRET-tenant-data"

func ms(sec, milli int) int64 {
	return time.Date(2026, 11, 5, 10, 0, sec, milli*int(time.Millisecond), time.UTC).UnixMilli()
}

// parseFile reads a test log through a Parser, as the agent does, and
// flushes at its end.
func parseFile(t *testing.T, name string) []Entry {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p Parser
	var got []Entry
	emit := func(e Entry) { got = append(got, e) }
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	off := int64(0)
	for sc.Scan() {
		p.Line(sc.Bytes(), off, emit)
		off += int64(len(sc.Bytes()) + 1)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if e, ok := p.Flush(); ok {
		got = append(got, e)
	}
	if p.Skipped != 0 {
		t.Errorf("%s: %d lines skipped, want none", name, p.Skipped)
	}
	return got
}

func TestParserReadsEveryDocumentedFormat(t *testing.T) {
	for _, tc := range []struct {
		file, why string
		want      []Entry
	}{{
		file: "json-2025.log",
		why: "2025.05+ JSON: starts and transaction events are not counted; the GQLSTATUS of errorInfo is the code " +
			"(the top one, not its cause); the default 50N42 stays 50N42 without a failureReason; a query of 9 KB of " +
			"unicode and unicode database names read whole; <none> for a query Neo4j could not route",
		want: []Entry{
			{Time: ms(1, 500), Database: "tenant-α"},
			{Time: ms(2, 500), Database: "tenant-α"},
			{Time: ms(3, 900), Database: "tenant-α", Failed: true, Code: "42N62"},
			{Time: ms(4, 900), Database: "db-2", Failed: true, Code: "51N66"},
			{Time: ms(5, 900), Database: "db-2", Failed: true, Code: "08N07"},
			{Time: ms(6, 900), Database: "db-2", Failed: true, Code: "50N42"},
			{Time: ms(7, 900), Database: "<none>", Failed: true, Code: "42001"},
			{Time: ms(9, 500), Database: "日本語-db"},
		},
	}, {
		file: "json-5.26.log",
		why:  "5.25/5.26 JSON with both errorInfo and failureReason: a legacy Neo.* code in failureReason says more than the default 50N42, but not more than a specific GQLSTATUS",
		want: []Entry{
			{Time: ms(1, 500), Database: "neo4j"},
			{Time: ms(2, 900), Database: "neo4j", Failed: true, Code: "Neo.ClientError.Statement.SyntaxError"},
			{Time: ms(3, 900), Database: "neo4j", Failed: true, Code: "42N62"},
		},
	}, {
		file: "json-4.4.log",
		why:  "4.4 and pre-5.25 JSON (spaced): failureReason only; a Neo.* code in it is the code, a message without one is unknown",
		want: []Entry{
			{Time: ms(1, 0), Database: "legacy"},
			{Time: ms(2, 0), Database: "legacy", Failed: true, Code: NoCode},
			{Time: ms(3, 0), Database: "legacy", Failed: true, Code: "Neo.TransientError.General.DatabaseUnavailable"},
		},
	}, {
		file: "text-5.x.log",
		why: "text: VERBOSE start lines not counted; the database follows the connection details; a failure's code is the " +
			"last Neo.* code of its entry, after a query text of three lines that names another; a failure without one is unknown",
		want: []Entry{
			{Time: ms(1, 0), Database: "neo4j"},
			{Time: ms(2, 0), Database: "movies", Failed: true, Code: "Neo.ClientError.Statement.SyntaxError"},
			{Time: ms(3, 0), Database: "movies", Failed: true, Code: NoCode},
			{Time: ms(4, 0), Database: "movies"},
		},
	}} {
		t.Run(tc.file, func(t *testing.T) {
			got := parseFile(t, tc.file)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s\n got %+v\nwant %+v", tc.why, got, tc.want)
			}
			for _, e := range got {
				if strings.Contains(e.Database+e.Code, secret) {
					t.Errorf("tenant data in an entry: %+v", e)
				}
			}
		})
	}
}

func TestChooseCode(t *testing.T) {
	for _, tc := range []struct{ gql, neo, want, why string }{
		{"42N62", "Neo.ClientError.Statement.SyntaxError", "42N62", "a specific GQLSTATUS wins"},
		{"50N42", "Neo.ClientError.Statement.SyntaxError", "Neo.ClientError.Statement.SyntaxError", "the default GQLSTATUS says less than a legacy code"},
		{"50N42", "", "50N42", "the default GQLSTATUS when it is all there is"},
		{"", "Neo.TransientError.General.DatabaseUnavailable", "Neo.TransientError.General.DatabaseUnavailable", "a legacy code alone"},
		{"", "", NoCode, "nothing at all"},
	} {
		if got := ChooseCode(tc.gql, tc.neo); got != tc.want {
			t.Errorf("%s: ChooseCode(%q, %q) = %q, want %q", tc.why, tc.gql, tc.neo, got, tc.want)
		}
	}
}

func TestParserRefusesWhatIsNotACode(t *testing.T) {
	var p Parser
	var got []Entry
	line := `{"time":"2026-11-05 10:00:01.000+0000","type":"query","event":"fail","database":"d","errorInfo":{"GQLSTATUS":"42n62-drop table"}}`
	p.Line([]byte(line), 0, func(e Entry) { got = append(got, e) })
	if len(got) != 1 || got[0].Code != NoCode {
		t.Errorf("a GQLSTATUS that is not five digits or capitals became %+v, want the code %q", got, NoCode)
	}
}

func TestParseTimeMatchesTimeParse(t *testing.T) {
	for _, s := range []string{"2026-11-05 10:00:01.123+0000", "2026-02-28 23:59:59.999+0000", "2026-11-05 12:00:01.123+0200", "2026-11-05T10:00:01.123Z"} {
		got, ok := parseTime(s)
		layout := logTimeLayout
		if strings.Contains(s, "T") {
			layout = time.RFC3339Nano
		}
		want, err := time.Parse(layout, s)
		if !ok || err != nil || got != want.UnixMilli() {
			t.Errorf("parseTime(%q) = %d, %v; want %d", s, got, ok, want.UnixMilli())
		}
	}
	for _, s := range []string{"2026-13-05 10:00:01.123+0000", "2026-11-05 10:00:01,123+0000", "yesterday"} {
		if _, ok := parseTime(s); ok {
			t.Errorf("parseTime(%q) accepted a time that is not one", s)
		}
	}
}

// decodeJSON is parseJSON without its fast path.
func decodeJSON(line []byte) (Entry, bool, bool) {
	var j jsonEntry
	if err := json.Unmarshal(line, &j); err != nil {
		return Entry{}, false, false
	}
	t, _ := parseTime(j.Time)
	switch {
	case j.Type != "" && j.Type != "query", j.Event != "success" && j.Event != "fail":
		return Entry{}, false, true
	}
	return Entry{Time: t, Database: j.Database, Failed: j.Event == "fail"}, true, true
}

func TestTheFastPathReadsLinesAsTheDecoderDoes(t *testing.T) {
	lines := []string{
		`{"time":"2026-11-05 10:00:01.000+0000","type":"query","event":"success","database":"a","query":"RETURN \",\"database\":\"evil\""}`,
		`{"query":"x\",\"event\":\"start","time":"2026-11-05 10:00:01.000+0000","type":"query","event":"success","database":"b"}`,
		`{"time":"2026-11-05 10:00:01.000+0000","type":"transaction","event":"commit","database":"c"}`,
		`{"time":"2026-11-05 10:00:01.000+0000","event":"success","database":"d\u00fc"}`,
		`{"time":"2026-11-05 10:00:01.000+0000", "type": "query", "event": "success", "database": "e"}`,
	}
	for _, name := range []string{"json-2025.log", "json-5.26.log", "json-4.4.log"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	for _, l := range lines {
		e, counted, sure := parseJSONFast([]byte(l))
		if !sure {
			continue
		}
		we, wcounted, _ := decodeJSON([]byte(l))
		if counted != wcounted || e != we {
			t.Errorf("fast path read %+v (counted %v), the decoder %+v (counted %v):\n%.200s", e, counted, we, wcounted, l)
		}
	}
}
