package querylog

import (
	"bytes"
	"encoding/json"
)

// jsonEntry is the part of a JSON query log line that burnwatch reads. The
// fields are those of Neo4j's QueryLogJsonLayout (5.x and later) and of the
// 4.x JSON format: the rest of the line, the query text and parameters
// and users among it, is skipped by the decoder and never kept.
type jsonEntry struct {
	Time     string `json:"time"`
	Level    string `json:"level"`
	Type     string `json:"type"`  // query or transaction
	Event    string `json:"event"` // start, success or fail for a query
	Database string `json:"database"`
	// ErrorInfo is the GQL error information, logged since Neo4j 5.25.
	ErrorInfo *struct {
		GQLStatus string `json:"GQLSTATUS"`
	} `json:"errorInfo"`
	// FailureReason is the failure's message: deprecated in 5.25 and off
	// by default from 2025.05. Only a Neo.* status code is taken from it.
	FailureReason string `json:"failureReason"`
}

// parseJSON reads one JSON line. ok is false for a line that is not JSON;
// counted is false for a JSON line that is not a query's end (a start, a
// transaction event).
func parseJSON(line []byte) (e Entry, counted, ok bool) {
	if e, counted, sure := parseJSONFast(line); sure {
		return e, counted, true
	}
	var j jsonEntry
	if err := json.Unmarshal(line, &j); err != nil {
		return Entry{}, false, false
	}
	if j.Type != "" && j.Type != "query" {
		return Entry{}, false, true
	}
	var failed bool
	switch j.Event {
	case "success":
	case "fail":
		failed = true
	case "":
		// An entry without an event (a layout of one's own): its level
		// tells.
		failed = j.Level == "ERROR"
	default:
		return Entry{}, false, true
	}
	t, ok := parseTime(j.Time)
	if !ok || j.Database == "" {
		return Entry{}, false, false
	}
	e = Entry{Time: t, Database: j.Database, Failed: failed}
	if failed {
		var gql string
		if j.ErrorInfo != nil && validGQLStatus(j.ErrorInfo.GQLStatus) {
			gql = j.ErrorInfo.GQLStatus
		}
		e.Code = ChooseCode(gql, findNeoCode([]byte(j.FailureReason)))
	}
	return e, true, true
}

// parseJSONFast reads the lines that are most of a busy log, starts and
// successes, without decoding them: it finds the few fields it needs by
// their keys. sure is false for anything else (a failure, whose code is in
// an object; a layout with spaces; a value with escapes), which the
// decoder then reads.
func parseJSONFast(line []byte) (e Entry, counted, sure bool) {
	event, ok := fastField(line, keyEvent)
	if !ok {
		return Entry{}, false, false
	}
	typ, ok := fastField(line, keyType)
	if !ok && bytes.Contains(line, []byte(`"type"`)) {
		return Entry{}, false, false
	}
	if typ != nil && string(typ) != "query" {
		return Entry{}, false, true
	}
	switch string(event) {
	case "success":
	case "fail":
		return Entry{}, false, false
	default:
		return Entry{}, false, true // start, or a transaction's
	}
	ts, ok1 := fastField(line, keyTime)
	db, ok2 := fastField(line, keyDatabase)
	if !ok1 || !ok2 || len(db) == 0 {
		return Entry{}, false, false
	}
	t, ok := parseTime(string(ts))
	if !ok {
		return Entry{}, false, false
	}
	return Entry{Time: t, Database: string(db)}, true, true
}

// Keys of the fields parseJSONFast reads, as they appear in a compact line.
var (
	keyEvent    = []byte(`"event":"`)
	keyType     = []byte(`"type":"`)
	keyTime     = []byte(`"time":"`)
	keyDatabase = []byte(`"database":"`)
)

// fastField returns the string value of a top-level or nested key in a
// compact JSON line (no spaces), when the value has no escapes. A key is
// where its quoted name follows '{' or ',': inside a string value every
// quote is escaped, so those bytes can only be a key. ok is false when
// the key is not there in that form or its value needs decoding.
func fastField(line, key []byte) ([]byte, bool) {
	for off := 0; ; {
		i := bytes.Index(line[off:], key)
		if i < 0 {
			return nil, false
		}
		i += off
		if i > 0 && (line[i-1] == ',' || line[i-1] == '{') {
			v := line[i+len(key):]
			end := bytes.IndexByte(v, '"')
			if end < 0 || bytes.IndexByte(v[:end], '\\') >= 0 {
				return nil, false
			}
			return v[:end], true
		}
		off = i + 1
	}
}
