package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

const kustomizeDir = "kustomize"

// exampleSecrets are the files the example overlay's secretGenerator reads;
// git ignores them, so the tests write stand-ins.
var exampleSecrets = []string{"pagerduty-routing-key", "events-token"}

// kustomizeTree copies deploy/kustomize to a temporary directory, without
// any keys a developer keeps in the example's secrets/, and writes stand-in
// keys there when withKeys.
func kustomizeTree(t *testing.T, withKeys bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "kustomize")
	if err := os.CopyFS(dir, os.DirFS(kustomizeDir)); err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(dir, "overlays", "example", "secrets")
	for _, k := range exampleSecrets {
		os.Remove(filepath.Join(secrets, k))
		if withKeys {
			if err := os.WriteFile(filepath.Join(secrets, k), []byte(strings.Repeat("0", 32)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// kustomizeBuild is `kustomize build dir` (kubectl apply -k's), through
// kustomize's own API.
func kustomizeBuild(dir string) ([]byte, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

func TestKustomizationsBuildValidObjects(t *testing.T) {
	root := kustomizeTree(t, true)
	for _, c := range []struct {
		dir  string
		want install
	}{
		{"base", install{replicas: 1, externalSecret: "burnwatch-keys",
			kinds: []string{"ConfigMap", "NetworkPolicy", "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "StatefulSet"}}},
		{"overlays/example", install{replicas: 2, leaderElection: true, monitoring: true, secretKeys: exampleSecrets}},
	} {
		t.Run(c.dir, func(t *testing.T) {
			out, err := kustomizeBuild(filepath.Join(root, c.dir))
			if err != nil {
				t.Fatalf("kustomize build %s: %v", c.dir, err)
			}
			objs, err := decodeAll(c.dir, out)
			if err != nil {
				t.Fatal(err)
			}
			checkInstall(t, objs, c.want)
		})
	}
}

// The example overlay without its keys fails to build, naming the missing
// file, rather than deploying a burnwatch that cannot page.
func TestExampleOverlayNeedsItsKeys(t *testing.T) {
	root := kustomizeTree(t, false)
	_, err := kustomizeBuild(filepath.Join(root, "overlays", "example"))
	if err == nil || !strings.Contains(err.Error(), "pagerduty-routing-key") {
		t.Errorf("got %v, want an error naming secrets/pagerduty-routing-key", err)
	}
}
