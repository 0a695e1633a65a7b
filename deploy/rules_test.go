package deploy

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/burnwatch/burnwatch/internal/testserver"
)

var update = flag.Bool("update", false, "rewrite the copies of rules/burnwatch.rules.yml in the chart and the kustomize component")

const (
	rulesFile     = "rules/burnwatch.rules.yml"
	rulesTestFile = "rules/burnwatch.rules_test.yml"
	// The rules' copies: the chart reads its own with .Files.Get (a chart
	// cannot reach outside its directory), and kustomize cannot wrap a
	// file in a PrometheusRule.
	chartRulesFile     = "helm/burnwatch/files/burnwatch.rules.yml"
	kustomizeRulesFile = "kustomize/components/monitoring/prometheusrule.yaml"
	deployDoc          = "../docs/deploy.md"
	// promtoolTimeout bounds one promtool run; checking and testing these
	// rules takes well under a second.
	promtoolTimeout = time.Minute
)

// promql parses expressions as the Prometheus that runs the rules does.
var promql = parser.NewParser(parser.Options{})

func parseRules(t *testing.T) *rulefmt.RuleGroups {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.LegacyValidation, promql, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", rulesFile, errs)
	}
	return groups
}

// TestRulesAreSoundAndDocumented: every alert has a severity that says who
// is woken, a summary, a runbook_url that is a heading of docs/deploy.md,
// and a unit test; every metric it reads is one burnwatch exports.
func TestRulesAreSoundAndDocumented(t *testing.T) {
	groups := parseRules(t)
	doc, err := os.ReadFile(deployDoc)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(rulesTestFile)
	if err != nil {
		t.Fatal(err)
	}
	exported := exportedMetrics(t)
	n := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("%s: a recording rule (%s); the rules file is for alerts", rulesFile, r.Record)
				continue
			}
			n++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical (pages) or warning", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: no summary or description", r.Alert)
			}
			anchor := strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != "https://github.com/burnwatch/burnwatch/blob/main/docs/deploy.md#"+anchor {
				t.Errorf("%s: runbook_url %q, want docs/deploy.md#%s", r.Alert, r.Annotations["runbook_url"], anchor)
			}
			if !regexp.MustCompile(`(?m)^#+ ` + r.Alert + `$`).Match(doc) {
				t.Errorf("%s: docs/deploy.md has no heading %q to explain it", r.Alert, r.Alert)
			}
			if !bytes.Contains(tests, []byte("alertname: "+r.Alert+"\n")) {
				t.Errorf("%s: no case in %s", r.Alert, rulesTestFile)
			}
			checkMetricsExported(t, r.Alert, r.Expr, exported)
		}
	}
	if n == 0 {
		t.Fatal("no alerts")
	}
}

// TestRulesPassPromtool runs `promtool check rules` and the unit tests of
// `promtool test rules`, when promtool is installed (Debian's prometheus
// package); with BURNWATCH_INTEGRATION=required a missing promtool fails.
func TestRulesPassPromtool(t *testing.T) {
	promtool := testserver.LookPath(t, "prometheus", "promtool")
	for _, args := range [][]string{{"check", "rules", rulesFile}, {"test", "rules", rulesTestFile}} {
		ctx, cancel := context.WithTimeout(context.Background(), promtoolTimeout)
		out, err := exec.CommandContext(ctx, promtool, args...).CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestRulesCopiesAreTheRules: the chart's copy is the file, byte for byte;
// the kustomize component's PrometheusRule is the file under spec. -update
// rewrites both.
func TestRulesCopiesAreTheRules(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{chartRulesFile: rules, kustomizeRulesFile: prometheusRuleYAML(rules)} {
		if *update {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not %s: run go test ./deploy -run RulesCopies -update", file, rulesFile)
		}
	}
}

// prometheusRuleYAML wraps the rules file, its comments kept, in a
// PrometheusRule: the file's header comment gives way to the object's.
func prometheusRuleYAML(rules []byte) []byte {
	var b bytes.Buffer
	b.WriteString(`# Generated from deploy/rules/burnwatch.rules.yml by
# go test ./deploy -run RulesCopies -update: edit that file, not this one.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: burnwatch
spec:
`)
	lines := strings.SplitAfter(string(rules), "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
		lines = lines[1:]
	}
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString("  ")
		}
		b.WriteString(l)
	}
	return b.Bytes()
}

// checkPrometheusRule checks that a rendered PrometheusRule holds the rules
// of the rules file, field by field.
func checkPrometheusRule(t *testing.T, pr *monitoringv1.PrometheusRule) {
	t.Helper()
	want := parseRules(t)
	var got rulefmt.RuleGroups
	for _, g := range pr.Spec.Groups {
		rg := rulefmt.RuleGroup{Name: g.Name, Labels: g.Labels}
		for _, r := range g.Rules {
			rule := rulefmt.Rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr.String(), Labels: r.Labels, Annotations: r.Annotations}
			if r.For != nil {
				d, err := model.ParseDuration(string(*r.For))
				if err != nil {
					t.Errorf("PrometheusRule %s: %s: for: %v", pr.Name, r.Alert, err)
				}
				rule.For = d
			}
			rg.Rules = append(rg.Rules, rule)
		}
		got.Groups = append(got.Groups, rg)
	}
	if g, w := yamlString(t, got), yamlString(t, want); g != w {
		t.Errorf("PrometheusRule %s holds\n%s\nwant the rules of %s:\n%s", pr.Name, g, rulesFile, w)
	}
}

func yamlString(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkMetricsExported fails for each of exprProblems.
func checkMetricsExported(t *testing.T, where, expr string, exported map[string]bool) {
	t.Helper()
	for _, p := range exprProblems(expr, exported) {
		t.Errorf("%s: %s", where, p)
	}
}

// exprProblems parses a PromQL expression and says what is wrong with it:
// that it does not parse, or each metric it selects that burnwatch does not
// export.
func exprProblems(expr string, exported map[string]bool) []string {
	e, err := promql.ParseExpr(expr)
	if err != nil {
		return []string{fmt.Sprintf("%q: %v", expr, err)}
	}
	var problems []string
	for _, name := range metricNames(e) {
		if !exported[name] {
			problems = append(problems, name+" is not a metric burnwatch exports")
		}
	}
	return problems
}

// metricNames returns the metric names an expression selects.
func metricNames(e parser.Expr) []string {
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == model.MetricNameLabel {
					name = m.Value
				}
			}
			if name == "" {
				names = append(names, fmt.Sprintf("(a selector without a metric name: %s)", vs))
			} else if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
		return nil
	})
	return names
}
