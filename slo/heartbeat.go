package slo

import (
	"net/url"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/notify/alertmanager"
)

// Heartbeat is burnwatch watching itself: while its cycles succeed, serve
// tells a dead man's switch every Interval that it is alive and
// evaluating, so that a burnwatch that is down, stuck or failing pages
// someone through the switch. Exactly one of URL, URLFile and Receiver.
type Heartbeat struct {
	// URL is pinged (Method) every Interval: healthchecks.io, Dead Man's
	// Snitch, Cronitor, or any switch that pages when pings stop.
	URL string `yaml:"url,omitempty"`
	// URLFile holds the URL instead, trimmed: such URLs usually carry the
	// check's secret.
	URLFile string `yaml:"url_file,omitempty"`
	// Method is GET (default), POST or HEAD.
	Method string `yaml:"method,omitempty"`
	// Receiver names an alertmanager receiver instead: an always-firing
	// alert (alertname burnwatch:watchdog, or the receiver's alert_name
	// for watchdog) is posted every Interval, for Alertmanager to route
	// to its dead man's switch.
	Receiver string `yaml:"receiver,omitempty"`
	// Interval is how often; default 1m.
	Interval Duration `yaml:"interval,omitempty"`
	// Timeout bounds one ping; default 10s.
	Timeout Duration `yaml:"timeout,omitempty"`
}

// Heartbeat defaults.
const (
	DefaultHeartbeatInterval = Duration(time.Minute)
	DefaultHeartbeatTimeout  = Duration(10 * time.Second)
	DefaultHeartbeatMethod   = "GET"
)

func (c *Config) applyHeartbeatDefaults() {
	h := c.Heartbeat
	if h == nil {
		return
	}
	if h.Interval == 0 {
		h.Interval = DefaultHeartbeatInterval
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultHeartbeatTimeout
	}
	if h.Method == "" && h.Receiver == "" {
		h.Method = DefaultHeartbeatMethod
	}
}

func (c *Config) validateHeartbeat(d *document) {
	h := c.Heartbeat
	if h == nil {
		return
	}
	p := path{"heartbeat"}
	set := 0
	for _, v := range []string{h.URL, h.URLFile, h.Receiver} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		d.errorf(p, "a heartbeat is exactly one of url, url_file (a dead man's switch to ping) and receiver (an alertmanager receiver to post a watchdog alert to); this one has %d", set)
	}
	iv := h.Interval.Std()
	intervalOK := iv >= 10*time.Second && iv <= time.Hour
	if !intervalOK {
		d.errorf(p.with("interval"), "%s is not an interval between 10s and 1h", h.Interval)
	}
	if t := h.Timeout.Std(); t <= 0 || (intervalOK && t > iv) {
		d.errorf(p.with("timeout"), "%s must be positive and at most the interval (%s)", h.Timeout, h.Interval)
	}
	if h.URL != "" {
		if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL is not quoted: it may hold the check's secret.
			d.errorf(p.with("url"), "is not an absolute http or https URL such as https://hc-ping.com/<uuid>")
		}
	}
	if h.Receiver != "" {
		if h.Method != "" {
			d.errorf(p.with("method"), "applies to url and url_file only; a receiver is posted to as its kind says")
		}
		c.validateHeartbeatReceiver(d, h)
		return
	}
	switch h.Method {
	case "GET", "POST", "HEAD":
	default:
		d.errorf(p.with("method"), "%q is not a method; valid: GET, POST, HEAD", h.Method)
	}
}

// validateHeartbeatReceiver checks that heartbeat.receiver names an
// alertmanager receiver, and that the watchdog it posts outlives the
// interval: Alertmanager expires it at endsAt, a few resends ahead.
func (c *Config) validateHeartbeatReceiver(d *document, h *Heartbeat) {
	p := path{"heartbeat", "receiver"}
	var ams []string
	var named *Receiver
	for _, r := range c.ReceiverConfigs {
		if r == nil {
			continue
		}
		if r.Alertmanager != nil {
			ams = append(ams, r.Name)
		}
		if r.Name == h.Receiver {
			named = r
		}
	}
	valid := "none: add a receiver with alertmanager: {url}"
	if len(ams) > 0 {
		valid = strings.Join(ams, ", ")
	}
	switch {
	case named == nil:
		d.errorf(p, "%q names no alertmanager receiver; valid: %s", h.Receiver, valid)
	case named.Alertmanager == nil:
		d.errorf(p, "%q is a %s receiver, and the watchdog goes only to an alertmanager receiver; valid: %s (or ping a dead man's switch with url)", h.Receiver, named.kind(), valid)
	default:
		resend := named.Alertmanager.Resend
		if resend <= 0 {
			resend = alertmanager.DefaultResend
		}
		if life := alertmanager.Lifetime(resend); h.Interval.Std() >= life {
			d.errorf(path{"heartbeat", "interval"}, "%s is too long for receiver %q: Alertmanager expires the watchdog %s after each post (4 resends); use less", h.Interval, h.Receiver, Duration(life))
		}
	}
}
