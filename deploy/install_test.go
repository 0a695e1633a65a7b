package deploy

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/burnwatch/burnwatch/slo"
)

// Where the manifests put things, as docs/deploy.md describes them.
const (
	port        = 9099
	dataPath    = "/data"
	secretsPath = "/etc/burnwatch/secrets"
)

// install is what a rendered chart or a kustomize build must hold, beyond
// what every install holds.
type install struct {
	replicas       int32
	leaderElection bool     // the replicas elect a leader on a Lease
	monitoring     bool     // a ServiceMonitor and a PrometheusRule
	kinds          []string // when set, exactly the objects' kinds, sorted
	secretKeys     []string // the keys of the Secret the install makes, if it makes one
	externalSecret string   // a Secret the pods mount that the install does not make
}

// objects indexes an install's objects by type.
type objects struct {
	statefulSets    []*appsv1.StatefulSet
	services        []*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceAccounts map[string]*corev1.ServiceAccount
	roles           map[string]*rbacv1.Role
	roleBindings    []*rbacv1.RoleBinding
	pdbs            []*policyv1.PodDisruptionBudget
	netpols         []*networkingv1.NetworkPolicy
	serviceMonitors []*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	kinds           []string
}

func index(t *testing.T, objs []object) objects {
	t.Helper()
	o := objects{configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		serviceAccounts: map[string]*corev1.ServiceAccount{}, roles: map[string]*rbacv1.Role{}}
	for _, ob := range objs {
		meta, ok := ob.obj.(metav1.Object)
		if !ok {
			t.Fatalf("%s: %T has no metadata", ob.source, ob.obj)
		}
		if meta.GetLabels()["app.kubernetes.io/name"] != "burnwatch" {
			t.Errorf("%s: %s has no label app.kubernetes.io/name=burnwatch", ob.source, meta.GetName())
		}
		switch v := ob.obj.(type) {
		case *appsv1.StatefulSet:
			o.statefulSets = append(o.statefulSets, v)
		case *corev1.Service:
			o.services = append(o.services, v)
		case *corev1.ConfigMap:
			o.configMaps[v.Name] = v
		case *corev1.Secret:
			o.secrets[v.Name] = v
		case *corev1.ServiceAccount:
			o.serviceAccounts[v.Name] = v
		case *rbacv1.Role:
			o.roles[v.Name] = v
		case *rbacv1.RoleBinding:
			o.roleBindings = append(o.roleBindings, v)
		case *policyv1.PodDisruptionBudget:
			o.pdbs = append(o.pdbs, v)
		case *networkingv1.NetworkPolicy:
			o.netpols = append(o.netpols, v)
		case *monitoringv1.ServiceMonitor:
			o.serviceMonitors = append(o.serviceMonitors, v)
		case *monitoringv1.PrometheusRule:
			o.rules = append(o.rules, v)
		case *corev1.Namespace:
			// The example overlay makes its namespace.
		default:
			t.Errorf("%s: %T is a kind the checks don't know", ob.source, ob.obj)
		}
		o.kinds = append(o.kinds, ob.obj.GetObjectKind().GroupVersionKind().Kind)
	}
	slices.Sort(o.kinds)
	return o
}

