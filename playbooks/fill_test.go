package playbooks

import (
	"net/http"
	"strings"
	"testing"
)

func TestInstanceURLCarriesTheLabels(t *testing.T) {
	tests := []struct {
		name   string
		base   string
		labels map[string]string
		want   string
	}{
		{"labels sorted and URL-encoded", "https://burnwatch.example/", map[string]string{"orchestra": "eu-1", "database": "db b/1&x=y"},
			"https://burnwatch.example/playbooks/database-unavailable?database=db+b%2F1%26x%3Dy&orchestra=eu-1"},
		{"no labels, no query", "", nil, "/playbooks/database-unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InstanceURL(tt.base, "database-unavailable", tt.labels); got != tt.want {
				t.Errorf("InstanceURL = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestThePageFillsTheAlertsLabels: a page's link to database-unavailable
// with ?database=db-b shows the commands and queries for db-b; a value
// that is more than a name is not filled in, and is escaped where it is
// shown.
func TestThePageFillsTheAlertsLabels(t *testing.T) {
	srv := defaultServer(t)
	tests := []struct {
		name     string
		query    string
		want     []string
		wantNone []string
	}{
		{"the link's database in the commands and the PromQL", "?database=db-b&orchestra=eu-1",
			[]string{"DB=db-b ", `neo4j_query_errors_total{database=&quot;db-b&quot;}`, `For the alert's <code>database="db-b"</code>`},
			[]string{"{{database}}", "db-1"}},
		{"without a link's labels the placeholders stay, and the page says so", "",
			[]string{"DB={{database}} ", "Left as written: <code>{{database}}</code>"},
			[]string{"For the alert"}},
		{"a value a shell would run is not filled in", "?database=" + escapeQuery(`db"; rm -rf / #`),
			[]string{"DB={{database}} ", "Not filled in: <code>{{database}}</code>", `&#34;db\&#34;; rm -rf / #&#34;`},
			[]string{`db"; rm`}},
		{"markup in a value is escaped, never rendered", "?database=" + escapeQuery(`<script>alert(1)</script>`),
			[]string{"Not filled in", "&lt;script&gt;"},
			[]string{"<script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv, http.MethodGet, "/playbooks/database-unavailable"+tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(body, w) {
					t.Errorf("the page has %q", w)
				}
			}
		})
	}
	t.Run("the Markdown is filled in too", func(t *testing.T) {
		_, body := get(t, srv, http.MethodGet, "/playbooks/database-unavailable.md?database=db-b")
		if !strings.Contains(body, "DB=db-b ") || !strings.Contains(body, `{database="db-b"}`) || strings.Contains(body, "{{database}}") {
			t.Errorf("the Markdown is not filled in:\n%.600s", body)
		}
	})
}

func escapeQuery(s string) string {
	r := strings.NewReplacer(`"`, "%22", ";", "%3B", " ", "%20", "/", "%2F", "#", "%23", "<", "%3C", ">", "%3E", "(", "%28", ")", "%29")
	return r.Replace(s)
}

func TestPlaceholders(t *testing.T) {
	p := &Playbook{Body: []byte("DB={{database}}\n{database=\"{{ database }}\", pod=\"{{pod}}\"} {{not a label}} {{9x}}")}
	if got := strings.Join(p.Placeholders(), ","); got != "database,pod" {
		t.Errorf("placeholders %q, want database,pod", got)
	}
}
