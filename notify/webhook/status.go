package webhook

import (
	"net/http"
	"time"

	"github.com/burnwatch/burnwatch/notify"
)

// StatusError is a response other than a 2xx.
type StatusError = notify.StatusError

// classify reads a response as every HTTP receiver does (notify.Classify);
// a webhook's message is the start of its body.
func classify(resp *http.Response, now time.Time) (retry bool, err error) {
	return notify.Classify(resp, now, nil)
}
