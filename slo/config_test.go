package slo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// TestBadConfigs loads every testdata/config/*.bad.yaml and compares the
// errors with the "# want:" lines at its top, exactly and in order.
func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("../testdata/config/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs found: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".bad.yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(line, "# want: "); ok {
					want = append(want, w)
				}
			}
			if len(want) == 0 {
				t.Fatalf("%s has no '# want:' lines", name)
			}
			_, err = Parse(name, data)
			if err == nil {
				t.Fatalf("Parse accepted a bad config")
			}
			es, ok := err.(Errors)
			if !ok {
				t.Fatalf("Parse returned %T, want Errors: %v", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestExampleConfig(t *testing.T) {
	cfg, err := Load("../testdata/config/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SLOs) != 2 {
		t.Fatalf("%d SLOs, want 2", len(cfg.SLOs))
	}
	s := cfg.SLO("cypher-availability")
	if s.Window.Std() != 30*24*time.Hour || s.Objective != 99.9 || s.SLI.CodeLabel != "code" {
		t.Errorf("decoded %+v", s)
	}
	if got := s.Playbook(Page); got != "database-unavailable" {
		t.Errorf("page playbook %q", got)
	}
	lset := labels.FromStrings("__name__", "neo4j_query_errors_total", "orchestra", "eu-1", "database", "db-1", "code", "X")
	if s.Role(lset) != RoleErrors {
		t.Errorf("role of an error series = %v", s.Role(lset))
	}
	if got := s.Role(labels.FromStrings("__name__", "neo4j_query_errors_total", "orchestra", "us-1")); got != 0 {
		t.Errorf("a series of another orchestra has role %v", got)
	}
	if got := s.Instance(lset); got.String() != `{database="db-1"}` {
		t.Errorf("instance labels %v", got)
	}
	b := cfg.SLO("bolt-connections")
	pairs := b.Pairs()
	if len(pairs) != 2 || pairs[1].Long.Std() != 7*24*time.Hour || pairs[1].Factor != 0.4 {
		t.Errorf("custom pairs %+v", pairs)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg, err := LoadDefault()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SLOs[0].Pairs()) != 4 {
		t.Errorf("the default SLO has %d pairs, want the workbook's 4", len(cfg.SLOs[0].Pairs()))
	}
}

func TestRoleOfASeriesThatIsBothTotalAndErrors(t *testing.T) {
	cfg, err := Parse("both.yaml", []byte(`
slos:
  - name: http
    objective: 99
    sli: {total: 'http_requests_total', errors: 'http_requests_total{code=~"5.."}'}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.SLOs[0]
	if got := s.Role(labels.FromStrings("__name__", "http_requests_total", "code", "503")); got != RoleTotal|RoleErrors {
		t.Errorf("a 503 series has role %v, want total and errors", got)
	}
	if got := s.Role(labels.FromStrings("__name__", "http_requests_total", "code", "200")); got != RoleTotal {
		t.Errorf("a 200 series has role %v, want total", got)
	}
}

func TestFactors(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name   string
		period time.Duration
		want   []float64
	}{
		{"a 30d period gives the workbook's 14.4, 6, 3, 1", 30 * day, []float64{14.4, 6, 3, 1}},
		{"a 28d period gives 13.44, 5.6, 2.8, 0.933", 28 * day, []float64{13.44, 5.6, 2.8, 0.9333}},
		{"a 7d period gives 3.36, 1.4, 0.7, 0.233", 7 * day, []float64{3.36, 1.4, 0.7, 0.2333}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs, err := Policy{Preset: "workbook"}.Derive(tt.period)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range pairs {
				if got := round4(p.Factor); got != tt.want[i] {
					t.Errorf("pair %d (%s of budget in %s): factor %v, want %v", i, p.PairSpec.Long, p.Long, p.Factor, tt.want[i])
				}
			}
		})
	}
	// The exact factors print without float noise.
	if got := Factor(2, 30*day, time.Hour); got != 14.4 {
		t.Errorf("Factor(2%%, 30d, 1h) = %v, want exactly 14.4", got)
	}
	if got := Factor(2, 28*day, time.Hour); got != 13.44 {
		t.Errorf("Factor(2%%, 28d, 1h) = %v, want exactly 13.44", got)
	}
}

func round4(x float64) float64 {
	return float64(int64(x*10000+0.5)) / 10000
}

func TestBudgetIsTheNearestFloat(t *testing.T) {
	for _, tt := range []struct {
		objective, want float64
	}{{99.9, 0.001}, {99.95, 0.0005}, {99, 0.01}, {99.99, 0.0001}, {95, 0.05}} {
		if got := (&SLO{Objective: tt.objective}).Budget(); got != tt.want {
			t.Errorf("budget of %v%% = %v, want %v", tt.objective, got, tt.want)
		}
	}
}