// checkInstall checks that an install's objects fit together and run
// burnwatch as docs/deploy.md says: what a misspelt name, a selector that
// matches nothing or a config naming a missing secret would break, the API
// server would accept.
func checkInstall(t *testing.T, objs []object, want install) {
	t.Helper()
	o := index(t, objs)
	if want.kinds != nil && !slices.Equal(o.kinds, want.kinds) {
		t.Errorf("kinds %v, want %v", o.kinds, want.kinds)
	}
	if len(o.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(o.statefulSets))
	}
	sts := o.statefulSets[0]
	pod := sts.Spec.Template
	if got := ptrOr(sts.Spec.Replicas, 1); got != want.replicas {
		t.Errorf("replicas %d, want %d", got, want.replicas)
	}
	selects(t, "the StatefulSet", sts.Spec.Selector, pod.Labels)

	c := container(t, pod.Spec)
	checkSecurity(t, pod.Spec, c)
	checkProbes(t, c)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
	}
	if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && lim.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
		t.Errorf("memory limit %s under its request", lim.String())
	}
	if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		t.Errorf("a CPU limit: a throttled burnwatch pages late")
	}

	flags := checkArgs(t, c)
	mounts := checkVolumes(t, sts, c)
	if m := mounts[flags["--storage.path"]]; m.pvc == "" {
		t.Errorf("--storage.path=%s is not the mount of a PersistentVolumeClaim", flags["--storage.path"])
	}
	checkConfig(t, o, mounts, flags["--config"], want)
	checkLeaderElection(t, o, sts, c, flags, want.leaderElection)
	checkServices(t, o, sts, c)
	checkDisruptionAndNetwork(t, o, pod.Labels, want.leaderElection)
	checkMonitoring(t, o, want.monitoring)
	if want.secretKeys != nil {
		if len(o.secrets) != 1 {
			t.Fatalf("%d Secrets, want 1", len(o.secrets))
		}
		for _, s := range o.secrets {
			if got := secretKeys(s); !slices.Equal(got, slices.Sorted(slices.Values(want.secretKeys))) {
				t.Errorf("Secret %s has keys %v, want %v", s.Name, got, want.secretKeys)
			}
		}
	}
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// selects fails unless sel matches the pods' labels.
func selects(t *testing.T, what string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Errorf("%s: selector: %v", what, err)
		return
	}
	if s.Empty() || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s selects %v, which does not match the pods' labels %v", what, s, podLabels)
	}
}

func container(t *testing.T, spec corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(spec.Containers) != 1 || spec.Containers[0].Name != "burnwatch" {
		t.Fatalf("containers %v, want one named burnwatch", spec.Containers)
	}
	return spec.Containers[0]
}

func checkSecurity(t *testing.T, spec corev1.PodSpec, c corev1.Container) {
	t.Helper()
	psc := ptrOr(spec.SecurityContext, corev1.PodSecurityContext{})
	if !ptrOr(psc.RunAsNonRoot, false) || ptrOr(psc.RunAsUser, 0) == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", psc)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile %v, want RuntimeDefault", psc.SeccompProfile)
	}
	sc := ptrOr(c.SecurityContext, corev1.SecurityContext{})
	if !ptrOr(sc.ReadOnlyRootFilesystem, false) || ptrOr(sc.AllowPrivilegeEscalation, true) {
		t.Errorf("container securityContext: want readOnlyRootFilesystem and no privilege escalation")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities %+v, want all dropped and none added", sc.Capabilities)
	}
}

// checkProbes: liveness on /healthz, readiness on /readyz, both on the
// container's port 9099.
func checkProbes(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, p := range []struct {
		what, path string
		probe      *corev1.Probe
	}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", p.what)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || containerPort(c, p.probe.HTTPGet.Port) != port {
			t.Errorf("%s probe %s on %s, want %s on %d", p.what, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, port)
		}
	}
}

// containerPort resolves a port by name or number to the container's port
// number, or 0.
func containerPort(c corev1.Container, p intstr.IntOrString) int32 {
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort
		}
	}
	return 0
}

// checkArgs checks the command line and returns its flags.
func checkArgs(t *testing.T, c corev1.Container) map[string]string {
	t.Helper()
	if len(c.Command) > 0 {
		t.Errorf("command %v replaces the image's entrypoint; give args", c.Command)
	}
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %v, want serve and its flags", c.Args)
	}
	flags := map[string]string{}
	for _, a := range c.Args[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "--") {
			t.Errorf("arg %q: want --flag=value", a)
		}
		flags[k] = v
	}
	for k, v := range map[string]string{"--storage.path": dataPath, "--web.listen-address": fmt.Sprintf(":%d", port)} {
		if flags[k] != v {
			t.Errorf("%s=%q, want %q", k, flags[k], v)
		}
	}
	if flags["--config"] == "" {
		t.Errorf("no --config")
	}
	return flags
}

