package rules_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
	"github.com/quantum-resonance/telemetry/tooltest"
)

const tablePath = "thresholds.yml" // tests run in rules/

// The SPEC's 20 alerts, with their tiers and plan metrics, in its order.
func TestTableHasTheSpecAlerts(t *testing.T) {
	want := []struct{ name, severity, metric string }{
		{"SystemDown", "critical", "uptime"},
		{"WalletCompromised", "critical", "wallet_unauthorized_transactions"},
		{"ErrorStorm", "critical", "error_rate"},
		{"OutOfMemory", "critical", "memory_usage"},
		{"APIFailure", "critical", "api_error_rate"},
		{"HighCPU", "warning", "cpu_usage"},
		{"HighMemory", "warning", "memory_usage"},
		{"SlowAPI", "warning", "api_response_time"},
		{"LowBalance", "warning", "wallet_balance"},
		{"MiningBoostInactive", "warning", "mining_boost_active"},
		{"ErrorRateHigh", "warning", "error_rate"},
		{"APIErrorRateHigh", "warning", "api_error_rate"},
		{"MemoryAboveLimit", "warning", "memory_usage"},
		{"DiskUsageHigh", "warning", "disk_usage"},
		{"HuggingFaceLatencyHigh", "warning", "huggingface_latency"},
		{"PiSDKLatencyHigh", "warning", "pi_sdk_latency"},
		{"CommunityResonanceLow", "warning", "community_resonance"},
		{"ModerateCPU", "info", "cpu_usage"},
		{"SlowInference", "info", "huggingface_latency"},
		{"LowResonance", "info", "community_resonance"},
	}
	tbl := rulestest.Table(t)
	// The pack's own threshold alerts (DiskAlmostFull, ...) may sit among
	// them; the SPEC's keep their order.
	var spec []rules.Alert
	for _, a := range tbl.Alerts {
		if slices.ContainsFunc(want, func(w struct{ name, severity, metric string }) bool { return w.name == a.Name }) {
			spec = append(spec, a)
		}
	}
	if len(spec) != len(want) {
		t.Fatalf("got %d of the SPEC's alerts, want %d", len(spec), len(want))
	}
	for i, w := range want {
		a := spec[i]
		if a.Name != w.name || string(a.Severity) != w.severity || a.Metric != w.metric {
			t.Errorf("alert %d = %s/%s/%s, want %s/%s/%s", i, a.Name, a.Severity, a.Metric, w.name, w.severity, w.metric)
		}
	}
}

// Units are converted once, to the series' base unit.
func TestBaseThresholds(t *testing.T) {
	tbl := rulestest.Table(t)
	for name, want := range map[string]float64{
		"HighCPU":                0.8,
		"OutOfMemory":            0.95,
		"APIErrorRateHigh":       0.05,
		"MemoryAboveLimit":       1024 * 1024 * 1024,
		"DiskUsageHigh":          8 * 1024 * 1024 * 1024,
		"SlowAPI":                2,
		"HuggingFaceLatencyHigh": 5,
		"PiSDKLatencyHigh":       3,
		"ErrorStorm":             20,
		"LowBalance":             10,
		"MiningBoostInactive":    0,
	} {
		a, ok := tbl.Alert(name)
		if !ok {
			t.Fatalf("no alert %s", name)
		}
		if a.BaseThreshold != want {
			t.Errorf("%s: base threshold %v, want %v", name, a.BaseThreshold, want)
		}
	}
}

func TestCommittedRulesAreUpToDate(t *testing.T) {
	tbl := rulestest.Table(t)
	if err := tbl.CheckGenerated("resonance.rules.yml"); err != nil {
		t.Fatal(err)
	}
	if err := tbl.CheckRunbooks(filepath.Join("..", rules.DefaultRunbooksPath)); err != nil {
		t.Fatal(err)
	}
}

