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

// Markers of lines that are not a query's end, tested before decoding so
// that a busy VERBOSE log (a start line for every query) costs half as much.
var (
	jsonStart       = []byte(`"event":"start"`)
	jsonStartSpaced = []byte(`"event": "start"`)
)

// parseJSON reads one JSON line. ok is false for a line that is not JSON;
// counted is false for a JSON line that is not a query's end (a start, a
// transaction event).
func parseJSON(line []byte) (e Entry, counted, ok bool) {
	if bytes.Contains(line, jsonStart) || bytes.Contains(line, jsonStartSpaced) {
		return Entry{}, false, json.Valid(line)
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