// mount is what a directory in the container holds.
type mount struct {
	configMap, secret, pvc string
	items                  bool // only some keys are projected
}

// checkVolumes checks that every mount names a volume and returns the
// mounts by path.
func checkVolumes(t *testing.T, sts *appsv1.StatefulSet, c corev1.Container) map[string]mount {
	t.Helper()
	vols := map[string]mount{}
	for _, v := range sts.Spec.Template.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			vols[v.Name] = mount{configMap: v.ConfigMap.Name, items: len(v.ConfigMap.Items) > 0}
		case v.Secret != nil:
			vols[v.Name] = mount{secret: v.Secret.SecretName, items: len(v.Secret.Items) > 0}
		default:
			vols[v.Name] = mount{}
		}
	}
	for _, pvc := range sts.Spec.VolumeClaimTemplates {
		if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
			t.Errorf("volumeClaimTemplate %s requests no storage", pvc.Name)
		}
		vols[pvc.Name] = mount{pvc: pvc.Name}
	}
	mounts := map[string]mount{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			t.Errorf("volumeMount %s at %s names no volume", m.Name, m.MountPath)
		}
		if m.SubPath != "" {
			t.Errorf("volumeMount %s uses subPath: a subPath mount never sees a new config or key", m.Name)
		}
		mounts[m.MountPath] = v
	}
	return mounts
}

// checkConfig validates the config the pods read with burnwatch's own
// loader, and checks that every file it names (keys, tokens) is a key of a
// mounted Secret or ConfigMap.
func checkConfig(t *testing.T, o objects, mounts map[string]mount, configPath string, want install) {
	t.Helper()
	m := mounts[path.Dir(configPath)]
	cm, ok := o.configMaps[m.configMap]
	if !ok {
		t.Fatalf("--config=%s: its directory is not the mount of a ConfigMap of the install", configPath)
	}
	data, ok := cm.Data[path.Base(configPath)]
	if !ok {
		t.Fatalf("--config=%s: ConfigMap %s has no key %s", configPath, cm.Name, path.Base(configPath))
	}
	if _, err := slo.Parse(configPath, []byte(data)); err != nil {
		t.Fatalf("the config in ConfigMap %s:\n%v", cm.Name, err)
	}
	var doc any
	if err := yaml.Unmarshal([]byte(data), &doc); err != nil {
		t.Fatal(err)
	}
	for _, file := range filesNamed(doc) {
		m, ok := mounts[path.Dir(file)]
		switch {
		case !ok:
			t.Errorf("the config reads %s, which no volume provides", file)
		case m.secret != "":
			s, made := o.secrets[m.secret]
			switch {
			case made && !slices.Contains(secretKeys(s), path.Base(file)):
				t.Errorf("the config reads %s, but Secret %s has no key %s", file, s.Name, path.Base(file))
			case !made && m.secret != want.externalSecret:
				t.Errorf("the config reads %s from Secret %s, which the install neither makes nor expects", file, m.secret)
			}
		case m.configMap != "":
			if _, ok := o.configMaps[m.configMap].Data[path.Base(file)]; !ok {
				t.Errorf("the config reads %s, but ConfigMap %s has no key %s", file, m.configMap, path.Base(file))
			}
		}
	}
	if want.externalSecret != "" && !slices.ContainsFunc(slices.Collect(maps.Values(mounts)), func(m mount) bool { return m.secret == want.externalSecret }) {
		t.Errorf("Secret %s is not mounted", want.externalSecret)
	}
}

// filesNamed returns the values of every key ending in _file: the files a
// burnwatch config reads its secrets from.
func filesNamed(doc any) []string {
	var files []string
	switch v := doc.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(k, "_file") {
				files = append(files, s)
			}
			files = append(files, filesNamed(x)...)
		}
	case []any:
		for _, x := range v {
			files = append(files, filesNamed(x)...)
		}
	}
	slices.Sort(files)
	return files
}

