package slo_test

import (
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/slo"
)

// TestDashboardURLEncodesEveryValue: a label value is one URL value
// wherever the template puts it; "&" or "#" in a database name cannot add
// a query parameter or cut the URL.
func TestDashboardURLEncodesEveryValue(t *testing.T) {
	for _, tt := range []struct {
		name, template string
		labels         map[string]string
		want           string
	}{
		{"a plain value is as it is", "https://grafana.example/d/db?var-database={{.database}}",
			map[string]string{"database": "db-1"}, "https://grafana.example/d/db?var-database=db-1"},
		{"an ampersand cannot add a parameter", "https://grafana.example/d/db?var-database={{.database}}&orgId=1",
			map[string]string{"database": "x&orgId=2"}, "https://grafana.example/d/db?var-database=x%26orgId%3D2&orgId=1"},
		{"a slash and a hash stay in their path segment", "https://grafana.example/d/{{.database}}/view",
			map[string]string{"database": "../admin#x"}, "https://grafana.example/d/..%2Fadmin%23x/view"},
		{"a space and a line break are encoded", "https://x.example/?q={{.database}}",
			map[string]string{"database": "a b\nc"}, "https://x.example/?q=a%20b%0Ac"},
		{"a value already passed to urlquery is encoded once", "https://x.example/?q={{.database | urlquery}}",
			map[string]string{"database": "a&b"}, "https://x.example/?q=a%26b"},
		{"the pipelines of if and range decide and are not encoded", "https://x.example/{{if eq .database \"a&b\"}}{{.database}}{{else}}none{{end}}",
			map[string]string{"database": "a&b"}, "https://x.example/a%26b"},
		{"a label the instance lacks is empty", "https://x.example/?db={{.database}}",
			map[string]string{}, "https://x.example/?db="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := slo.ParseDashboardURL(tt.template)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			if err := tmpl.Execute(&b, tt.labels); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %s\nwant %s", b.String(), tt.want)
			}
		})
	}
}
