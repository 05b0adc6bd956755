package charttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
	"github.com/quantum-resonance/telemetry/tooltest"
)

const (
	root      = "../../.."
	chartDir  = "../resonance-telemetry"
	release   = "rel"
	namespace = "monitoring"
)

// The daemons as the chart runs them: each reads its config from
// /etc/<daemon>/<component>.yml and keeps state in /var/lib/<daemon>.
var components = map[string]struct {
	daemon, cmd, port, job string
}{
	"exporter": {"resonance-exporter", "./cmd/resonance-exporter", "9861", "resonance"},
	"relay":    {"resonance-relay", "./cmd/resonance-relay", "9862", "resonance-relay"},
}

// rendered is one `helm template` output, decoded.
type rendered struct {
	deployments     map[string]*appsv1.Deployment
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceMonitors map[string]*monitoringv1.ServiceMonitor
	rules           []*monitoringv1.PrometheusRule
	pvcs            map[string]*corev1.PersistentVolumeClaim
	amConfigs       []*monitoringv1alpha1.AlertmanagerConfig
	netPols         map[string]*networkingv1.NetworkPolicy
	cronJobs        map[string]*batchv1.CronJob
	kinds           map[string]int
}

// operatorAPIs are the --api-versions of a cluster running prometheus-operator.
var operatorAPIs = []string{"--api-versions", "monitoring.coreos.com/v1", "--api-versions", "monitoring.coreos.com/v1alpha1"}

// render runs `helm template` with the values files on a cluster that
// serves the prometheus-operator APIs.
func render(t *testing.T, valuesFiles ...string) *rendered {
	t.Helper()
	args := slices.Clone(operatorAPIs)
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	return renderArgs(t, args...)
}

// helmTemplate runs `helm template` of the chart with extra arguments.
func helmTemplate(t *testing.T, extra ...string) (stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	args := append([]string{"template", release, chartDir, "--namespace", namespace}, extra...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd := exec.Command(tooltest.Path(t, "helm"), args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return stdout, stderr, fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout, stderr, nil
}

// renderArgs renders with these helm arguments and decodes every document.
func renderArgs(t *testing.T, args ...string) *rendered {
	t.Helper()
	stdout, stderr, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	// files/ holds copies, not symlinks: helm warns on every command about
	// a symlink in the chart.
	if strings.Contains(stderr.String(), "symbolic link") {
		t.Errorf("helm warns about symlinks in the chart:\n%s", stderr)
	}
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, services: map[string]*corev1.Service{},
		configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		serviceMonitors: map[string]*monitoringv1.ServiceMonitor{}, kinds: map[string]int{},
		netPols: map[string]*networkingv1.NetworkPolicy{}, cronJobs: map[string]*batchv1.CronJob{},
		pvcs: map[string]*corev1.PersistentVolumeClaim{},
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(stdout))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		r.kinds[tm.Kind]++
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 Deployment":
			d := &appsv1.Deployment{}
			obj, r.deployments[component(t, d, doc)] = d, d
		case "v1 Service":
			s := &corev1.Service{}
			obj, r.services[component(t, s, doc)] = s, s
		case "v1 ConfigMap":
			c := &corev1.ConfigMap{}
			strict(t, doc, c)
			obj, r.configMaps[c.Name] = c, c
		case "v1 Secret":
			s := &corev1.Secret{}
			strict(t, doc, s)
			obj, r.secrets[s.Name] = s, s
		case "monitoring.coreos.com/v1 ServiceMonitor":
			s := &monitoringv1.ServiceMonitor{}
			obj, r.serviceMonitors[component(t, s, doc)] = s, s
		case "monitoring.coreos.com/v1 PrometheusRule":
			p := &monitoringv1.PrometheusRule{}
			obj, r.rules = p, append(r.rules, p)
		case "v1 PersistentVolumeClaim":
			c := &corev1.PersistentVolumeClaim{}
			strict(t, doc, c)
			obj, r.pvcs[c.Name] = c, c
		case "monitoring.coreos.com/v1alpha1 AlertmanagerConfig":
			a := &monitoringv1alpha1.AlertmanagerConfig{}
			obj, r.amConfigs = a, append(r.amConfigs, a)
		case "networking.k8s.io/v1 NetworkPolicy":
			n := &networkingv1.NetworkPolicy{}
			obj, r.netPols[component(t, n, doc)] = n, n
		case "batch/v1 CronJob":
			c := &batchv1.CronJob{}
			strict(t, doc, c)
			obj, r.cronJobs[strings.TrimPrefix(c.Name, release+"-resonance-telemetry-ritual-")] = c, c
		default:
			t.Fatalf("unexpected document %s %s:\n%s", tm.APIVersion, tm.Kind, doc)
		}
		strict(t, doc, obj)
		if m := obj.(metav1.Object); m.GetNamespace() != namespace {
			t.Errorf("%s %s: namespace %q, want the release's %q", tm.Kind, m.GetName(), m.GetNamespace(), namespace)
		}
	}
	return r
}

// strict decodes like the API server's strict field validation: an unknown
// or duplicated field fails.
func strict(t *testing.T, doc []byte, obj any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("strict decoding into %T: %v\n%s", obj, err, doc)
	}
}

