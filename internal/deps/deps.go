// Package deps pins the modules that packages still being written will
// use, so that their versions are chosen once, here.
package deps

import (
	_ "github.com/DataDog/datadog-api-client-go/v2/api/datadog"
	_ "github.com/DataDog/datadog-api-client-go/v2/api/datadogV1"
	_ "github.com/DataDog/datadog-api-client-go/v2/api/datadogV2"
	_ "github.com/PagerDuty/go-pagerduty"
	_ "github.com/prometheus/client_golang/api"
	_ "github.com/prometheus/client_golang/api/prometheus/v1"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "github.com/yuin/goldmark"
	_ "modernc.org/sqlite"
)
