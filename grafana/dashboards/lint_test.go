package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	promparser "github.com/prometheus/prometheus/promql/parser"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// This file holds the conventions of Grafana's dashboard-linter
// (github.com/grafana/dashboard-linter) as a test of the committed JSON
// files, the files Grafana provisions and the Helm chart copies: a
// datasource variable every panel and query reads, job and instance
// variables every query matches on, $__rate_interval in every rate, valid
// units, editable: false, and a runbook link on every panel that shows an
// alert's figure.

// lintDashboard is the part of a dashboard JSON file the rules read.
type lintDashboard struct {
	Title      string `json:"title"`
	Editable   *bool  `json:"editable"`
	Templating struct {
		List []lintVariable `json:"list"`
	} `json:"templating"`
	Panels []lintPanel `json:"panels"`
}

type lintVariable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Label      string          `json:"label"`
	Query      json.RawMessage `json:"query"`
	Datasource *lintDatasource `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Current    struct {
		Text  json.RawMessage `json:"text"`
		Value json.RawMessage `json:"value"`
	} `json:"current"`
}

type lintDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type lintPanel struct {
	Type        string          `json:"type"`
	ID          int             `json:"id"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *lintDatasource `json:"datasource"`
	Targets     []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource *lintDatasource `json:"datasource"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Links []struct {
		Title string `json:"title"`
		URL   string `json:"url"`
	} `json:"links"`
	Panels []lintPanel `json:"panels"`
}

// validUnits are Grafana's unit ids (packages/grafana-data/src/valueFormats/
// categories.ts) this pack may use; dashboard-linter's panel-units-rule
// accepts the same ids. Custom units ("suffix:…") are not among them.
var validUnits = []string{
	"none", "short", "percent", "percentunit", "bool", "bool_yes_no", "bool_on_off",
	"bytes", "decbytes", "kbytes", "mbytes", "gbytes",
	"ns", "µs", "ms", "s", "m", "h", "d", "dtdurations", "dtdurationms",
	"cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm",
}

// Series that lack a label the dashboards' variables pick, so that a
// matcher on it would select nothing, and the reason. dashboard-linter
// takes such exceptions in a .lint file; here they are named one by one.
var (
	withoutJob = map[string]string{
		rules.RecordSLOObjective: "a constant per objective (vector(0.995) with an slo label), no target's series",
	}
	withoutInstance = map[string]string{
		"ALERTS": "alerts judged per job (SLO burn rates, relay delivery, the pipeline) carry no instance; an instance matcher would hide them",
	}
	withoutInstancePrefix = map[string]string{
		"slo:": "the SLO series are per job: no instance label",
	}
)

// fixedRanges are panels that show exactly the expression an alert
// compares, with the alert's own windows, rather than a rate over
// $__rate_interval: "file / panel title".
var fixedRanges = map[string]string{
	"pi-network.json / Unauthorized transactions": "the value WalletCompromised compares: increase over the alert's 1h and a gap-spanning last_over_time",
}

// Sentinels the variables are replaced with before parsing: odd values, so
// a matcher or a range that is anything else stands out.
const (
	lintJob          = "__job_var__"
	lintInstance     = "__instance_var__"
	lintRateInterval = 4321 * time.Second
	lintRange        = 8765 * time.Second
	lintInterval     = 1357 * time.Second
)

func lintExpand(expr string) string {
	return strings.NewReplacer(
		"$__rate_interval", (lintRateInterval).String(),
		"$__interval", (lintInterval).String(),
		"$__range", (lintRange).String(),
		"${job}", lintJob, "$job", lintJob,
		"${instance}", lintInstance, "$instance", lintInstance,
	).Replace(expr)
}

func TestCommittedJSONFollowsGrafanasDashboardConventions(t *testing.T) {
	table := rulestest.Table(t)
	findings := lintDir(t, ".", table)
	for _, f := range findings {
		t.Error(f)
	}
	if len(findings) > 0 {
		t.Logf("%d findings", len(findings))
	}
}

// TestLintRulesCatchViolations checks the rules themselves on a dashboard
// that breaks each of them once.
func TestLintRulesCatchViolations(t *testing.T) {
	bad := `{
  "title": "Bad", "editable": true,
  "templating": {"list": [
    {"type": "query", "name": "instance", "label": "Instance", "datasource": {"uid": "prom"}, "multi": true, "includeAll": true, "allValue": ".*"}
  ]},
  "panels": [
    {"type": "timeseries", "id": 1, "title": "CPU", "description": "The figure HighCPU compares.", "datasource": {"uid": "prom"},
     "fieldConfig": {"defaults": {"unit": "Pi"}},
     "targets": [{"refId": "A", "datasource": {"uid": "prom"}, "expr": "rate(x{job=\"resonance\", instance=~\"$instance\"}[5m]) + increase(y{job=~\"$job\"}[1h])"}]}
  ]
}`
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o644))
	got := strings.Join(lintDir(t, dir, rulestest.Table(t)), "\n")
	for _, want := range []string{
		"editable",
		"no datasource variable",
		"no job variable",
		`variable instance: allValue ".*"`,
		`variable instance: label "Instance"`,
		"panel datasource",
		"query datasource",
		`no job=~"$job"`,
		`no instance=~"$instance"`,
		"rate over 5m0s",
		"increase over 1h0m0s",
		`unit "Pi"`,
		"no link to the runbook of HighCPU",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no finding %q in:\n%s", want, got)
		}
	}
}

// lintDir lints every JSON file of dir and returns the findings, one line
// each.
func lintDir(t *testing.T, dir string, table *rules.Table) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("%s: no dashboard JSON", dir)
	}
	runbooks := alertRunbooks(table)
	var findings []string
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d lintDashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		file := filepath.Base(path)
		report := func(format string, args ...any) {
			findings = append(findings, file+": "+fmt.Sprintf(format, args...))
		}
		lintDashboardFile(d, file, runbooks, report)
	}
	return findings
}

func lintDashboardFile(d lintDashboard, file string, runbooks map[string]string, report func(string, ...any)) {
	if d.Editable == nil || *d.Editable {
		report("editable is not false: a provisioned dashboard is edited in Go, not in Grafana")
	}
	lintVariables(d, report)
	var walk func([]lintPanel)
	walk = func(ps []lintPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			lintPanelOf(p, file, runbooks, report)
		}
	}
	walk(d.Panels)
}

func lintVariables(d lintDashboard, report func(string, ...any)) {
	var ds *lintVariable
	for i, v := range d.Templating.List {
		if v.Type == "datasource" {
			ds = &d.Templating.List[i]
		}
	}
	switch {
	case ds == nil:
		report("no datasource variable")
	case ds.Name != datasourceVariable || ds.Label != "Data source" || string(ds.Query) != `"prometheus"`:
		report("datasource variable %q (%q, query %s), want %q labelled \"Data source\" of Prometheus", ds.Name, ds.Label, ds.Query, datasourceVariable)
	}
	for _, name := range []string{"job", "instance"} {
		i := slices.IndexFunc(d.Templating.List, func(v lintVariable) bool { return v.Name == name })
		if i < 0 {
			report("no %s variable", name)
			continue
		}
		v := d.Templating.List[i]
		if v.Type != "query" {
			report("variable %s: type %q, want a query", name, v.Type)
		}
		if v.Label != name {
			report("variable %s: label %q, want %q", name, v.Label, name)
		}
		if v.Datasource == nil || !isDatasourceVariable(v.Datasource.UID) {
			report("variable %s: datasource %+v, want ${datasource}", name, v.Datasource)
		}
		if !v.Multi || !v.IncludeAll {
			report("variable %s: multi %t, includeAll %t, want both", name, v.Multi, v.IncludeAll)
		}
		if v.AllValue != ".+" {
			report("variable %s: allValue %q, want \".+\"", name, v.AllValue)
		}
		var query string
		if err := json.Unmarshal(v.Query, &query); err != nil || !strings.HasPrefix(query, "label_values(") {
			report("variable %s: query %s, want label_values(…)", name, v.Query)
		}
	}
}

func isDatasourceVariable(uid string) bool {
	return uid == "${"+datasourceVariable+"}" || uid == "$"+datasourceVariable
}

func lintPanelOf(p lintPanel, file string, runbooks map[string]string, report func(string, ...any)) {
	name := fmt.Sprintf("panel %d %q", p.ID, p.Title)
	if p.Datasource == nil || !isDatasourceVariable(p.Datasource.UID) {
		report("%s: panel datasource %+v, want ${datasource}", name, p.Datasource)
	}
	if !slices.Contains(validUnits, p.FieldConfig.Defaults.Unit) {
		report("%s: unit %q is not one of Grafana's units", name, p.FieldConfig.Defaults.Unit)
	}
	for alert, url := range runbooks {
		if !regexp.MustCompile(`\b` + alert + `\b`).MatchString(p.Title + " " + p.Description) {
			continue
		}
		if !slices.ContainsFunc(p.Links, func(l struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		}) bool {
			return l.URL == url
		}) {
			report("%s: names %s but has no link to the runbook of %s (%s)", name, alert, alert, url)
		}
	}
	for _, target := range p.Targets {
		tname := name + " " + target.RefID
		if target.Datasource == nil || !isDatasourceVariable(target.Datasource.UID) {
			report("%s: query datasource %+v, want ${datasource}", tname, target.Datasource)
		}
		expr, err := promparser.NewParser(promparser.Options{}).ParseExpr(lintExpand(target.Expr))
		if err != nil {
			report("%s: %v: %s", tname, err, target.Expr)
			continue
		}
		lintMatchers(expr, tname, target.Expr, report)
		if _, fixed := fixedRanges[file+" / "+p.Title]; !fixed {
			lintRanges(expr, tname, target.Expr, report)
		}
	}
}

// lintMatchers wants job=~"$job" and instance=~"$instance" on every series
// selector, and no other job or instance matcher.
func lintMatchers(expr promparser.Expr, name, raw string, report func(string, ...any)) {
	for _, sel := range promparser.ExtractSelectors(expr) {
		metric := ""
		for _, m := range sel {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				metric = m.Value
			}
		}
		for _, want := range []struct{ label, value string }{{"job", lintJob}, {"instance", lintInstance}} {
			if want.label == "job" && withoutJob[metric] != "" {
				continue
			}
			if want.label == "instance" && (withoutInstance[metric] != "" || hasExemptPrefix(metric)) {
				continue
			}
			found := false
			for _, m := range sel {
				if m.Name != want.label {
					continue
				}
				if m.Type == labels.MatchRegexp && m.Value == want.value {
					found = true
				} else {
					report("%s: %s matcher %s besides the variable's: %s", name, want.label, m, raw)
				}
			}
			if !found {
				report(`%s: %s has no %s=~"$%s": %s`, name, metric, want.label, want.label, raw)
			}
		}
	}
}

func hasExemptPrefix(metric string) bool {
	for prefix := range withoutInstancePrefix {
		if strings.HasPrefix(metric, prefix) {
			return true
		}
	}
	return false
}

// lintRanges wants $__rate_interval as the range of every rate(), irate()
// and increase(); increase() may also take $__range, for a total over the
// dashboard's time range. Recording rules (instance:…:rate5m) are plain
// selectors and keep the window the rule pack gives them.
func lintRanges(expr promparser.Expr, name, raw string, report func(string, ...any)) {
	promparser.Inspect(expr, func(node promparser.Node, _ []promparser.Node) error {
		call, ok := node.(*promparser.Call)
		if !ok {
			return nil
		}
		switch call.Func.Name {
		case "rate", "irate", "increase":
		default:
			return nil
		}
		for _, arg := range call.Args {
			m, ok := arg.(*promparser.MatrixSelector)
			if !ok {
				continue
			}
			if m.Range == lintRateInterval || (call.Func.Name == "increase" && m.Range == lintRange) {
				continue
			}
			report("%s: %s over %v, want $__rate_interval: %s", name, call.Func.Name, m.Range, raw)
		}
		return nil
	})
}

// alertRunbooks maps every alert of the table, burn-rate alerts included,
// to its runbook's URL.
func alertRunbooks(t *rules.Table) map[string]string {
	out := map[string]string{}
	for _, a := range t.AllAlerts() {
		out[a.Name] = t.RunbookURL(a)
	}
	for _, a := range t.SLOs.Alerts {
		out[a.Name] = t.SLORunbookURL(a)
	}
	return out
}