func component(t *testing.T, obj metav1.Object, doc []byte) string {
	t.Helper()
	strict(t, doc, obj)
	c := obj.GetLabels()["app.kubernetes.io/component"]
	if _, ok := components[c]; !ok {
		t.Fatalf("%s: component label %q", obj.GetName(), c)
	}
	return c
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

func TestDefaultValues(t *testing.T) {
	r := render(t)
	want := map[string]int{"Deployment": 2, "Service": 2, "ServiceMonitor": 2, "PrometheusRule": 1,
		"PersistentVolumeClaim": 1, "CronJob": 4, "ConfigMap": 3 + len(dashboardFiles(t))}
	if !maps.Equal(r.kinds, want) {
		t.Errorf("kinds %v, want %v (no Secret or AlertmanagerConfig by default)", r.kinds, want)
	}
	checkWorkloads(t, r)
	checkPrometheusRule(t, r)
	checkDashboards(t, r)
	checkRituals(t, r)
	for c := range components {
		// Without secret.create the pods mount the Secret the README tells
		// the operator to create.
		if got, want := projectedSecret(t, r.deployments[c]), release+"-resonance-telemetry-"+c; got != want {
			t.Errorf("%s mounts Secret %q, want %q", c, got, want)
		}
		if got := *r.deployments[c].Spec.Replicas; got != 1 {
			t.Errorf("%s replicas %d", c, got)
		}
	}
}

func TestFullValues(t *testing.T) {
	r := render(t, filepath.Join(chartDir, "ci", "full-values.yaml"))
	want := map[string]int{"Deployment": 2, "Service": 2, "ServiceMonitor": 2, "PrometheusRule": 1,
		"PersistentVolumeClaim": 1, "AlertmanagerConfig": 1, "Secret": 2,
		"NetworkPolicy": 2, "CronJob": 4, "ConfigMap": 3 + len(dashboardFiles(t))}
	if !maps.Equal(r.kinds, want) {
		t.Errorf("kinds %v, want %v", r.kinds, want)
	}
	checkWorkloads(t, r)
	checkPrometheusRule(t, r)
	checkDashboards(t, r)
	for c := range components {
		d := r.deployments[c]
		// The exporter's wallet cursor on the claim full-values names,
		// the relay's message store on the chart's claim.
		if state := volume(t, d, "state"); state.PersistentVolumeClaim == nil {
			t.Errorf("%s: state volume %+v", c, state.VolumeSource)
		}
		if _, ok := r.secrets[projectedSecret(t, d)]; !ok {
			t.Errorf("%s mounts Secret %q, which the chart does not render", c, projectedSecret(t, d))
		}
		// Every label the Prometheus selects objects by is there.
		if r.serviceMonitors[c].Labels["release"] != "kube-prometheus-stack" {
			t.Errorf("%s ServiceMonitor lacks monitoringLabels: %v", c, r.serviceMonitors[c].Labels)
		}
	}
	pvc := r.pvcs[release+"-resonance-telemetry-relay-state"]
	if pvc == nil || pvc.Spec.StorageClassName == nil || *pvc.Spec.StorageClassName != "fast-ssd" || pvc.Spec.Resources.Requests.Storage().String() != "128Mi" {
		t.Errorf("relay PersistentVolumeClaim %+v, want full-values' class fast-ssd and 128Mi", pvc)
	}
	checkAlertmanagerConfig(t, r)
	checkNetworkPolicies(t, r)
	checkRituals(t, r)

	// The exporter behind TLS and basic auth: full-values sets every
	// ServiceMonitor knob, and the probes follow the scheme.
	ep := r.serviceMonitors["exporter"].Spec.Endpoints[0]
	if ep.Scheme == nil || ep.Scheme.String() != "https" || ep.TLSConfig == nil || ep.TLSConfig.ServerName == nil ||
		ep.BasicAuth == nil || ep.BasicAuth.Username.Name == "" || len(ep.RelabelConfigs) != 1 || len(ep.MetricRelabelConfigs) != 1 {
		t.Errorf("exporter ServiceMonitor endpoint lacks the knobs of full-values: %+v", ep)
	}
	ctr := r.deployments["exporter"].Spec.Template.Spec.Containers[0]
	if ctr.LivenessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS || ctr.ReadinessProbe.HTTPGet.Scheme != corev1.URISchemeHTTPS {
		t.Errorf("exporter probes %s/%s, want HTTPS like its ServiceMonitor", ctr.LivenessProbe.HTTPGet.Scheme, ctr.ReadinessProbe.HTTPGet.Scheme)
	}
	if ep := r.serviceMonitors["relay"].Spec.Endpoints[0]; ep.Scheme == nil || ep.Scheme.String() != "http" || ep.TLSConfig != nil || ep.BasicAuth != nil {
		t.Errorf("relay ServiceMonitor endpoint %+v, want plain http", ep)
	}
}

// checkNetworkPolicies: each daemon's pods take ingress on their port only,
// from Prometheus and from their one client (the app for the exporter's
// ingest API, Alertmanager for the relay's webhook), and no rule lets every
// source in.
func checkNetworkPolicies(t *testing.T, r *rendered) {
	client := map[string]string{"exporter": "quantum-resonance-api", "relay": "alertmanager"}
	for c, want := range components {
		np := r.netPols[c]
		if np == nil {
			t.Errorf("no NetworkPolicy for the %s", c)
			continue
		}
		if !selects(&np.Spec.PodSelector, r.deployments[c].Spec.Template.Labels) {
			t.Errorf("%s: NetworkPolicy selects %v, not the pods", c, np.Spec.PodSelector)
		}
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) {
			t.Errorf("%s: policyTypes %v, want [Ingress]", c, np.Spec.PolicyTypes)
		}
		var from []string
		for _, rule := range np.Spec.Ingress {
			if len(rule.From) == 0 {
				t.Errorf("%s: an ingress rule without from lets every pod in: %+v", c, rule)
			}
			if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.String() != want.port {
				t.Errorf("%s: ingress ports %+v, want only %s", c, rule.Ports, want.port)
			}
			for _, peer := range rule.From {
				if peer.PodSelector == nil || len(peer.PodSelector.MatchLabels) == 0 || peer.IPBlock != nil {
					t.Errorf("%s: peer %+v, want pods by label", c, peer)
					continue
				}
				from = append(from, peer.PodSelector.MatchLabels["app.kubernetes.io/name"])
			}
		}
		if wantFrom := []string{"prometheus", client[c]}; !slices.Equal(from, wantFrom) {
			t.Errorf("%s: ingress from %v, want %v", c, from, wantFrom)
		}
	}
}

// The schema refuses what would render a broken object.
func TestSchemaRefusesBadValues(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"relay.replicas=abc", "/relay/replicas"},
		// Two relays would not share their message stores (TestRelayIsOneProcessWithItsStoreOnAVolume).
		{"relay.replicas=2", "/relay/replicas"},
		{"relay.autoscaling.enabled=true", "autoscaling"},
		{"relay.persistence.size=lots", "/relay/persistence/size"},
		{"exporter.port=http", "/exporter/port"},
		{"relay.replica=3", "replica"},
		{"exporter.serviceMonitor.scheme=ftp", "/exporter/serviceMonitor/scheme"},
		{"networkPolicy.enabled=yes", "/networkPolicy/enabled"},
	} {
		_, _, err := helmTemplate(t, "--set", tc.set)
		if err == nil || !strings.Contains(err.Error(), "schema") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: %v, want a schema error at %s", tc.set, err, tc.want)
		}
	}
	// A NetworkPolicy rule with no peers would let everybody in.
	if _, _, err := helmTemplate(t, "--set", "networkPolicy.enabled=true", "--set", "networkPolicy.app=null"); err == nil {
		t.Error("networkPolicy.app=null rendered")
	}
	if _, _, err := helmTemplate(t, "--set", "relay.replicas=0"); err != nil {
		t.Error(err)
	}
}

