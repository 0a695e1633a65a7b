package querylog

import (
	"bytes"
	"time"
)

// logTimeLayout is the time stamp of Neo4j's logs, both the pattern layout
// (%d{yyyy-MM-dd HH:mm:ss.SSSZ}{GMT+0}) and the JSON templates.
const logTimeLayout = "2006-01-02 15:04:05.000-0700"

// parseTime reads a log time stamp: Neo4j's own layout, or RFC 3339 as a
// template of one's own may write it.
func parseTime(s string) (int64, bool) {
	if t, ok := parseLogTime(s); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// parseLogTime is time.Parse(logTimeLayout, s) for the common case of a
// +0000 offset, without its allocations: it runs once per line.
func parseLogTime(s string) (int64, bool) {
	if len(s) != len(logTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return 0, false
	}
	if s[23:] != "+0000" {
		t, err := time.Parse(logTimeLayout, s)
		if err != nil {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	var f [7]int
	for i, p := range [7][2]int{{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}, {20, 3}} {
		v, ok := num(p[0], p[1])
		if !ok {
			return 0, false
		}
		f[i] = v
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 60 {
		return 0, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*int(time.Millisecond), time.UTC)
	return t.UnixMilli(), true
}

// textHeader is the start of a text entry: the time stamp, the level and
// the message.
type textHeader struct {
	time    int64
	level   []byte
	message []byte
}

// parseTextHeader reads a line that starts an entry of the text (pattern
// layout) query log: "2026-06-22 13:45:54.597+0000 INFO  id:34 - …". ok is
// false for a line that does not start with a time stamp: the next line of
// an entry whose query text has line breaks.
func parseTextHeader(line []byte) (h textHeader, ok bool) {
	n := len(logTimeLayout)
	if len(line) < n+2 || line[n] != ' ' {
		return h, false
	}
	t, ok := parseTime(string(line[:n]))
	if !ok {
		return h, false
	}
	rest := line[n+1:]
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return h, false
	}
	return textHeader{time: t, level: rest[:sp], message: bytes.TrimLeft(rest[sp:], " ")}, true
}

// textEnd reports whether a text message is a query's end: it starts with
// the elapsed time ("12 ms: "), after the query and transaction ids that
// newer versions write first ("id:34 - transaction id:6 - 195 ms: …"). A
// VERBOSE start ("Query started: …") and transaction events are not.
func textEnd(msg []byte) bool {
	for range 2 {
		if bytes.HasPrefix(msg, []byte("id:")) || bytes.HasPrefix(msg, []byte("transaction id:")) {
			i := bytes.Index(msg, []byte(" - "))
			if i < 0 {
				return false
			}
			msg = msg[i+3:]
		}
	}
	i := 0
	for i < len(msg) && '0' <= msg[i] && msg[i] <= '9' {
		i++
	}
	return i > 0 && bytes.HasPrefix(msg[i:], []byte(" ms: "))
}

// sessionMark ends the session type that begins a query's connection
// details (bolt-session, server-session, embedded-session).
var sessionMark = []byte("-session\t")

// textDatabase finds the database in a text message: the connection
// details are tab-separated and the database follows the last of them, up
// to " - " (then the user, then the query): "bolt-session\tbolt\t…\t
// server/127.0.0.1:7687>\tneo4j - alice - MATCH …".
func textDatabase(msg []byte) string {
	i := bytes.Index(msg, sessionMark)
	if i < 0 {
		return ""
	}
	rest := msg[i:]
	end := bytes.Index(rest, []byte(" - "))
	if end < 0 {
		return ""
	}
	seg := rest[:end]
	tab := bytes.LastIndexByte(seg, '\t')
	if tab < 0 {
		return ""
	}
	return string(bytes.TrimSpace(seg[tab+1:]))
}
