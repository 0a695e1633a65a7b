package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// scheme knows exactly the kinds burnwatch's manifests may hold: an object of
// any other kind fails to decode, as a misspelt kind or apiVersion should.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, rbacv1.AddToScheme, policyv1.AddToScheme,
		networkingv1.AddToScheme, monitoringv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict decodes YAML or JSON into the registered Go types, failing on a
// field the type does not have and on a key given twice.
var strict = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// object is one decoded manifest and where it came from.
type object struct {
	source string // the file, or the template, and the document's index
	obj    runtime.Object
}

// decodeAll splits a multi-document YAML stream and decodes every document
// strictly; documents holding only comments or white space are skipped, as
// kubectl and Helm skip them.
func decodeAll(source string, data []byte) ([]object, error) {
	var objs []object
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: splitting documents: %w", source, err)
		}
		var probe map[string]any
		if err := sigsyaml.Unmarshal(doc, &probe); err != nil {
			return nil, fmt.Errorf("%s#%d: %w", source, i, err)
		}
		if len(probe) == 0 {
			continue
		}
		obj, _, err := strict.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("%s#%d (%v %v): %w", source, i, probe["kind"], name(probe), err)
		}
		objs = append(objs, object{source: fmt.Sprintf("%s#%d", source, i), obj: obj})
	}
}

func name(m map[string]any) any {
	if md, ok := m["metadata"].(map[string]any); ok {
		return md["name"]
	}
	return nil
}

func TestStrictDecodingRejectsAMisspeltField(t *testing.T) {
	const good = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: burnwatch}
spec:
  replicas: 2
  selector: {matchLabels: {app: burnwatch}}
  template:
    metadata: {labels: {app: burnwatch}}
    spec:
      containers:
        - name: burnwatch
          image: burnwatch
          readinessProbe: {httpGet: {path: /readyz, port: 9099}}
`
	if objs, err := decodeAll("good", []byte(good)); err != nil || len(objs) != 1 {
		t.Fatalf("a correct StatefulSet: got %d objects, %v", len(objs), err)
	}
	for _, c := range []struct{ what, from, to string }{
		{"a misspelt top-level field of the spec", "replicas: 2", "replicsa: 2"},
		{"a misspelt field deep in a container", "readinessProbe:", "readynessProbe:"},
		{"a misspelt field of a probe", "httpGet:", "httpget:"},
		{"a field given twice", "replicas: 2", "replicas: 2\n  replicas: 3"},
		{"a kind no manifest should hold", "kind: StatefulSet", "kind: StatefulSett"},
	} {
		t.Run(c.what, func(t *testing.T) {
			bad := strings.Replace(good, c.from, c.to, 1)
			if _, err := decodeAll("bad", []byte(bad)); err == nil {
				t.Errorf("decoded without error:\n%s", bad)
			}
		})
	}
	// A typo in a ServiceMonitor, a type from the Prometheus operator.
	const sm = `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: burnwatch}
spec:
  selector: {matchLabels: {app: burnwatch}}
  endpoints: [{port: http, intervall: 30s}]
`
	if _, err := decodeAll("servicemonitor", []byte(sm)); err == nil || !strings.Contains(err.Error(), "intervall") {
		t.Errorf("a misspelt ServiceMonitor field: got %v, want an error naming it", err)
	}
}