// The relay's state volume: the chart's claim by default, the operator's
// claim with existingClaim, an emptyDir with persistence off; and a
// relay.config of one's own must keep its message store on that volume.
func TestRelayStateVolumeFollowsPersistence(t *testing.T) {
	const claim = release + "-resonance-telemetry-relay-state"
	for _, tc := range []struct {
		set       []string
		claimName string // "": an emptyDir
		pvc       bool
	}{
		{nil, claim, true},
		{[]string{"relay.persistence.existingClaim=relay-store"}, "relay-store", false},
		{[]string{"relay.persistence.enabled=false"}, "", false},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		r := renderArgs(t, args...)
		state := volume(t, r.deployments["relay"], "state")
		if got := state.PersistentVolumeClaim; tc.claimName == "" && (got != nil || state.EmptyDir == nil) || tc.claimName != "" && (got == nil || got.ClaimName != tc.claimName) {
			t.Errorf("%v: state volume %+v, want claim %q", tc.set, state.VolumeSource, tc.claimName)
		}
		if _, ok := r.pvcs[claim]; ok != tc.pvc {
			t.Errorf("%v: the chart's PersistentVolumeClaim rendered %v, want %v", tc.set, ok, tc.pvc)
		}
	}
	if _, _, err := helmTemplate(t, "--set", "relay.config.targets[0].name=discord", "--set", "relay.config.targets[0].type=discord"); err == nil ||
		!strings.Contains(err.Error(), "delivery.messages_file") || !strings.Contains(err.Error(), "/var/lib/resonance-relay/") {
		t.Errorf("relay.config without messages_file: %v, want a render error naming the state directory", err)
	}
	if _, _, err := helmTemplate(t, "--set", "relay.config.delivery.messages_file=/var/lib/resonance-relay/m.json", "--set", "relay.config.targets[0].name=hub", "--set", "relay.config.targets[0].type=hub"); err != nil {
		t.Errorf("relay.config with its store on the volume: %v", err)
	}
}

// The prometheus-operator objects need the cluster to serve their API,
// unless prometheusOperator.requireAPI is false.
func TestOperatorObjectsNeedTheirAPI(t *testing.T) {
	operatorKinds := func(r *rendered) [3]int {
		return [3]int{r.kinds["ServiceMonitor"], r.kinds["PrometheusRule"], r.kinds["AlertmanagerConfig"]}
	}
	amc := []string{"--set", "alertmanagerConfig.enabled=true"}
	for _, tc := range []struct {
		name string
		args []string
		want [3]int
	}{
		{"no operator", amc, [3]int{0, 0, 0}},
		{"v1 only", append([]string{"--api-versions", "monitoring.coreos.com/v1"}, amc...), [3]int{2, 1, 0}},
		{"v1 and v1alpha1", append(slices.Clone(operatorAPIs), amc...), [3]int{2, 1, 1}},
		{"requireAPI false", append([]string{"--set", "prometheusOperator.requireAPI=false"}, amc...), [3]int{2, 1, 1}},
		{"each toggle off", append(slices.Clone(operatorAPIs), "--set", "exporter.serviceMonitor.enabled=false",
			"--set", "relay.serviceMonitor.enabled=false", "--set", "prometheusRule.enabled=false"), [3]int{0, 0, 0}},
	} {
		if got := operatorKinds(renderArgs(t, tc.args...)); got != tc.want {
			t.Errorf("%s: ServiceMonitor, PrometheusRule, AlertmanagerConfig %v, want %v", tc.name, got, tc.want)
		}
	}
}

// files/ holds copies of the shipped configs (helm warns on every command
// about a symlink in a chart); they must not drift from deploy/config.
func TestChartFilesAreCopies(t *testing.T) {
	for _, name := range []string{"exporter.yml", "relay.yml"} {
		chartFile := filepath.Join(chartDir, "files", name)
		fi, err := os.Lstat(chartFile)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want a regular file (a copy of deploy/config/%s)", chartFile, fi.Mode(), name)
		}
		got, err := os.ReadFile(chartFile)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(root, "deploy", "config", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from deploy/config/%s: cp deploy/config/%s %s", chartFile, name, name, filepath.Join("deploy/helm/resonance-telemetry/files", name))
		}
	}
}