func secretKeys(s *corev1.Secret) []string {
	var keys []string
	for k := range s.Data {
		keys = append(keys, k)
	}
	for k := range s.StringData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkLeaderElection: with an election, both flags, the pod's name and
// namespace from the downward API, a token to reach the API, and a Role that
// grants exactly what client-go's Lease lock does, bound to the pods'
// ServiceAccount; without one, none of it.
func checkLeaderElection(t *testing.T, o objects, sts *appsv1.StatefulSet, c corev1.Container, flags map[string]string, want bool) {
	t.Helper()
	spec := sts.Spec.Template.Spec
	sa := spec.ServiceAccountName
	if sa != "" && sa != "default" && o.serviceAccounts[sa] == nil {
		t.Errorf("serviceAccountName %s: no such ServiceAccount in the install", sa)
	}
	lease, ok := flags["--ha.lease-name"]
	if !want {
		if ok || flags["--ha.lease-namespace"] != "" || len(o.roles) > 0 || len(o.roleBindings) > 0 {
			t.Errorf("no leader election wanted, but flags %v and %d Roles", flags, len(o.roles))
		}
		if ptrOr(spec.AutomountServiceAccountToken, true) {
			t.Errorf("the pods get an API token they have no use for")
		}
		return
	}
	if lease == "" || flags["--ha.lease-namespace"] != "$(POD_NAMESPACE)" {
		t.Errorf("--ha.lease-name=%q --ha.lease-namespace=%q, want a name and $(POD_NAMESPACE)", lease, flags["--ha.lease-namespace"])
	}
	for name, field := range map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"} {
		i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
		if i < 0 || c.Env[i].ValueFrom == nil || c.Env[i].ValueFrom.FieldRef == nil || c.Env[i].ValueFrom.FieldRef.FieldPath != field {
			t.Errorf("no env %s from the downward API's %s", name, field)
		}
	}
	if !ptrOr(spec.AutomountServiceAccountToken, true) || (o.serviceAccounts[sa] != nil && !ptrOr(o.serviceAccounts[sa].AutomountServiceAccountToken, true)) {
		t.Errorf("leader election needs the ServiceAccount's token mounted")
	}
	if len(o.roleBindings) != 1 {
		t.Fatalf("%d RoleBindings, want 1", len(o.roleBindings))
	}
	rb := o.roleBindings[0]
	if len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != sa {
		t.Errorf("RoleBinding %s binds %v, want ServiceAccount %s", rb.Name, rb.Subjects, sa)
	}
	role := o.roles[rb.RoleRef.Name]
	if rb.RoleRef.Kind != "Role" || role == nil {
		t.Fatalf("RoleBinding %s refers to %s %s, not a Role of the install", rb.Name, rb.RoleRef.Kind, rb.RoleRef.Name)
	}
	want2 := []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{lease}, Verbs: []string{"get", "update"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"create"}},
	}
	if fmt.Sprint(role.Rules) != fmt.Sprint(want2) {
		t.Errorf("Role %s grants\n%v\nwant\n%v", role.Name, role.Rules, want2)
	}
}

// checkServices: every Service selects the pods and targets a port the
// container has; the StatefulSet's governing Service is headless.
func checkServices(t *testing.T, o objects, sts *appsv1.StatefulSet, c corev1.Container) {
	t.Helper()
	governing := false
	for _, s := range o.services {
		selects(t, "Service "+s.Name, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, sts.Spec.Template.Labels)
		for _, p := range s.Spec.Ports {
			if containerPort(c, p.TargetPort) == 0 {
				t.Errorf("Service %s port %s targets %s, which the container does not have", s.Name, p.Name, p.TargetPort.String())
			}
		}
		if s.Name == sts.Spec.ServiceName {
			governing = s.Spec.ClusterIP == corev1.ClusterIPNone
		}
	}
	if !governing {
		t.Errorf("serviceName %s is not a headless Service of the install", sts.Spec.ServiceName)
	}
}