func TestCheckGeneratedNamesTheDifferingLine(t *testing.T) {
	tbl := rulestest.Table(t)
	out, err := tbl.Render(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stale := strings.Replace(string(out), "> 0.8) * 100", "> 0.75) * 100", 1)
	path := filepath.Join(t.TempDir(), "resonance.rules.yml")
	if err := os.WriteFile(path, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	err = tbl.CheckGenerated(path)
	if err == nil {
		t.Fatal("a hand-edited rules file passed the check")
	}
	line := 1 + strings.Count(stale[:strings.Index(stale, "> 0.75")], "\n")
	if want := path + ":" + itoa(line) + ":"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
}

func TestCheckRunbooksFindsMissingAnchor(t *testing.T) {
	tbl := rulestest.Table(t)
	path := filepath.Join(t.TempDir(), "runbooks.md")
	if err := os.WriteFile(path, []byte("# Runbooks\n\n## SystemDown\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := tbl.CheckRunbooks(path)
	if err == nil || !strings.Contains(err.Error(), "#walletcompromised") || strings.Contains(err.Error(), "#systemdown") {
		t.Errorf("got %v, want every alert but SystemDown reported", err)
	}
}

// Editing one threshold changes exactly that alert's rule: its expression and
// its threshold annotation, and nothing else in the pack.
func TestEditingOneThresholdChangesOneRule(t *testing.T) {
	orig, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	const before = "    threshold: 1024\n    unit: MB\n"
	if strings.Count(string(orig), before) != 1 {
		t.Fatalf("table no longer has exactly one %q", before)
	}
	edited := strings.Replace(string(orig), before, "    threshold: 1536\n    unit: MB\n", 1)

	a := renderGroups(t, orig)
	b := renderGroups(t, []byte(edited))
	var changed []string
	for gi := range a.Groups {
		for ri := range a.Groups[gi].Rules {
			ra, rb := a.Groups[gi].Rules[ri], b.Groups[gi].Rules[ri]
			if !reflect.DeepEqual(ra, rb) {
				changed = append(changed, ra.Alert+ra.Record)
			}
		}
	}
	if !slices.Equal(changed, []string{"MemoryAboveLimit"}) {
		t.Fatalf("changed rules %v, want only MemoryAboveLimit", changed)
	}
	r := findRule(b, "MemoryAboveLimit")
	if want := `(
  (
    max by (cluster, namespace, job, pod, container, instance) (
        resonance_process_resident_memory_bytes{job="resonance"}
      or
        resonance_cgroup_memory_working_set_bytes{job="resonance"}
    )
  )
  > 1610612736
) / 1048576`; r.Expr != want {
		t.Errorf("expr %q, want %q", r.Expr, want)
	}
	if r.Annotations[rules.AnnotationThreshold] != "1536" {
		t.Errorf("threshold annotation %q, want 1536", r.Annotations[rules.AnnotationThreshold])
	}
	old := findRule(a, "MemoryAboveLimit")
	old.Expr, old.Annotations = r.Expr, r.Annotations
	if !reflect.DeepEqual(old, r) {
		t.Errorf("more than expr and annotations changed: %+v vs %+v", old, r)
	}
	if !strings.Contains(r.Annotations[rules.AnnotationDescription], "(threshold: 1536 MB)") {
		t.Errorf("description %q does not show the new threshold", r.Annotations[rules.AnnotationDescription])
	}
}

func renderGroups(t *testing.T, table []byte) rulefmt.RuleGroups {
	t.Helper()
	tbl, err := rules.ParseThresholds(tablePath, table)
	if err != nil {
		t.Fatal(err)
	}
	out, err := tbl.Render(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var g rulefmt.RuleGroups
	if err := yaml.Unmarshal(out, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func findRule(g rulefmt.RuleGroups, alert string) rulefmt.Rule {
	for _, grp := range g.Groups {
		for _, r := range grp.Rules {
			if r.Alert == alert {
				return r
			}
		}
	}
	return rulefmt.Rule{}
}

func TestBadTables(t *testing.T) {
	const head = "service: s\nselector: 'job=\"resonance\"'\nrunbook_base_url: https://x/runbooks.md\nalerts:\n"
	const cpu = "  - alert: HighCPU\n    severity: warning\n    metric: cpu_usage\n    op: \">\"\n    threshold: 80\n    unit: \"%\"\n    for: 5m\n    runbook: highcpu\n    summary: High CPU\n"
	for _, tc := range []struct {
		name, table, want string
	}{
		{"unknown metric", head + strings.Replace(cpu, "cpu_usage", "gpu_usage", 1), `t.yml:7: alert HighCPU: unknown metric "gpu_usage"`},
		{"severity", head + strings.Replace(cpu, "severity: warning", "severity: page", 1), `t.yml:6: alert HighCPU: severity "page" is not one of critical, warning, info`},
		{"duplicate", head + cpu + cpu, `t.yml:14: duplicate alert name "HighCPU" (first defined at line 5)`},
		{"wrong unit", head + strings.Replace(cpu, `unit: "%"`, "unit: MB", 1), `t.yml:10: alert HighCPU: cpu_usage is not measured in "MB": write its threshold in %`},
		{"unit in threshold", head + strings.Replace(cpu, "threshold: 80", "threshold: 80%", 1), `t.yml:9: alert HighCPU: threshold "80%": want a plain number in %`},
		{"percent out of range", head + strings.Replace(cpu, "threshold: 80", "threshold: 0.8e3", 1), `t.yml:9: alert HighCPU: threshold 800% is outside 0-100%`},
		{"boolean", head + strings.NewReplacer("cpu_usage", "mining_boost_active", `unit: "%"`, "unit: boolean").Replace(cpu), `t.yml:9: alert HighCPU: threshold "80": mining_boost_active is a boolean, want true or false`},
		{"unknown field", head + strings.Replace(cpu, "for: 5m", "fro: 5m", 1), `t.yml:11: alert: unknown field "fro"`},
		{"bad for", head + strings.Replace(cpu, "for: 5m", "for: soon", 1), `t.yml:11: alert HighCPU: for "soon"`},
		{"bad op", head + strings.Replace(cpu, `op: ">"`, `op: ">="`, 1), `t.yml:8: alert HighCPU: op ">="`},
		{"bad selector", strings.Replace(head, `'job="resonance"'`, `'job=resonance'`, 1) + cpu, `t.yml:2: selector "job=resonance"`},
		{"yaml", head + "  - [", `t.yml: yaml: line`},
		{"min_requests on a gauge", head + strings.Replace(cpu, "for: 5m", "min_requests: 20\n    for: 5m", 1), `t.yml:11: alert HighCPU: min_requests: cpu_usage is not a ratio or mean of requests`},
		{"min_requests zero", head + strings.NewReplacer("cpu_usage", "api_error_rate", "for: 5m", "min_requests: 0\n    for: 5m").Replace(cpu), `t.yml:11: alert HighCPU: min_requests "0": want a whole number of requests, at least 1`},
		{"unknown check", head + cpu + pipeline("check: exporter_gone"), `t.yml:17: alert Down: unknown check "exporter_gone"`},
		{"threshold on a check without", head + cpu + pipeline("check: exporter_down\n    threshold: 3"), `t.yml:18: alert Down: check exporter_down has no threshold: drop threshold`},
		{"check unit", head + cpu + pipeline("check: app_not_reporting\n    threshold: 10\n    unit: seconds"), `alert Down: check app_not_reporting: want unit: "minutes"`},
		{"check threshold missing", head + cpu + pipeline("check: app_not_reporting\n    unit: minutes"), `alert Down: threshold is missing`},
		{"pipeline duplicate", head + cpu + strings.Replace(pipeline("check: exporter_down"), "alert: Down", "alert: HighCPU", 1), `duplicate alert name "HighCPU" (first defined at line 5)`},
		{"window on a gauge", head + strings.Replace(cpu, "for: 5m", "window: 2m\n    for: 5m", 1), `t.yml:11: alert HighCPU: window: cpu_usage is not a rate over a window`},
		{"unknown window", head + strings.NewReplacer("cpu_usage", "error_rate", `unit: "%"`, "unit: count/min", "for: 5m", "window: 90s\n    for: 5m").Replace(cpu), `alert HighCPU: window "90s": want one of 1m, 2m`},
		{"long_window without traffic", head + strings.NewReplacer("cpu_usage", "error_rate", `unit: "%"`, "unit: count/min", "for: 5m", "long_window: 1h\n    for: 5m").Replace(cpu), `alert HighCPU: long_window: error_rate has no request count to fall back on`},
		{"long_window not longer", head + strings.NewReplacer("cpu_usage", "api_error_rate", "for: 5m", "window: 30m\n    long_window: 5m\n    for: 5m").Replace(cpu), `alert HighCPU: long_window 5m must be longer than window 30m`},
		{"mountpoints on cpu", head + strings.Replace(cpu, "for: 5m", "mountpoints: [/]\n    for: 5m", 1), `alert HighCPU: mountpoints: only disk_usage has mountpoints`},
		{"relative mountpoint", head + strings.NewReplacer("cpu_usage", "disk_usage", "for: 5m", "mountpoints: [data]\n    for: 5m").Replace(cpu), `alert HighCPU: mountpoints: "data" is not an absolute path`},
		{"bad keep_firing_for", head + strings.Replace(cpu, "for: 5m", "for: 5m\n    keep_firing_for: a while", 1), `alert HighCPU: keep_firing_for "a while"`},
		{"group_labels without instance", strings.Replace(head, "alerts:", "group_labels: [namespace, job]\nalerts:", 1) + cpu, `group_labels: must keep instance`},
		{"bad alertmanager_selector", strings.Replace(head, "alerts:", "alertmanager_selector: 'job=am'\nalerts:", 1) + cpu, `alertmanager_selector "job=am": want label matchers without braces`},
		{"enabled maybe", head + cpu + pipeline("check: watchdog\n    enabled: maybe"), `alert Down: enabled "maybe": want true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.ParseThresholds("t.yml", []byte(tc.table))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

// pipeline is a table's pipeline: section with one alert Down, its check
// line(s) given.
func pipeline(check string) string {
	return "pipeline:\n  - alert: Down\n    severity: warning\n    " + check + "\n    for: 2m\n    runbook: down\n    summary: Down\n"
}

func TestOperatorFormat(t *testing.T) {
	tbl := rulestest.Table(t)
	out, err := tbl.Render(rules.Options{Format: rules.FormatOperator, Name: "rp", Namespace: "monitoring"})
	if err != nil {
		t.Fatal(err)
	}
	var pr rules.PrometheusRule
	if err := yaml.Unmarshal(out, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Kind != "PrometheusRule" || pr.Metadata.Name != "rp" || pr.Metadata.Namespace != "monitoring" {
		t.Errorf("envelope %+v", pr)
	}
	if !reflect.DeepEqual(pr.Spec, renderGroups(t, mustRead(t, tablePath))) {
		t.Error("spec.groups differ from the plain rule file")
	}
	if err := rules.Validate([]byte(strings.Replace(string(out), "kind: PrometheusRule", "kind: ConfigMap", 1)), rules.FormatOperator); err == nil {
		t.Error("a ConfigMap passed as a PrometheusRule")
	}
}

func TestValidateCatchesBrokenRules(t *testing.T) {
	tbl := rulestest.Table(t)
	out, err := tbl.Render(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, broken := range map[string]string{
		"promql":            strings.Replace(string(out), "> 0.8) * 100", "> ) * 100", 1),
		"missing record":    strings.Replace(string(out), "record: instance:resonance_errors_per_minute:rate5m", "record: instance:resonance_errors:rate5m", 1),
		"missing label":     strings.Replace(string(out), "metric: cpu_usage", "metricx: cpu_usage", 1),
		"template":          strings.Replace(string(out), `{{ printf "%.0f" $value }}`, `{{ printf "%.0f" $value `, 1),
		"missing threshold": strings.Replace(string(out), `threshold: "80"`, `threshol: "80"`, 1),
		"formatting error":  strings.Replace(string(out), "Always firing while", "Always firing%!(EXTRA string=1) while", 1),
	} {
		if err := rules.Validate([]byte(broken), rules.FormatPlain); err == nil {
			t.Errorf("%s: broken rules passed", name)
		}
	}
}

// Every alert of the table has a promtool unit test, and every recording rule
// is checked by one.
func TestEveryRuleHasAPromtoolTest(t *testing.T) {
	files, err := filepath.Glob("tests/*.test.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests: %v", err)
	}
	tested := map[string]bool{}
	for _, f := range files {
		var doc struct {
			Tests []struct {
				AlertRuleTest []struct {
					Alertname string `yaml:"alertname"`
					ExpAlerts []any  `yaml:"exp_alerts"`
				} `yaml:"alert_rule_test"`
				PromqlExprTest []struct {
					Expr       string `yaml:"expr"`
					ExpSamples []any  `yaml:"exp_samples"`
				} `yaml:"promql_expr_test"`
			} `yaml:"tests"`
		}
		if err := yaml.Unmarshal(mustRead(t, f), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range doc.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 { // a test that only ever expects silence proves little
					tested[a.Alertname] = true
				}
			}
			for _, e := range tc.PromqlExprTest {
				if len(e.ExpSamples) > 0 {
					tested[e.Expr] = true
				}
			}
		}
	}
	tbl := rulestest.Table(t)
	for _, a := range tbl.AllAlerts() {
		if !tested[a.Name] {
			t.Errorf("alert %s has no promtool test that expects it to fire", a.Name)
		}
	}
	for _, r := range tbl.RecordingRules {
		if !tested[r.Name] {
			t.Errorf("recording rule %s has no promtool test", r.Name)
		}
	}
}

// promtool itself: check rules and the unit tests, with the pinned promtool.
func TestPromtool(t *testing.T) {
	promtool := tooltest.Path(t, "promtool")
	run := func(args ...string) {
		cmd := exec.Command(promtool, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("check", "rules", "resonance.rules.yml")
	files, _ := filepath.Glob("tests/*.test.yml")
	run(append([]string{"test", "rules"}, files...)...)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func itoa(i int) string { return strconv.Itoa(i) }

// A stack that brings its own Watchdog (kube-prometheus-stack) turns the
// pack's off in the table: no rule is generated for it, the others stay.
func TestWatchdogCanBeTurnedOff(t *testing.T) {
	data, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	on, err := rules.ParseThresholds(tablePath, data)
	if err != nil {
		t.Fatal(err)
	}
	off, err := rules.ParseThresholds(tablePath, []byte(strings.Replace(string(data), "enabled: true", "enabled: false", 1)))
	if err != nil {
		t.Fatal(err)
	}
	names := func(tbl *rules.Table) []string {
		var n []string
		for _, g := range tbl.RuleGroups().Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					n = append(n, r.Alert)
				}
			}
		}
		return n
	}
	if !slices.Contains(names(on), "Watchdog") {
		t.Fatal("the table's Watchdog is not generated")
	}
	if got := names(off); slices.Contains(got, "Watchdog") || len(got) != len(names(on))-1 {
		t.Errorf("with enabled: false got %v", got)
	}
}

// Every aggregation keeps the group labels: no rule of the pack sums a
// Kubernetes target label (namespace, cluster) away.
func TestEveryAggregationKeepsTheGroupLabels(t *testing.T) {
	tbl := rulestest.Table(t)
	for _, g := range tbl.RuleGroups().Groups {
		for _, r := range g.Rules {
			for _, by := range regexp.MustCompile(`\b(?:sum|max|min|count|group) by \(([^)]*)\)`).FindAllStringSubmatch(r.Expr, -1) {
				if !strings.Contains(by[1], "cluster, namespace, job") {
					t.Errorf("%s%s: aggregates by (%s), dropping namespace or cluster", r.Alert, r.Record, by[1])
				}
			}
			if strings.Contains(r.Expr, "on (job") {
				t.Errorf("%s%s: matches on job without namespace and cluster", r.Alert, r.Record)
			}
		}
	}
}