// checkWorkloads holds each daemon's Deployment, Service and ServiceMonitor
// against each other and against the daemon itself: its flags, its
// --config.check on the files the pod would see, and the job names the
// rule pack selects.
func checkWorkloads(t *testing.T, r *rendered) {
	jobs := prometheusJobs(t)
	for c, want := range components {
		t.Run(c, func(t *testing.T) {
			d, svc, sm := r.deployments[c], r.services[c], r.serviceMonitors[c]
			if d == nil || svc == nil || sm == nil {
				t.Fatalf("Deployment %v, Service %v, ServiceMonitor %v", d != nil, svc != nil, sm != nil)
			}
			pod := d.Spec.Template
			if !selects(d.Spec.Selector, pod.Labels) {
				t.Errorf("Deployment selector %v does not select its pods %v", d.Spec.Selector, pod.Labels)
			}
			sec := pod.Spec.SecurityContext
			if sec == nil || sec.RunAsNonRoot == nil || !*sec.RunAsNonRoot || sec.RunAsUser == nil || *sec.RunAsUser == 0 {
				t.Errorf("pod may run as root: %+v", sec)
			}
			if len(pod.Spec.Containers) != 1 {
				t.Fatalf("containers: %d", len(pod.Spec.Containers))
			}
			ctr := pod.Spec.Containers[0]
			csec := ctr.SecurityContext
			if csec == nil || csec.ReadOnlyRootFilesystem == nil || !*csec.ReadOnlyRootFilesystem ||
				csec.AllowPrivilegeEscalation == nil || *csec.AllowPrivilegeEscalation {
				t.Errorf("container security context %+v", csec)
			}
			if ctr.Resources.Requests.Memory().IsZero() || ctr.Resources.Limits.Memory().IsZero() {
				t.Errorf("resources %+v", ctr.Resources)
			}

			flags := argFlags(t, ctr.Args)
			if got := flags["--web.listen-address"]; got != ":"+want.port {
				t.Errorf("--web.listen-address=%q, want :%s", got, want.port)
			}
			if len(ctr.Ports) != 1 || ctr.Ports[0].Name != "http" || strconv.Itoa(int(ctr.Ports[0].ContainerPort)) != want.port {
				t.Errorf("container ports %+v, want http %s", ctr.Ports, want.port)
			}
			for probe, path := range map[*corev1.Probe]string{ctr.LivenessProbe: "/-/healthy", ctr.ReadinessProbe: "/-/ready"} {
				if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "http" {
					t.Errorf("probe %+v, want GET %s on port http", probe, path)
				}
			}

			// The config file and the Secret's keys sit in one directory,
			// as the config's relative file names expect.
			cfgFile := flags["--config.file"]
			if cfgFile != path.Join("/etc", want.daemon, c+".yml") {
				t.Errorf("--config.file=%q", cfgFile)
			}
			mount := mountOf(t, ctr, "config")
			if mount.MountPath != path.Dir(cfgFile) || !mount.ReadOnly {
				t.Errorf("config mounted at %s (read-only %v), --config.file is %s", mount.MountPath, mount.ReadOnly, cfgFile)
			}
			cm := r.configMaps[projectedConfigMap(t, d)]
			if cm == nil {
				t.Fatalf("the pod mounts ConfigMap %q, which the chart does not render", projectedConfigMap(t, d))
			}
			shipped, err := os.ReadFile(filepath.Join(root, "deploy", "config", c+".yml"))
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[c+".yml"] != string(shipped) {
				t.Errorf("ConfigMap %s differs from deploy/config/%s.yml", cm.Name, c)
			}

			// Run the daemon's own --config.check with the pod's flags on
			// the files the pod would see: the ConfigMap, and the chart's
			// Secret or, without one, a Secret holding every key the
			// config names.
			dir := filepath.Join(t.TempDir(), "etc", want.daemon)
			writeFiles(t, dir, cm.Data)
			if s, ok := r.secrets[projectedSecret(t, d)]; ok {
				writeFiles(t, dir, s.StringData)
			} else {
				writeFiles(t, dir, placeholderSecret(c))
			}
			args := slices.Clone(ctr.Args)
			for i, a := range args {
				if strings.HasPrefix(a, "--config.file=") {
					args[i] = "--config.file=" + filepath.Join(dir, c+".yml")
				}
			}
			out, err := exec.Command(daemonBinary(t, c), append(args, "--config.check")...).CombinedOutput()
			if err != nil {
				t.Errorf("%s %s --config.check: %v\n%s", want.daemon, strings.Join(args, " "), err, out)
			}

			// The state the config keeps lives on the writable volume.
			state := mountOf(t, ctr, "state")
			if state.MountPath != path.Join("/var/lib", want.daemon) || state.ReadOnly {
				t.Errorf("state mounted at %s (read-only %v)", state.MountPath, state.ReadOnly)
			}
			if c == "exporter" {
				cfg, err := config.Load(filepath.Join(dir, c+".yml"))
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Pi.StateFile != "" && path.Dir(cfg.Pi.StateFile) != state.MountPath {
					t.Errorf("pi.state_file %s is not on the state volume %s", cfg.Pi.StateFile, state.MountPath)
				}
			}
			if c == "relay" {
				// The message store, where a restart finds it again.
				cfg, err := relay.Load(filepath.Join(dir, c+".yml"))
				if err != nil {
					t.Fatal(err)
				}
				if f := cfg.Delivery.MessagesFile; f == "" || path.Dir(f) != state.MountPath {
					t.Errorf("delivery.messages_file %q is not on the state volume %s", f, state.MountPath)
				}
			}

			// Service → pods → container port; ServiceMonitor → Service.
			if !selects(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pod.Labels) {
				t.Errorf("Service selector %v does not select the pods %v", svc.Spec.Selector, pod.Labels)
			}
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" || svc.Spec.Ports[0].TargetPort.String() != "http" ||
				strconv.Itoa(int(svc.Spec.Ports[0].Port)) != want.port {
				t.Errorf("Service ports %+v", svc.Spec.Ports)
			}
			if !selects(&sm.Spec.Selector, svc.Labels) {
				t.Errorf("ServiceMonitor selector %v does not select the Service %v", sm.Spec.Selector, svc.Labels)
			}
			if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "http" || sm.Spec.Endpoints[0].Path != "/metrics" {
				t.Errorf("ServiceMonitor endpoints %+v", sm.Spec.Endpoints)
			}
			// The rule pack selects job="resonance" / "resonance-relay",
			// the job names of prometheus/prometheus.yml.
			if job := svc.Labels[sm.Spec.JobLabel]; sm.Spec.JobLabel == "" || job != want.job || jobs[want.port] != job {
				t.Errorf("job %q (from Service label %q), want %q as prometheus.yml names the :%s target (%q)",
					job, sm.Spec.JobLabel, want.job, want.port, jobs[want.port])
			}
		})
	}
	checkRelayStore(t, r)
}

// checkRelayStore: the relay runs as one process on a persistent store.
// Its message store (the Discord message ids a resolve edits) and its
// memory of delivered messages (an Alertmanager retry, the second
// Alertmanager of a pair) are per process: two replicas would post a
// firing through one and its resolution as a second message through the
// other. So one replica, no autoscaler or disruption budget, the old pod
// gone before the new one starts, and the state volume on a
// PersistentVolumeClaim that outlives the pod.
func checkRelayStore(t *testing.T, r *rendered) {
	d := r.deployments["relay"]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("relay replicas %v, want 1", d.Spec.Replicas)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("relay strategy %q, want Recreate: a rolling update runs two relays on one store", d.Spec.Strategy.Type)
	}
	if n := r.kinds["HorizontalPodAutoscaler"] + r.kinds["PodDisruptionBudget"]; n != 0 {
		t.Errorf("%d HPA/PodDisruptionBudget rendered for a single relay", n)
	}
	claim := volume(t, d, "state").PersistentVolumeClaim
	if claim == nil {
		t.Fatalf("relay state volume %+v, want a PersistentVolumeClaim", volume(t, d, "state").VolumeSource)
	}
	pvc := r.pvcs[claim.ClaimName]
	if pvc == nil {
		t.Fatalf("the relay mounts claim %q, which the chart does not render", claim.ClaimName)
	}
	if !slices.Equal(pvc.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) || pvc.Spec.Resources.Requests.Storage().IsZero() {
		t.Errorf("relay claim: access modes %v, size %v", pvc.Spec.AccessModes, pvc.Spec.Resources.Requests.Storage())
	}
	if pvc.Labels["app.kubernetes.io/component"] != "relay" {
		t.Errorf("relay claim labels %v", pvc.Labels)
	}
}

