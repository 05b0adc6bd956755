package rules_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// The four objectives of the issue, derived from the plan's thresholds, and
// the workbook's burn-rate pairs.
func TestTableHasTheSLOs(t *testing.T) {
	tbl := rulestest.Table(t)
	want := []struct {
		name, metric string
		objective    float64
		thresholdMS  float64
		budget       float64
	}{
		{"api-availability", "api_error_rate", 99.5, 0, 0.005},
		{"api-latency", "api_response_time", 95, 2000, 0.05},
		{"huggingface-latency", "huggingface_latency", 95, 5000, 0.05},
		{"pi-sdk-latency", "pi_sdk_latency", 95, 3000, 0.05},
	}
	if len(tbl.SLOs.Objectives) != len(want) {
		t.Fatalf("%d objectives, want %d", len(tbl.SLOs.Objectives), len(want))
	}
	for i, w := range want {
		s := tbl.SLOs.Objectives[i]
		if s.Name != w.name || s.Metric != w.metric || s.Objective != w.objective || s.Threshold != w.thresholdMS || s.ErrorBudget() != w.budget {
			t.Errorf("objective %d: %s %s %v%% threshold %v budget %v, want %+v", i, s.Name, s.Metric, s.Objective, s.Threshold, s.ErrorBudget(), w)
		}
		if s.Window.String() != "30d" || s.MinRequests != 20 {
			t.Errorf("%s: window %s, min_requests %d, want the defaults 30d and 20", s.Name, s.Window, s.MinRequests)
		}
	}
	wantAlerts := map[string][]rules.BurnWindow{
		"SLOBurnRateFast": {{14.4, "1h", "5m"}, {6, "6h", "30m"}},
		"SLOBurnRateSlow": {{3, "1d", "2h"}, {1, "3d", "6h"}},
	}
	for _, a := range tbl.SLOs.Alerts {
		if !slices.Equal(a.Windows, wantAlerts[a.Name]) {
			t.Errorf("%s windows %v, want %v", a.Name, a.Windows, wantAlerts[a.Name])
		}
		delete(wantAlerts, a.Name)
	}
	if len(wantAlerts) > 0 {
		t.Errorf("missing burn-rate alerts %v", wantAlerts)
	}
}

// The generated pack has the agreed series names (other parts of the project
// read them), each SLI over every window, and one alert per SLO and
// burn-rate alert with the labels and annotations the relay shows.
func TestSLORuleGroups(t *testing.T) {
	tbl := rulestest.Table(t)
	groups := tbl.RuleGroups().Groups
	byName := map[string]rulefmt.RuleGroup{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	recorded := map[string]bool{}
	fired := map[string]rulefmt.Rule{}
	for i, r := range byName[rules.SLOGroup].Rules {
		if r.Record != "" {
			recorded[r.Record+"/"+r.Labels["slo"]] = true
			if len(fired) > 0 {
				t.Errorf("recording rule %d (%s) after an alert: the alerts would read it one evaluation late", i, r.Record)
			}
			continue
		}
		fired[r.Alert+"/"+r.Labels["slo"]] = r
	}
	for _, s := range tbl.SLOs.Objectives {
		names := []string{rules.RecordSLOObjective, rules.RecordSLOBudgetRemaining, rules.RecordSLOEventRate, rules.RecordSLOBadEventRate}
		for _, w := range []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"} {
			names = append(names, "slo:sli_error:ratio_rate"+w)
		}
		for _, n := range names {
			if !recorded[n+"/"+s.Name] {
				t.Errorf("%s{slo=%q} is not recorded", n, s.Name)
			}
		}
		for _, a := range []string{"SLOBurnRateFast", "SLOBurnRateSlow"} {
			r, ok := fired[a+"/"+s.Name]
			if !ok {
				t.Errorf("no %s for %s", a, s.Name)
				continue
			}
			if r.Labels["metric"] != s.Metric || r.Labels["severity"] == "" {
				t.Errorf("%s/%s labels %v", a, s.Name, r.Labels)
			}
			if !strings.Contains(r.Annotations[rules.AnnotationErrorBudgetRemaining], rules.RecordSLOBudgetRemaining) ||
				!strings.HasSuffix(r.Annotations[rules.AnnotationRunbookURL], "/docs/slos.md#"+strings.ToLower(a)) {
				t.Errorf("%s/%s annotations %v", a, s.Name, r.Annotations)
			}
		}
	}
	if n := len(fired); n != 8 {
		t.Errorf("%d SLO alerting rules, want 8 (2 alerts x 4 SLOs)", n)
	}
	// The PrometheusRule carries the same groups.
	out, err := tbl.Render(rules.Options{Format: rules.FormatOperator})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "name: "+rules.SLOGroup) {
		t.Error("the PrometheusRule lacks the SLO group")
	}
}

