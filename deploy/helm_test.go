package deploy

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

const chartDir = "helm/burnwatch"

// release is the install the tests render: `helm install burnwatch
// deploy/helm/burnwatch -n burnwatch`.
var release = common.ReleaseOptions{Name: "burnwatch", Namespace: "burnwatch", Revision: 1, IsInstall: true}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return ch
}

// render renders the chart as `helm install` would with these values over
// the chart's own: the values are checked against values.schema.json, and a
// template that reads a value that does not exist fails (strict).
func render(t *testing.T, ch *chart.Chart, values map[string]any) (map[string]string, error) {
	t.Helper()
	vals, err := util.ToRenderValuesWithSchemaValidation(ch, values, release, common.DefaultCapabilities, false)
	if err != nil {
		return nil, err
	}
	return engine.Engine{Strict: true}.Render(ch, vals)
}

// renderObjects renders and decodes every manifest strictly; NOTES.txt is
// rendered too, and must render.
func renderObjects(t *testing.T, ch *chart.Chart, values map[string]any) []object {
	t.Helper()
	out, err := render(t, ch, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	var objs []object
	for _, name := range slices.Sorted(maps.Keys(out)) {
		if !strings.HasSuffix(name, ".yaml") {
			if strings.HasSuffix(name, "NOTES.txt") && strings.TrimSpace(out[name]) == "" {
				t.Errorf("%s rendered empty", name)
			}
			continue
		}
		o, err := decodeAll(name, []byte(out[name]))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o...)
	}
	return objs
}

func readValues(t *testing.T, path string) map[string]any {
	t.Helper()
	v, err := common.ReadValuesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestChartRendersValidObjects(t *testing.T) {
	ch := loadChart(t)
	examples, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example values in %s/ci: %v", chartDir, err)
	}
	type chartCase struct {
		name   string
		values map[string]any
		want   install
	}
	cases := []chartCase{
		{"default values", nil, install{replicas: 1, kinds: []string{"ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "StatefulSet"}}},
		{"a Secret made from values", map[string]any{
			"secrets": map[string]any{"create": map[string]any{"pagerduty-routing-key": strings.Repeat("0", 32), "events-token": "t0ken"}},
			"config":  withPagerDuty(readValues(t, filepath.Join(chartDir, "values.yaml"))["config"]),
		}, install{replicas: 1, secretKeys: []string{"events-token", "pagerduty-routing-key"}}},
		{"one replica that keeps its lease", map[string]any{"leaderElection": map[string]any{"enabled": true}}, install{replicas: 1, leaderElection: true}},
	}
	for _, path := range examples {
		cases = append(cases, chartCase{path, readValues(t, path), install{replicas: 2, leaderElection: true, monitoring: true, externalSecret: "burnwatch-keys"}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := renderObjects(t, ch, c.values)
			checkInstall(t, objs, c.want)
		})
	}
}

// withPagerDuty adds a PagerDuty receiver and an events token to a config,
// reading both from the chart's Secret.
func withPagerDuty(config any) map[string]any {
	c := maps.Clone(config.(map[string]any))
	c["sources"] = []any{map[string]any{"name": "events", "events": map[string]any{"token_file": "/etc/burnwatch/secrets/events-token"}}}
	c["receivers"] = []any{map[string]any{"name": "oncall", "pagerduty": map[string]any{"routing_key_file": "/etc/burnwatch/secrets/pagerduty-routing-key"}}}
	c["routes"] = []any{map[string]any{"receiver": "oncall"}}
	return c
}

func TestChartRefusesWhatWouldBreakAnInstall(t *testing.T) {
	ch := loadChart(t)
	for _, c := range []struct {
		what   string
		values map[string]any
		want   string
	}{
		{"a misspelt value", map[string]any{"replicaCont": 2}, "replicaCont"},
		{"a misspelt nested value", map[string]any{"persistence": map[string]any{"sise": "1Gi"}}, "sise"},
		{"a value of the wrong type", map[string]any{"replicaCount": "two"}, "replicaCount"},
		{"two replicas without leader election", map[string]any{"replicaCount": 2}, "leaderElection.enabled"},
	} {
		t.Run(c.what, func(t *testing.T) {
			_, err := render(t, ch, c.values)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error naming %q", err, c.want)
			}
		})
	}
}