// placeholderSecret is what an operator puts in a daemon's Secret when the
// chart does not create it (README "Run on Kubernetes").
func placeholderSecret(component string) map[string]string {
	if component == "exporter" {
		return map[string]string{"ingest-keys": "placeholder-ingest-key-0123456789\n"}
	}
	return map[string]string{
		"relay.token": "t", "discord.url": "https://discord.com/api/webhooks/1/x",
		"slack.url": "https://hooks.slack.com/services/T/B/x", "hub.url": "https://hub.example/a", "hub.token": "t",
		"heartbeat.url": "https://hc-ping.example/x",
	}
}

func checkPrometheusRule(t *testing.T, r *rendered) {
	if len(r.rules) != 1 {
		t.Fatalf("%d PrometheusRules", len(r.rules))
	}
	plain, err := os.ReadFile(filepath.Join(root, "rules", "resonance.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var want monitoringv1.PrometheusRuleSpec
	strict(t, plain, &want)
	// The chart gives the alerts without target labels (vector, absent:
	// Watchdog, ExporterAbsent) the release's namespace, so that the
	// operator's OnNamespace matcher lets them reach the
	// AlertmanagerConfig's routes, the heartbeat's among them.
	var labelled []string
	for _, g := range want.Groups {
		for i := range g.Rules {
			expr := strings.TrimSpace(g.Rules[i].Expr.String())
			if g.Rules[i].Alert != "" && (strings.HasPrefix(expr, "vector(") || strings.HasPrefix(expr, "absent(")) {
				g.Rules[i].Labels["namespace"] = namespace
				labelled = append(labelled, g.Rules[i].Alert)
			}
		}
	}
	if !slices.Contains(labelled, "Watchdog") || !slices.Contains(labelled, "ExporterAbsent") {
		t.Errorf("alerts given the namespace: %v, want Watchdog and ExporterAbsent among them", labelled)
	}
	got := r.rules[0].Spec
	// The chart's own group, on the ritual CronJobs (TestRitualMissedOnKubernetes).
	got.Groups = slices.DeleteFunc(slices.Clone(got.Groups), func(g monitoringv1.RuleGroup) bool {
		return g.Name == ritualGroup
	})
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("the chart's PrometheusRule differs from rules/resonance.rules.yml: run resonancetool rules generate")
	}
	if n := len(want.Groups); n == 0 || len(want.Groups[len(want.Groups)-1].Rules) == 0 {
		t.Errorf("no rules in the pack")
	}
}

func dashboardFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join(root, "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("dashboards: %v %v", files, err)
	}
	return files
}

func checkDashboards(t *testing.T, r *rendered) {
	byFile := map[string]*corev1.ConfigMap{}
	for _, cm := range r.configMaps {
		if cm.Labels["grafana_dashboard"] == "1" {
			if len(cm.Data) != 1 {
				t.Errorf("%s: %d keys, want one dashboard", cm.Name, len(cm.Data))
			}
			for k := range cm.Data {
				byFile[k] = cm
			}
		}
	}
	for _, f := range dashboardFiles(t) {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cm := byFile[filepath.Base(f)]
		if cm == nil {
			t.Errorf("no ConfigMap labelled grafana_dashboard=1 holds %s", filepath.Base(f))
			continue
		}
		if got := cm.Data[filepath.Base(f)]; strings.TrimSpace(got) != strings.TrimSpace(string(want)) || !json.Valid([]byte(got)) {
			t.Errorf("%s: differs from %s: run resonancetool dashboards generate", cm.Name, f)
		}
	}
	if len(byFile) != len(dashboardFiles(t)) {
		t.Errorf("%d dashboard ConfigMaps for %d dashboards", len(byFile), len(dashboardFiles(t)))
	}
}

// checkAlertmanagerConfig: the chart routes each severity to the same
// relay targets as alertmanager/alertmanager.yml, at the relay's Service,
// with the relay's token.
func checkAlertmanagerConfig(t *testing.T, r *rendered) {
	if len(r.amConfigs) != 1 {
		t.Fatalf("%d AlertmanagerConfigs", len(r.amConfigs))
	}
	ac := r.amConfigs[0]
	svc := r.services["relay"]
	relaySecret := r.secrets[projectedSecret(t, r.deployments["relay"])]
	relayCfg := relayConfig(t, r)
	got := map[string][]string{} // severity → relay targets
	receivers := map[string]monitoringv1alpha1.Receiver{}
	for _, rc := range ac.Spec.Receivers {
		receivers[rc.Name] = rc
	}
	heartbeats := 0
	for i, raw := range ac.Spec.Route.Routes {
		var route monitoringv1alpha1.Route
		dec := json.NewDecoder(bytes.NewReader(raw.Raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&route); err != nil {
			t.Fatalf("route %s: %v", raw.Raw, err)
		}
		if len(route.Matchers) == 1 && route.Matchers[0].Name == "alertname" {
			checkHeartbeatRoute(t, i, route, receivers, relaySecret, relayCfg, svc)
			heartbeats++
			continue
		}
		if len(route.Matchers) != 1 || route.Matchers[0].Name != "severity" {
			t.Fatalf("route matchers %+v", route.Matchers)
		}
		rc, ok := receivers[route.Receiver]
		if !ok {
			t.Fatalf("route to unknown receiver %q", route.Receiver)
		}
		for _, w := range rc.WebhookConfigs {
			u, err := url.Parse(*w.URL)
			if err != nil {
				t.Fatal(err)
			}
			if wantHost := fmt.Sprintf("%s.%s.svc:%d", svc.Name, namespace, svc.Spec.Ports[0].Port); u.Host != wantHost {
				t.Errorf("webhook %s: host, want %s", u, wantHost)
			}
			target := path.Base(u.Path)
			if !slices.ContainsFunc(relayCfg.Targets, func(tc relay.TargetConfig) bool { return tc.Name == target }) {
				t.Errorf("webhook %s: the relay has no target %q", u, target)
			}
			cred := w.HTTPConfig.Authorization.Credentials
			if cred.Name != relaySecret.Name || relaySecret.StringData[cred.Key] == "" {
				t.Errorf("webhook %s: credentials %s/%s, not a key of the relay's Secret", u, cred.Name, cred.Key)
			}
			got[route.Matchers[0].Value] = append(got[route.Matchers[0].Value], target)
		}
	}
	if want := shippedRouting(t); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("routing %v, want alertmanager/alertmanager.yml's %v", got, want)
	}
	if heartbeats != 1 {
		t.Errorf("%d Watchdog routes, want the heartbeat's one", heartbeats)
	}
}

