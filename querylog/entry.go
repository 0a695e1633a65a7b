// Package querylog reads Neo4j's query log: it follows query.log across
// rotation and truncation, resumes from a saved position, and turns each
// query that ended into an Entry that holds only its time, its database,
// whether it failed and the failure's code. The query's text, its
// parameters, its users and the failure's message are read past and never
// kept: they are the tenants' data.
package querylog

import (
	"bytes"
	"regexp"
)

// Entry is one query that ended, as burnwatch counts it.
type Entry struct {
	Time     int64  // Unix milliseconds, when Neo4j logged the end
	Database string // "<none>" when Neo4j could not route the query
	Failed   bool
	// Code is the failure's code (see ChooseCode); empty when the query
	// succeeded.
	Code string
}

// DefaultGQLStatus is the GQLSTATUS that Neo4j 5.25 and later log for an
// exception that carries no GQL-status object of its own ("general
// processing exception"). The operations manual warns against relying on
// it: it says nothing about whose failure it was.
const DefaultGQLStatus = "50N42"

// NoCode is the code of a failure whose log entry carries none: a JSON
// entry from before Neo4j 5.25 without a Neo.* code in its failureReason,
// or a text entry without one in its message. burnwatch counts it as a
// platform failure until a rule says otherwise (it has no rule in any
// pack, so it shows in the unclassified list).
const NoCode = "unknown"

// maxCodeLen bounds a code read from a log line: a Neo.* status code is
// about 60 bytes; anything much longer is not one.
const maxCodeLen = 128

// ChooseCode picks the one code an entry is counted under: the GQLSTATUS
// when Neo4j logged a specific one; else a Neo.* status code when the entry
// carries one (the legacy codes every Neo4j version returns to drivers);
// else the default GQLSTATUS if that is all there is; else NoCode.
//
// The GQLSTATUS comes first because it is the code Neo4j's JSON query log
// documents as a field (errorInfo.GQLSTATUS, since 5.25), the one its
// drivers and docs move to, and burnwatch's gqlstatus pack classifies it.
// The default 50N42 says only that the exception had no GQL object, so a
// legacy code, when the entry has one, says more.
func ChooseCode(gqlStatus, neoCode string) string {
	switch {
	case gqlStatus != "" && gqlStatus != DefaultGQLStatus:
		return gqlStatus
	case neoCode != "":
		return neoCode
	case gqlStatus != "":
		return gqlStatus
	}
	return NoCode
}

// validGQLStatus reports whether s is a GQLSTATUS code: five digits or
// upper-case letters, such as 42N62 or 08N07.
func validGQLStatus(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// neoCodePattern is a Neo4j status code of an error, such as
// Neo.ClientError.Statement.SyntaxError.
var neoCodePattern = regexp.MustCompile(`Neo\.(?:ClientError|TransientError|DatabaseError)\.[A-Za-z]+\.[A-Za-z]+`)

// neoCodePrefix is what every error status code starts with; a message
// without it is not searched further.
var neoCodePrefix = []byte("Neo.")

// findNeoCode returns the last Neo.* error status code in b, or "". The
// last, because a failure's message comes after the query text, which the
// tenant wrote and which may name a code of its own.
func findNeoCode(b []byte) string {
	if !bytes.Contains(b, neoCodePrefix) {
		return ""
	}
	all := neoCodePattern.FindAll(b, -1)
	if len(all) == 0 {
		return ""
	}
	c := all[len(all)-1]
	if len(c) > maxCodeLen {
		return ""
	}
	return string(c)
}
