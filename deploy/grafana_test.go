package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

const dashboardFile = "grafana/burnwatch.json"

// dashboard is the part of Grafana's dashboard JSON the test reads.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name, Type, Definition string
			Query                  any
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name, Expr string
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource map[string]any `json:"datasource"`
	Targets    []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

// grafanaVariables stand for the dashboard's variables and Grafana's own
// while an expression is parsed.
var grafanaVariables = map[string]string{
	"__rate_interval": "5m", "__interval": "1m", "__range": "1h",
	"instance": ".*", "slo": ".*",
}

var variableRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

// expand replaces the variables an expression uses; an unknown one is left,
// and fails the parse.
func expand(expr string) string {
	return variableRef.ReplaceAllStringFunc(expr, func(ref string) string {
		if v, ok := grafanaVariables[variableRef.FindStringSubmatch(ref)[1]]; ok {
			return v
		}
		return ref
	})
}

// labelValues is a query variable's label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// TestDashboardQueriesParseAndNameExportedMetrics: every expression of the
// dashboard (panels, variables, annotations) parses as PromQL and selects
// only metrics burnwatch exports; every panel reads the datasource variable.
func TestDashboardQueriesParseAndNameExportedMetrics(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("the dashboard needs a uid and a title")
	}
	exported := exportedMetrics(t)
	check := func(where, expr string) {
		if strings.TrimSpace(expr) == "" {
			t.Errorf("%s: no expression", where)
			return
		}
		checkMetricsExported(t, where, expand(expr), exported)
	}
	hasDatasource := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDatasource = v.Name == "datasource"
		case "query":
			if _, ok := grafanaVariables[v.Name]; !ok {
				t.Errorf("variable %s: add it to grafanaVariables", v.Name)
			}
			m := labelValues.FindStringSubmatch(v.Definition)
			if m == nil {
				t.Errorf("variable %s: %q is not label_values(selector, label)", v.Name, v.Definition)
				continue
			}
			if q, _ := v.Query.(map[string]any); q["query"] != v.Definition {
				t.Errorf("variable %s: query %v differs from its definition %q", v.Name, v.Query, v.Definition)
			}
			check("variable "+v.Name, m[1])
		}
	}
	if !hasDatasource {
		t.Errorf("no datasource variable named datasource")
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			check("annotation "+a.Name, a.Expr)
		}
	}
	ids := map[int]string{}
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if prev, ok := ids[p.ID]; ok {
				t.Errorf("panels %q and %q share id %d", prev, p.Title, p.ID)
			}
			ids[p.ID] = p.Title
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Datasource["uid"] != "${datasource}" {
				t.Errorf("panel %q reads datasource %v, want ${datasource}", p.Title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			for _, q := range p.Targets {
				check(fmt.Sprintf("panel %q query %s", p.Title, q.RefID), q.Expr)
			}
		}
	}
	walk(d.Panels)
	if len(ids) < 10 {
		t.Errorf("only %d panels", len(ids))
	}
}

func TestDashboardCheckFindsWhatIsWrong(t *testing.T) {
	exported := exportedMetrics(t)
	for _, c := range []struct{ what, expr, want string }{
		{"a misspelt metric", `rate(burnwatch_evaluation_total{instance=~"$instance"}[5m])`, "burnwatch_evaluation_total is not a metric"},
		{"a misspelt variable", `rate(burnwatch_evaluations_total[$__rate_intervall])`, "unexpected character"},
		{"a selector without a name", `rate({job="burnwatch"}[5m])`, "without a metric name"},
	} {
		t.Run(c.what, func(t *testing.T) {
			problems := exprProblems(expand(c.expr), exported)
			if len(problems) != 1 || !strings.Contains(problems[0], c.want) {
				t.Errorf("%q: got %q, want a problem saying %q", c.expr, problems, c.want)
			}
		})
	}
}