// checkHeartbeatRoute: the dead man's switch as alertmanager.yml wires it.
// Watchdog, first and alone, every minute, to the relay's heartbeat target,
// whose ping URL is a file from the relay's Secret.
func checkHeartbeatRoute(t *testing.T, i int, route monitoringv1alpha1.Route, receivers map[string]monitoringv1alpha1.Receiver,
	relaySecret *corev1.Secret, relayCfg *relay.Config, svc *corev1.Service) {
	t.Helper()
	m := route.Matchers[0]
	if i != 0 || m.Value != "Watchdog" || (m.MatchType != "" && m.MatchType != monitoringv1alpha1.MatchEqual) {
		t.Errorf("route %d matches %+v, want alertname=\"Watchdog\" first", i, m)
	}
	want := shippedHeartbeat(t)
	str := func(d *monitoringv1.NonEmptyDuration) string {
		if d == nil {
			return ""
		}
		return string(*d)
	}
	if got := [3]string{str(route.GroupWait), str(route.GroupInterval), str(route.RepeatInterval)}; !slices.Equal(route.GroupBy, []string{"alertname"}) || got != want {
		t.Errorf("heartbeat route group_by %v, group_wait/interval/repeat %v, want [alertname] and alertmanager.yml's %v", route.GroupBy, got, want)
	}
	rc, ok := receivers[route.Receiver]
	if !ok || len(rc.WebhookConfigs) != 1 {
		t.Fatalf("heartbeat receiver %q: %+v", route.Receiver, rc)
	}
	w := rc.WebhookConfigs[0]
	u, err := url.Parse(*w.URL)
	if err != nil {
		t.Fatal(err)
	}
	if wantURL := fmt.Sprintf("http://%s.%s.svc:%d/webhook/heartbeat", svc.Name, namespace, svc.Spec.Ports[0].Port); u.String() != wantURL {
		t.Errorf("heartbeat webhook %s, want %s", u, wantURL)
	}
	if w.SendResolved == nil || *w.SendResolved {
		t.Error("heartbeat webhook sends resolved notifications; alertmanager.yml's does not")
	}
	if cred := w.HTTPConfig.Authorization.Credentials; cred.Name != relaySecret.Name || cred.Key != "relay.token" {
		t.Errorf("heartbeat webhook credentials %s/%s, want the relay's token", cred.Name, cred.Key)
	}
	i = slices.IndexFunc(relayCfg.Targets, func(tc relay.TargetConfig) bool { return tc.Name == "heartbeat" })
	if i < 0 {
		t.Fatal("the relay config has no heartbeat target")
	}
	hb := relayCfg.Targets[i]
	if hb.Type != relay.TypeHeartbeat || filepath.Base(hb.URLFile) != "heartbeat.url" || string(hb.URL) != "" {
		t.Errorf("heartbeat target %s, url_file %q: want type heartbeat with its URL in the file heartbeat.url", hb.Type, hb.URLFile)
	}
	if relaySecret.StringData["heartbeat.url"] == "" {
		t.Error("the relay's Secret has no heartbeat.url, the heartbeat target's ping URL")
	}
}

// shippedAlertmanager is what the chart's tests compare in alertmanager.yml,
// read with plain YAML: Alertmanager's config package would pull every
// notifier into this test; amtool checks that file.
type shippedAlertmanager struct {
	Route struct {
		Routes []struct {
			Matchers       []string `json:"matchers"`
			Receiver       string   `json:"receiver"`
			GroupWait      string   `json:"group_wait"`
			GroupInterval  string   `json:"group_interval"`
			RepeatInterval string   `json:"repeat_interval"`
		} `json:"routes"`
	} `json:"route"`
	Receivers []struct {
		Name           string `json:"name"`
		WebhookConfigs []struct {
			URL string `json:"url"`
		} `json:"webhook_configs"`
	} `json:"receivers"`
}

