package alertmanager

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

// StatusError is a response other than a 2xx.
type StatusError = notify.StatusError

// classify reads a response as every HTTP receiver does (notify.Classify);
// a 400 is an alert Alertmanager rejects, with its reason.
func classify(resp *http.Response, now time.Time) (retry bool, err error) {
	return notify.Classify(resp, now, message)
}

// message reads an error body. Alertmanager's API v2 answers a 400 or a
// 500 with a JSON string; anything else is taken as text.
func message(b []byte) string {
	var s string
	if json.Unmarshal(b, &s) != nil {
		s = string(b)
	}
	return s
}