// The burn-rate arithmetic, as PromQL: the threshold divides the error ratio
// by the budget, both windows must exceed it, and the short window needs
// min_requests events.
func TestBurnRateExpr(t *testing.T) {
	tbl := rulestest.Table(t)
	s, _ := tbl.SLO("api-availability")
	fast := tbl.SLOs.Alerts[0]
	got := s.BurnRateExpr(fast, rules.SelectorOf(tbl))
	for _, want := range []string{
		`slo:sli_error:ratio_rate1h{slo="api-availability"} / 0.005 > 14.4`,
		`slo:sli_error:ratio_rate5m{slo="api-availability"} / 0.005 > 14.4`,
		`sum by (cluster, namespace, job) (increase(resonance_api_requests_total{job="resonance"}[5m])) >= 20`,
		`slo:sli_error:ratio_rate6h{slo="api-availability"} / 0.005 > 6`,
		`sum by (cluster, namespace, job) (increase(resonance_api_requests_total{job="resonance"}[30m])) >= 20`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("expression lacks %q:\n%s", want, got)
		}
	}
	lat, _ := tbl.SLO("pi-sdk-latency")
	if ratio := lat.ErrorRatioExpr(rules.SelectorOf(tbl), "1h"); !strings.Contains(ratio, `resonance_upstream_request_duration_seconds_bucket{job="resonance",upstream="pi_sdk",le=~"3|3\\.0"}[1h]`) {
		t.Errorf("pi-sdk-latency does not read the 3 s bucket:\n%s", ratio)
	}
}