func readShippedAlertmanager(t *testing.T) *shippedAlertmanager {
	data, err := os.ReadFile(filepath.Join(root, "alertmanager", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg shippedAlertmanager
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// shippedHeartbeat is alertmanager.yml's Watchdog route's group_wait,
// group_interval and repeat_interval.
func shippedHeartbeat(t *testing.T) [3]string {
	for _, r := range readShippedAlertmanager(t).Route.Routes {
		if slices.Equal(r.Matchers, []string{`alertname="Watchdog"`}) {
			if r.Receiver != "heartbeat" {
				t.Fatalf("alertmanager.yml routes Watchdog to %q", r.Receiver)
			}
			return [3]string{r.GroupWait, r.GroupInterval, r.RepeatInterval}
		}
	}
	t.Fatal(`alertmanager.yml: no alertname="Watchdog" route`)
	return [3]string{}
}

// shippedRouting reads severity → relay targets from alertmanager.yml.
func shippedRouting(t *testing.T) map[string][]string {
	cfg := readShippedAlertmanager(t)
	out := map[string][]string{}
	for _, route := range cfg.Route.Routes {
		for _, m := range route.Matchers {
			severity, ok := strings.CutPrefix(m, "severity=")
			if !ok {
				continue
			}
			severity = strings.Trim(severity, `"`)
			for _, rc := range cfg.Receivers {
				if rc.Name != route.Receiver {
					continue
				}
				for _, w := range rc.WebhookConfigs {
					out[severity] = append(out[severity], path.Base(w.URL))
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("alertmanager.yml: no severity routes to webhooks found")
	}
	return out
}

func relayConfig(t *testing.T, r *rendered) *relay.Config {
	dir := t.TempDir()
	writeFiles(t, dir, r.configMaps[projectedConfigMap(t, r.deployments["relay"])].Data)
	writeFiles(t, dir, r.secrets[projectedSecret(t, r.deployments["relay"])].StringData)
	cfg, err := relay.Load(filepath.Join(dir, "relay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// prometheusJobs maps a target port to its job in prometheus/prometheus.yml.
// (Only the static targets are read: the Prometheus config package would
// pull every service discovery into this test.)
func prometheusJobs(t *testing.T) map[string]string {
	data, err := os.ReadFile(filepath.Join(root, "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]string{}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				_, port, _ := strings.Cut(target, ":")
				jobs[port] = sc.JobName
			}
		}
	}
	return jobs
}

func argFlags(t *testing.T, args []string) map[string]string {
	flags := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "--") {
			t.Errorf("argument %q: want --flag=value", a)
		}
		flags[k] = v
	}
	return flags
}

func selects(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(set))
}

func volume(t *testing.T, d *appsv1.Deployment, name string) corev1.Volume {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("%s: no volume %q", d.Name, name)
	return corev1.Volume{}
}

func mountOf(t *testing.T, c corev1.Container, name string) corev1.VolumeMount {
	for _, m := range c.VolumeMounts {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("container %s: no mount of %q", c.Name, name)
	return corev1.VolumeMount{}
}

func projected(t *testing.T, d *appsv1.Deployment) []corev1.VolumeProjection {
	p := volume(t, d, "config").Projected
	if p == nil || len(p.Sources) != 2 {
		t.Fatalf("%s: config volume %+v, want a ConfigMap and a Secret projected together", d.Name, p)
	}
	return p.Sources
}

func projectedConfigMap(t *testing.T, d *appsv1.Deployment) string {
	for _, s := range projected(t, d) {
		if s.ConfigMap != nil {
			return s.ConfigMap.Name
		}
	}
	t.Fatalf("%s: no ConfigMap in the config volume", d.Name)
	return ""
}

func projectedSecret(t *testing.T, d *appsv1.Deployment) string {
	for _, s := range projected(t, d) {
		if s.Secret != nil {
			if s.Secret.Optional != nil && *s.Secret.Optional {
				t.Errorf("%s: the Secret is optional; a daemon without its keys must not start", d.Name)
			}
			return s.Secret.Name
		}
	}
	t.Fatalf("%s: no Secret in the config volume", d.Name)
	return ""
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// daemonBinary builds both daemons and resonancetool once per test run.
func daemonBinary(t *testing.T, component string) string {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "charttest-bin")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator), components["exporter"].cmd, components["relay"].cmd, "./cmd/resonancetool")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if component == "resonancetool" {
		return filepath.Join(binDir, component)
	}
	return filepath.Join(binDir, components[component].daemon)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// checkRituals: one CronJob per ritual on make stack's schedule
// (schedule.Shipped, which docker/relay.yml runs) to every channel, running
// resonancetool's ritual command with the relay's own config and Secret, and
// never two at once; the relay itself schedules none, so the replica count
// does not multiply the reports.
func checkRituals(t *testing.T, r *rendered) {
	relayDep := r.deployments["relay"]
	for _, want := range schedule.Shipped("discord", "slack", "hub") {
		t.Run("ritual-"+want.Ritual, func(t *testing.T) {
			cj := r.cronJobs[want.Ritual]
			if cj == nil {
				t.Fatalf("no CronJob for the %s ritual", want.Ritual)
			}
			if cj.Spec.Schedule != want.Cron || cj.Spec.TimeZone == nil || *cj.Spec.TimeZone != "UTC" {
				t.Errorf("schedule %q in %v, want make stack's %q in UTC", cj.Spec.Schedule, cj.Spec.TimeZone, want.Cron)
			}
			if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				t.Errorf("concurrencyPolicy %q, want Forbid", cj.Spec.ConcurrencyPolicy)
			}
			job := cj.Spec.JobTemplate.Spec
			if job.BackoffLimit == nil || *job.BackoffLimit != 0 {
				t.Errorf("backoffLimit %v, want 0: a retried run may post its report twice", job.BackoffLimit)
			}
			pod := job.Template.Spec
			if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.Containers) != 1 {
				t.Fatalf("restartPolicy %q, %d containers", pod.RestartPolicy, len(pod.Containers))
			}
			ctr := pod.Containers[0]
			wantImage := strings.Replace(relayDep.Spec.Template.Spec.Containers[0].Image, "/resonance-relay:", "/resonancetool:", 1)
			if ctr.Image != wantImage {
				t.Errorf("image %s, want %s (the daemons' repository pattern and tag)", ctr.Image, wantImage)
			}
			if csec := ctr.SecurityContext; csec == nil || csec.ReadOnlyRootFilesystem == nil || !*csec.ReadOnlyRootFilesystem ||
				pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
				t.Errorf("security contexts %+v %+v", pod.SecurityContext, csec)
			}
			if len(ctr.Command) != 1 || len(ctr.Args) < 2 || ctr.Args[0] != "ritual" || ctr.Args[1] != want.Ritual {
				t.Fatalf("command %v args %v, want resonancetool ritual %s", ctr.Command, ctr.Args, want.Ritual)
			}
			var sends []string
			flags := map[string]string{}
			for _, a := range ctr.Args[2:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					t.Errorf("argument %q: want --flag=value", a)
				}
				if k == "--send" {
					sends = append(sends, v)
				}
				flags[k] = v
			}
			if !slices.Equal(sends, want.Targets) {
				t.Errorf("--send %v, want %v", sends, want.Targets)
			}

			// The relay's config and Secret, as the relay's pods see them.
			dep := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: job.Template}}
			dep.Name = cj.Name
			if projectedConfigMap(t, dep) != projectedConfigMap(t, relayDep) || projectedSecret(t, dep) != projectedSecret(t, relayDep) {
				t.Errorf("relay config from %s/%s, the relay's pods from %s/%s", projectedConfigMap(t, dep), projectedSecret(t, dep),
					projectedConfigMap(t, relayDep), projectedSecret(t, relayDep))
			}
			cfgFile, tableFile := flags["--relay.config.file"], flags["--thresholds.file"]
			if m := mountOf(t, ctr, "config"); m.MountPath != path.Dir(cfgFile) || path.Base(cfgFile) != "relay.yml" {
				t.Errorf("--relay.config.file=%s, the relay config is mounted at %s", cfgFile, m.MountPath)
			}
			tm := mountOf(t, ctr, "thresholds")
			cm := r.configMaps[volume(t, dep, "thresholds").ConfigMap.Name]
			if tm.MountPath != path.Dir(tableFile) || cm == nil {
				t.Fatalf("--thresholds.file=%s, the thresholds mounted at %s from ConfigMap %v", tableFile, tm.MountPath, cm)
			}
			table, err := os.ReadFile(filepath.Join(root, "rules", "thresholds.yml"))
			if err != nil {
				t.Fatal(err)
			}
			if cm.Data[path.Base(tableFile)] != string(table) {
				t.Errorf("ConfigMap %s differs from rules/thresholds.yml: cp rules/thresholds.yml deploy/helm/resonance-telemetry/files/", cm.Name)
			}

			// resonancetool takes these flags and the mounted files: with
			// the files where the pod has them and no Prometheus, it fails
			// reading the history, not on its command line or table.
			dir := t.TempDir()
			writeFiles(t, filepath.Join(dir, "relay"), r.configMaps[projectedConfigMap(t, dep)].Data)
			if s, ok := r.secrets[projectedSecret(t, dep)]; ok {
				writeFiles(t, filepath.Join(dir, "relay"), s.StringData)
			} else {
				writeFiles(t, filepath.Join(dir, "relay"), placeholderSecret("relay"))
			}
			writeFiles(t, filepath.Join(dir, "rituals"), cm.Data)
			args := slices.Clone(ctr.Args)
			for i, a := range args {
				switch {
				case strings.HasPrefix(a, "--relay.config.file="):
					args[i] = "--relay.config.file=" + filepath.Join(dir, "relay", "relay.yml")
				case strings.HasPrefix(a, "--thresholds.file="):
					args[i] = "--thresholds.file=" + filepath.Join(dir, "rituals", path.Base(tableFile))
				case strings.HasPrefix(a, "--prometheus.url="):
					args[i] = "--prometheus.url=http://127.0.0.1:1"
				case strings.HasPrefix(a, "--alertmanager.url="):
					args[i] = "--alertmanager.url=http://127.0.0.1:1"
				case strings.HasPrefix(a, "--timeout="):
					args[i] = "--timeout=5s"
				}
			}
			out, err := exec.Command(daemonBinary(t, "resonancetool"), args...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "127.0.0.1:1") || strings.Contains(string(out), "unknown") {
				t.Errorf("resonancetool %s: %v, want it to fail on the missing Prometheus only:\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
	// The relay runs no ritual itself: every replica would.
	relayFiles := r.configMaps[projectedConfigMap(t, relayDep)].Data
	dir := t.TempDir()
	writeFiles(t, dir, relayFiles)
	if s, ok := r.secrets[projectedSecret(t, relayDep)]; ok {
		writeFiles(t, dir, s.StringData)
	} else {
		writeFiles(t, dir, placeholderSecret("relay"))
	}
	cfg, err := relay.Load(filepath.Join(dir, "relay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rituals.Node != nil {
		t.Errorf("the relay config has a rituals: section besides the CronJobs: one report per replica")
	}
}

// The CronJobs do not multiply with the relay, and each can be turned off.
func TestRitualsOncePerSchedule(t *testing.T) {
	for _, tc := range []struct {
		set  []string
		want []string
	}{
		{[]string{"relay.replicas=0"}, []string{"evening", "monthly", "morning", "weekly"}},
		{[]string{"rituals.schedule.weekly.enabled=false", "rituals.schedule.monthly.enabled=false"}, []string{"evening", "morning"}},
		{[]string{"rituals.enabled=false"}, nil},
		{[]string{"relay.enabled=false"}, nil},
	} {
		var args []string
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		r := renderArgs(t, args...)
		if got := slices.Sorted(maps.Keys(r.cronJobs)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: CronJobs %v, want %v", tc.set, got, tc.want)
		}
	}
	// A relay config with its own rituals: schedule beside the CronJobs
	// would send every report once per replica, and more.
	if _, _, err := helmTemplate(t, "--set", "relay.config.rituals.schedule[0].ritual=morning"); err == nil ||
		!strings.Contains(err.Error(), "rituals") {
		t.Errorf("relay.config with rituals beside the CronJobs: %v, want a render error", err)
	}
}

const ritualGroup = "resonance.rituals.kubernetes"

// The rule pack's RitualMissed reads the relay's ritual gauge, which the
// CronJobs do not set: the chart's own RitualMissed watches them through
// kube-state-metrics, with the pack's periods plus 60 minutes.
func TestRitualMissedOnKubernetes(t *testing.T) {
	r := render(t)
	var group *monitoringv1.RuleGroup
	for i, g := range r.rules[0].Spec.Groups {
		if g.Name == ritualGroup {
			group = &r.rules[0].Spec.Groups[i]
		}
	}
	if group == nil || len(group.Rules) != 1 || group.Rules[0].Alert != "RitualMissed" {
		t.Fatalf("no %s group with RitualMissed: %+v", ritualGroup, group)
	}
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rituals.rules.yml")
	data, err := yaml.Marshal(map[string]any{"groups": []any{group}})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"rituals.rules.yml": string(data)})
	promtool := tooltest.Path(t, "promtool")
	if out, err := exec.Command(promtool, "check", "rules", rulesFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}

	// Every CronJob created at 0. The morning review last succeeded at 1h,
	// the evening broadcast never, the weekly audit at 1h: after 27 hours
	// the first two are missed (a day plus 60 minutes), the third is not.
	cj := func(name string) string {
		return fmt.Sprintf(`{namespace="%s",cronjob="%s-resonance-telemetry-ritual-%s"}`, namespace, release, name)
	}
	alert := func(name string, minutes int) string {
		return fmt.Sprintf(`
          - exp_labels: {metric: ritual_missed, severity: warning, namespace: %s, cronjob: %s-resonance-telemetry-ritual-%s, ritual: %s}
            exp_annotations:
              current_value: "%d"
              description: "Ritual %s (CronJob %s-resonance-telemetry-ritual-%s) last succeeded %d min ago, or never since it was created: more than its period plus 60 min"
              runbook_url: https://github.com/quantum-resonance/telemetry/blob/main/docs/runbooks.md#ritualmissed
              summary: Ritual missed on Kubernetes
              threshold: "60"`, namespace, release, name, name, minutes, name, release, name, minutes)
	}
	tests := fmt.Sprintf(`rule_files: [rituals.rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1h
    input_series:
      - {series: 'kube_cronjob_created%[1]s', values: '0+0x30'}
      - {series: 'kube_cronjob_status_last_successful_time%[1]s', values: '3600+0x30'}
      - {series: 'kube_cronjob_created%[2]s', values: '0+0x30'}
      - {series: 'kube_cronjob_created%[3]s', values: '0+0x30'}
      - {series: 'kube_cronjob_status_last_successful_time%[3]s', values: '3600+0x30'}
      - {series: 'kube_cronjob_created%[4]s', values: '0+0x30'}
      - {series: 'kube_cronjob_status_last_successful_time%[4]s', values: '3600+0x30'}
    alert_rule_test:
      - eval_time: 25h
        alertname: RitualMissed
        exp_alerts: []
      - eval_time: 27h
        alertname: RitualMissed
        exp_alerts:%[5]s%[6]s
`, cj("morning"), cj("evening"), cj("weekly"), cj("monthly"), alert("morning", 27*60-60), alert("evening", 27*60))
	writeFiles(t, dir, map[string]string{"rituals.test.yml": tests})
	cmd := exec.Command(promtool, "test", "rules", "rituals.test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, tests)
	}

	// Without the CronJobs, no such group.
	for _, set := range []string{"rituals.enabled=false", "relay.enabled=false"} {
		r := renderArgs(t, append(slices.Clone(operatorAPIs), "--set", set)...)
		for _, g := range r.rules[0].Spec.Groups {
			if g.Name == ritualGroup {
				t.Errorf("%s: the chart still watches ritual CronJobs", set)
			}
		}
	}
}