func checkDisruptionAndNetwork(t *testing.T, o objects, podLabels map[string]string, leaderElection bool) {
	t.Helper()
	if len(o.pdbs) != 1 {
		t.Errorf("%d PodDisruptionBudgets, want 1", len(o.pdbs))
	}
	for _, p := range o.pdbs {
		selects(t, "PodDisruptionBudget "+p.Name, p.Spec.Selector, podLabels)
		if p.Spec.MinAvailable != nil || p.Spec.MaxUnavailable == nil || p.Spec.MaxUnavailable.IntValue() != 1 {
			t.Errorf("PodDisruptionBudget %s: want maxUnavailable 1, which never blocks a drain and never takes both replicas", p.Name)
		}
	}
	if len(o.netpols) != 1 {
		t.Fatalf("%d NetworkPolicies, want 1", len(o.netpols))
	}
	np := o.netpols[0]
	selects(t, "NetworkPolicy "+np.Name, &np.Spec.PodSelector, podLabels)
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("NetworkPolicy %s: policyTypes %v, want Ingress and Egress", np.Name, np.Spec.PolicyTypes)
	}
	in := func(port int32, rules []networkingv1.NetworkPolicyPort) bool {
		return slices.ContainsFunc(rules, func(p networkingv1.NetworkPolicyPort) bool {
			return p.Port != nil && (p.Port.IntVal == port || (p.Port.Type == intstr.String && p.Port.StrVal == "http" && port == 9099))
		})
	}
	var ingress, egress []networkingv1.NetworkPolicyPort
	for _, r := range np.Spec.Ingress {
		ingress = append(ingress, r.Ports...)
	}
	for _, r := range np.Spec.Egress {
		egress = append(egress, r.Ports...)
	}
	if !in(port, ingress) {
		t.Errorf("NetworkPolicy %s does not admit port %d", np.Name, port)
	}
	needs := []int32{53, 443} // DNS; PagerDuty, and the Kubernetes API on most clusters
	for _, p := range needs {
		if !in(p, egress) {
			t.Errorf("NetworkPolicy %s does not let burnwatch reach port %d", np.Name, p)
		}
	}
	if leaderElection && !in(6443, egress) {
		t.Errorf("NetworkPolicy %s does not let burnwatch reach the API server on 6443", np.Name)
	}
}

// checkMonitoring: the ServiceMonitor scrapes one Service (two would
// scrape each pod twice), the headless one that publishes replicas not yet
// ready (a replica backfilling must be watched too), as job burnwatch; and
// the PrometheusRule holds deploy/rules' rules.
func checkMonitoring(t *testing.T, o objects, want bool) {
	t.Helper()
	if !want {
		if len(o.serviceMonitors)+len(o.rules) > 0 {
			t.Errorf("%d ServiceMonitors and %d PrometheusRules, want none", len(o.serviceMonitors), len(o.rules))
		}
		return
	}
	if len(o.serviceMonitors) != 1 || len(o.rules) != 1 {
		t.Fatalf("%d ServiceMonitors and %d PrometheusRules, want one of each", len(o.serviceMonitors), len(o.rules))
	}
	sm := o.serviceMonitors[0]
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	var scraped []*corev1.Service
	for _, s := range o.services {
		if sel.Matches(labels.Set(s.Labels)) {
			scraped = append(scraped, s)
		}
	}
	if len(scraped) != 1 || !scraped[0].Spec.PublishNotReadyAddresses {
		t.Fatalf("ServiceMonitor %s selects %d Services, want the one that publishes replicas not ready", sm.Name, len(scraped))
	}
	for _, ep := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(scraped[0].Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == ep.Port }) {
			t.Errorf("ServiceMonitor %s scrapes port %q, which Service %s does not name", sm.Name, ep.Port, scraped[0].Name)
		}
		if ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor %s scrapes %s, want /metrics", sm.Name, ep.Path)
		}
		if !slices.ContainsFunc(ep.RelabelConfigs, func(r monitoringv1.RelabelConfig) bool {
			return r.TargetLabel == "job" && ptrOr(r.Replacement, "") == "burnwatch"
		}) {
			t.Errorf("ServiceMonitor %s does not label its targets job=burnwatch, which the rules and the dashboard select", sm.Name)
		}
	}
	checkPrometheusRule(t, o.rules[0])
}