func TestBadSLOTables(t *testing.T) {
	table := string(mustRead(t, tablePath))
	start := strings.Index(table, "\nslos:")
	if start < 0 {
		t.Fatal("no slos: section")
	}
	// lineOf is the line of the first occurrence of s in the slos: section.
	lineOf := func(tbl, s string) int {
		return strings.Count(tbl[:strings.Index(tbl[start:], s)+start], "\n") + 1
	}
	for _, tc := range []struct {
		name, old, new, at, want string
	}{
		{"threshold between buckets", "threshold: 2000", "threshold: 1500", "threshold: 1500",
			"slo api-latency: threshold 1500 ms is not a bucket boundary of resonance_api_request_duration_seconds (boundaries in seconds: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10)"},
		{"upstream threshold between buckets", "threshold: 3000", "threshold: 4000", "threshold: 4000",
			"slo pi-sdk-latency: threshold 4000 ms is not a bucket boundary of resonance_upstream_request_duration_seconds"},
		{"impossible burn rate", "objective: 95\n", "objective: 90\n", "- slo: api-latency",
			"slo api-latency: SLOBurnRateFast at 14.4× over 1h needs an error ratio of 144%, which cannot happen"},
		{"objective of 100", "objective: 99.5", "objective: 100", "objective: 100",
			"slo api-availability: objective 100%: want a percentage between 0 and 100"},
		{"unknown metric", "metric: pi_sdk_latency", "metric: pi_latency", "metric: pi_latency",
			`slo pi-sdk-latency: no indicator for metric "pi_latency" (known: api_error_rate, api_response_time, huggingface_latency, pi_sdk_latency)`},
		{"window not recorded", "long: 6h, short: 30m", "long: 6h, short: 45m", "long: 6h, short: 45m",
			`alert SLOBurnRateFast: short window "45m": want one of the recorded windows 5m, 30m, 1h, 2h, 6h, 1d, 3d`},
		{"short not shorter", "long: 1d, short: 2h", "long: 2h, short: 1d", "long: 2h, short: 1d",
			"alert SLOBurnRateSlow: short window 1d is not shorter than long window 2h"},
		{"duplicate slo", "slo: pi-sdk-latency", "slo: api-latency", "slo: api-latency\n      metric: pi_sdk_latency",
			`duplicate slo "api-latency"`},
		{"name of a threshold alert", "alert: SLOBurnRateSlow", "alert: SlowAPI", "alert: SlowAPI\n      severity: warning\n      runbook: sloburnrateslow",
			"alert SlowAPI is already a threshold alert of the table"},
		{"threshold on availability", "objective: 99.5", "objective: 99.5\n      threshold: 2000", "threshold: 2000\n    - slo: api-latency",
			"slo api-availability: api_error_rate counts 5xx responses: it has no threshold"},
		{"bad window", "window: 30d", "window: a month", "window: a month",
			`slos: window "a month": want a duration such as 30d`},
		{"unknown field", "min_requests: 20", "min_request: 20", "min_request: 20",
			`slos: unknown field "min_request"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(table[start:], tc.old) {
				t.Fatalf("the table has no %q", tc.old)
			}
			bad := table[:start] + strings.Replace(table[start:], tc.old, tc.new, 1)
			_, err := rules.ParseThresholds("t.yml", []byte(bad))
			if err == nil {
				t.Fatal("no error")
			}
			want := fmt.Sprintf("t.yml:%d: %s", lineOf(bad, tc.at), tc.want)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\ndoes not contain %q", err, want)
			}
		})
	}
}

// A table without slos: still generates the plan's rules, and no SLO groups.
func TestTableWithoutSLOs(t *testing.T) {
	table := string(mustRead(t, tablePath))
	tbl, err := rules.ParseThresholds("t.yml", []byte(table[:strings.Index(table, "\nslos:")]))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range tbl.RuleGroups().Groups {
		if strings.HasPrefix(g.Name, "resonance.slo") {
			t.Errorf("group %s without objectives", g.Name)
		}
	}
}

// Every objective has a promtool case in which a burn-rate alert fires for it,
// and every SLO alert fires in some case.
func TestEverySLOHasAFiringPromtoolCase(t *testing.T) {
	type testGroup struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
		PromqlExprTest []struct {
			Expr       string `yaml:"expr"`
			ExpSamples []struct {
				Labels string `yaml:"labels"`
			} `yaml:"exp_samples"`
		} `yaml:"promql_expr_test"`
	}
	var doc struct {
		Tests []testGroup `yaml:"tests"`
	}
	files, err := filepath.Glob(filepath.Join("tests", "slo*.test.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no SLO promtool tests: %v", err)
	}
	var tests []testGroup
	for _, f := range files {
		doc.Tests = nil
		if err := yaml.Unmarshal(mustRead(t, f), &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		tests = append(tests, doc.Tests...)
	}
	fires := map[string]bool{} // alertname/slo
	for _, tc := range tests {
		for _, a := range tc.AlertRuleTest {
			for _, e := range a.ExpAlerts {
				fires[a.Alertname+"/"+e.ExpLabels["slo"]] = true
			}
		}
		for _, e := range tc.PromqlExprTest {
			if !strings.Contains(e.Expr, "ALERTS") {
				continue
			}
			for _, s := range e.ExpSamples {
				m, err := parseLabels(s.Labels)
				if err != nil {
					t.Fatalf("%q: %v", s.Labels, err)
				}
				if m["alertstate"] == "firing" {
					fires[m["alertname"]+"/"+m["slo"]] = true
				}
			}
		}
	}
	tbl := rulestest.Table(t)
	for _, s := range tbl.SLOs.Objectives {
		if !fires["SLOBurnRateFast/"+s.Name] && !fires["SLOBurnRateSlow/"+s.Name] {
			t.Errorf("no promtool case fires a burn-rate alert for %s", s.Name)
		}
	}
	for _, a := range tbl.SLOs.Alerts {
		if !slices.ContainsFunc(tbl.SLOs.Objectives, func(s rules.SLO) bool { return fires[a.Name+"/"+s.Name] }) {
			t.Errorf("no promtool case fires %s", a.Name)
		}
	}
}

// parseLabels reads promtool's `{a="b",...}` label notation.
func parseLabels(s string) (map[string]string, error) {
	var ls model.LabelSet
	if err := ls.UnmarshalJSON([]byte(labelsJSON(s))); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for k, v := range ls {
		m[string(k)] = string(v)
	}
	return m, nil
}

func labelsJSON(s string) string {
	s = s[strings.Index(s, "{"):]
	r := strings.NewReplacer(`{`, `{"`, `=`, `":`, `",`, `","`)
	return r.Replace(s)
}

// The SLO inhibitions of alertmanager.yml: one incident pages once. A
// threshold alert on the same plan metric, on any target, mutes the SLO alert
// of the same or a lower severity; an SLO alert never mutes a threshold alert
// (it carries no instance); SLOBurnRateFast mutes SLOBurnRateSlow of the same
// SLO, never of another.
func TestSLOInhibitions(t *testing.T) {
	inhibitRules := loadInhibitRules(t, filepath.Join("..", "alertmanager", "alertmanager.yml"))
	mutes := func(src, tgt model.LabelSet) bool { return mutedBy(inhibitRules, src, tgt) }
	rank := map[rules.Severity]int{rules.Critical: 3, rules.Warning: 2, rules.Info: 1}
	tbl := rulestest.Table(t)
	type sloAlert struct {
		labels   model.LabelSet
		severity rules.Severity
		slo      rules.SLO
	}
	var slos []sloAlert
	for _, a := range tbl.SLOs.Alerts {
		for _, s := range tbl.SLOs.Objectives {
			slos = append(slos, sloAlert{model.LabelSet{
				"alertname": model.LabelValue(a.Name), "severity": model.LabelValue(a.Severity),
				"metric": model.LabelValue(s.Metric), "slo": model.LabelValue(s.Name), "job": "resonance",
			}, a.Severity, s})
		}
	}
	pairs := 0
	for _, th := range tbl.Alerts {
		thl := model.LabelSet{
			"alertname": model.LabelValue(th.Name), "severity": model.LabelValue(th.Severity),
			"metric": model.LabelValue(th.Metric), "instance": "a:9861", "job": "resonance",
		}
		for _, s := range slos {
			want := th.Metric == s.slo.Metric && rank[th.Severity] >= rank[s.severity]
			if want {
				pairs++
			}
			if got := mutes(thl, s.labels); got != want {
				t.Errorf("%s mutes %s{slo=%q}: %v, want %v", th.Name, s.labels["alertname"], s.slo.Name, got, want)
			}
			if mutes(s.labels, thl) {
				t.Errorf("%s{slo=%q} mutes %s", s.labels["alertname"], s.slo.Name, th.Name)
			}
		}
	}
	// APIFailure: Fast and Slow of api-availability; APIErrorRateHigh: Slow of
	// api-availability; SlowAPI: Slow of api-latency; HuggingFaceLatencyHigh:
	// Slow of huggingface-latency; PiSDKLatencyHigh: Slow of pi-sdk-latency.
	if pairs != 6 {
		t.Errorf("%d muting pairs, want 6", pairs)
	}
	for _, src := range slos {
		for _, tgt := range slos {
			if src.labels["alertname"] == tgt.labels["alertname"] && src.slo.Name == tgt.slo.Name {
				continue
			}
			want := src.slo.Name == tgt.slo.Name && rank[src.severity] > rank[tgt.severity]
			if got := mutes(src.labels, tgt.labels); got != want {
				t.Errorf("%s{slo=%q} mutes %s{slo=%q}: %v, want %v", src.labels["alertname"], src.slo.Name, tgt.labels["alertname"], tgt.slo.Name, got, want)
			}
		}
	}
}

// Every burn-rate alert's runbook_url leads to a heading of docs/slos.md.
func TestSLORunbooksExist(t *testing.T) {
	tbl := rulestest.Table(t)
	if !strings.HasSuffix(tbl.SLOs.RunbookBaseURL, "/docs/slos.md") {
		t.Fatalf("slos: runbook_base_url %q is not docs/slos.md", tbl.SLOs.RunbookBaseURL)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(mustRead(t, filepath.Join("..", "docs", "slos.md"))), "\n") {
		if strings.HasPrefix(line, "#") {
			anchors[rules.HeadingAnchor(strings.TrimLeft(line, "#"))] = true
		}
	}
	for _, a := range tbl.SLOs.Alerts {
		if !anchors[a.RunbookAnchor] {
			t.Errorf("%s: no heading with anchor #%s in docs/slos.md", a.Name, a.RunbookAnchor)
		}
	}
}
