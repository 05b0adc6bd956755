// Package rules turns the thresholds table (rules/thresholds.yml), the one
// source of truth for the plan's thresholds, into the Prometheus rule pack:
// recording rules for the plan's derived figures and one alert per threshold.
package rules

import (
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Default locations, relative to the repository root.
const (
	DefaultThresholdsPath = "rules/thresholds.yml"
	DefaultRulesPath      = "rules/resonance.rules.yml"
	DefaultRunbooksPath   = "docs/runbooks.md"
	// DefaultChartRulesPath is the PrometheusRule the Helm chart ships,
	// written beside the plain pack so the chart never drifts from it.
	DefaultChartRulesPath = "deploy/helm/resonance-telemetry/files/prometheusrule.yaml"
)

// Severity is an alert's tier, the severity label Alertmanager routes on.
type Severity string

// The plan's three alert tiers.
const (
	Critical Severity = "critical"
	Warning  Severity = "warning"
	Info     Severity = "info"
)

var severities = []Severity{Critical, Warning, Info}

// Table is the loaded thresholds table.
type Table struct {
	Path string
	// Service names the watched service in alert summaries.
	Service string
	// Selector holds the label matchers of the exporter's scrape job,
	// without braces, e.g. `job="resonance"`.
	Selector string
	// GroupLabels are the target labels every aggregation keeps
	// (group_labels): one series per scrape target, within its namespace
	// and cluster, so the operator's AlertmanagerConfig (which matches on
	// namespace) sees every alert and two installs never merge.
	GroupLabels []string
	// PrometheusSelector and AlertmanagerSelector select the pack's own
	// Prometheus and Alertmanager jobs: next to another stack
	// (kube-prometheus-stack) the pipeline alerts judge only these.
	PrometheusSelector, AlertmanagerSelector string
	// RunbookBaseURL is docs/runbooks.md as users can open it; alerts link
	// to RunbookBaseURL#<anchor>.
	RunbookBaseURL string
	Alerts         []Alert
	// Pipeline are the alerts on the alerting pipeline itself and on what
	// the plan's thresholds cannot see (exporter down, app silent): the
	// table's pipeline: section.
	Pipeline []Alert
	// RecordingRules are the derived figures the alerts and dashboards read.
	RecordingRules []RecordingRule
	// SLOs are the service-level objectives and their burn-rate alerts.
	SLOs SLOs
}

// Alert is one row of the table: one threshold of the plan.
type Alert struct {
	Name     string
	Severity Severity
	// Metric is the plan metric name, the alert's metric label.
	Metric string
	// Op compares the value with the threshold: ">", "<" or "==".
	Op string
	// Threshold is written in Unit, the plan's unit ("%", "MB", "ms", ...).
	Threshold float64
	Unit      string
	// BaseThreshold is Threshold in the unit of the series the alert
	// reads (ratio, bytes, seconds, ...).
	BaseThreshold float64
	// ValueExpr is the PromQL of the compared value, in the base unit.
	ValueExpr string
	// Records names the recording rules the alert reads.
	Records []string
	// MinRequests is the traffic a ratio or mean alert needs in its window
	// before it may fire (min_requests; 0 for other alerts).
	MinRequests int
	// Window is the rate window of a figure over time (window:, 5m by
	// default); LongWindow, when set, is judged instead while Window holds
	// fewer than MinRequests requests (long_window:).
	Window, LongWindow string
	// Mountpoints limits a disk alert to these mountpoints (all when empty).
	Mountpoints []string
	// KeepFiringFor keeps a firing alert firing that long after its
	// condition clears (keep_firing_for:): one incident with lulls is one
	// alert.
	KeepFiringFor time.Duration
	// Disabled is a pipeline alert the table turns off (enabled: false),
	// e.g. the Watchdog next to a stack that brings its own.
	Disabled bool
	// Check names the pipeline check of a pipeline alert (empty for the
	// plan's thresholds).
	Check string
	For   time.Duration
	// RunbookAnchor is the section of docs/runbooks.md for this alert.
	RunbookAnchor string
	// Summary is a short title, e.g. "Error storm".
	Summary string
	// Line is where the alert starts in the table.
	Line int
}

// RunbookURL is where the alert's runbook_url annotation points.
func (t *Table) RunbookURL(a Alert) string {
	return t.RunbookBaseURL + "#" + a.RunbookAnchor
}

// Alert returns the alert of that name, a threshold or a pipeline alert.
func (t *Table) Alert(name string) (Alert, bool) {
	for _, a := range t.AllAlerts() {
		if a.Name == name {
			return a, true
		}
	}
	return Alert{}, false
}

// AllAlerts lists the threshold alerts, then the pipeline alerts.
func (t *Table) AllAlerts() []Alert {
	return slices.Concat(t.Alerts, t.Pipeline)
}

// LoadThresholds reads and validates a thresholds table.
func LoadThresholds(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseThresholds(path, data)
}

// ParseThresholds validates a thresholds table read from path. Every problem
// is reported, each as "path:line: message".
func ParseThresholds(path string, data []byte) (*Table, error) {
	p := tableParser{path: path}
	t := p.parse(data)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return t, nil
}

type tableParser struct {
	path string
	errs []error
}

func (p *tableParser) errorf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.path, line, fmt.Sprintf(format, args...)))
}

func (p *tableParser) parse(data []byte) *Table {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 errors already name the line ("yaml: line 3: ...").
		p.errs = append(p.errs, fmt.Errorf("%s: %w", p.path, err))
		return nil
	}
	if len(doc.Content) == 0 {
		p.errorf(&doc, "empty table")
		return nil
	}
	top := p.mapping(doc.Content[0], "table", []string{"service", "selector", "group_labels", "prometheus_selector", "alertmanager_selector", "runbook_base_url", "alerts", "pipeline", "slos"})
	if top == nil {
		return nil
	}
	t := &Table{
		Path:           p.path,
		Service:        p.requiredString(top, doc.Content[0], "service"),
		Selector:       p.requiredString(top, doc.Content[0], "selector"),
		RunbookBaseURL: p.requiredString(top, doc.Content[0], "runbook_base_url"),
	}
	for _, f := range []struct {
		key string
		sel *string
	}{{"selector", &t.Selector}, {"prometheus_selector", &t.PrometheusSelector}, {"alertmanager_selector", &t.AlertmanagerSelector}} {
		n := top[f.key]
		if n == nil {
			if f.key != "selector" {
				*f.sel = defaultPipelineSelectors[f.key]
			}
			continue
		}
		*f.sel = n.Value
		if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector("{" + *f.sel + "}"); err != nil || n.Kind != yaml.ScalarNode || *f.sel == "" {
			p.errorf(n, "%s %q: want label matchers without braces, e.g. job=\"prometheus\" (%v)", f.key, *f.sel, err)
		}
	}
	t.GroupLabels = p.groupLabels(top["group_labels"])
	t.RecordingRules = recordingRules(t.selector())

	list := top["alerts"]
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errorf(orNode(list, doc.Content[0]), "alerts: want a list of alerts")
		return t
	}
	seen := map[string]int{}
	s := t.selector()
	t.Alerts = p.alertList(list, seen, func(n *yaml.Node) (Alert, bool) { return p.alert(n, s) })
	if list := top["pipeline"]; list != nil {
		if list.Kind != yaml.SequenceNode {
			p.errorf(list, "pipeline: want a list of alerts")
			return t
		}
		t.Pipeline = p.alertList(list, seen, p.pipelineAlert)
	}
	t.SLOs = p.slos(top["slos"], t)
	return t
}

// alertList parses a list of alerts; seen holds the names of every list of
// the table, so a name is unique across them.
func (p *tableParser) alertList(list *yaml.Node, seen map[string]int, parse func(*yaml.Node) (Alert, bool)) []Alert {
	var alerts []Alert
	for _, n := range list.Content {
		// Duplicates first, so they are reported even when a copy has
		// other errors too.
		if name := alertName(n); name != "" {
			if first, dup := seen[name]; dup {
				p.errorf(n, "duplicate alert name %q (first defined at line %d)", name, first)
				continue
			}
			seen[name] = n.Line
		}
		if a, ok := parse(n); ok {
			alerts = append(alerts, a)
		}
	}
	return alerts
}

var alertKeys = []string{"alert", "severity", "metric", "op", "threshold", "unit", "min_requests", "window", "long_window", "mountpoints", "for", "keep_firing_for", "runbook", "summary"}

// DefaultGroupLabels are the target labels kept when the table has no
// group_labels: the ones kubernetes-mixin's alerts keep (cluster,
// namespace, job, pod, container) and the instance Alertmanager's
// inhibitions match on. Not service: the app's own label of that name
// (resonance_errors_total{service}) is summed over.
var DefaultGroupLabels = []string{"cluster", "namespace", "job", "pod", "container", "instance"}

// defaultPipelineSelectors select the Prometheus and Alertmanager jobs of the pack's own stack (prometheus/prometheus.yml).
var defaultPipelineSelectors = map[string]string{
	"prometheus_selector":   `job="prometheus"`,
	"alertmanager_selector": `job="alertmanager"`,
}

// rateWindows are the windows an alert's window: and long_window: may read.
var rateWindows = []string{"1m", "2m", "3m", "5m", "10m", "15m", "30m", "1h", "2h"}

// selector is the exporter's selector with the table's group labels.
func (t *Table) selector() selector {
	return selector{matchers: t.Selector, labels: t.GroupLabels}
}

func (p *tableParser) groupLabels(n *yaml.Node) []string {
	if n == nil {
		return DefaultGroupLabels
	}
	var labels []string
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "group_labels: want a list of label names")
		return DefaultGroupLabels
	}
	for _, l := range n.Content {
		if !model.LegacyValidation.IsValidLabelName(l.Value) || slices.Contains(labels, l.Value) {
			p.errorf(l, "group_labels: %q is not a label name, or is listed twice", l.Value)
			continue
		}
		labels = append(labels, l.Value)
	}
	for _, need := range []string{"job", "instance"} {
		if !slices.Contains(labels, need) {
			p.errorf(n, "group_labels: must keep %s (the inhibitions and the per-target alerts match on it)", need)
		}
	}
	return labels
}

// defaultMinRequests is the traffic a ratio or mean alert needs in its window
// when the table does not say: below it, one slow or failed request out of a
// handful is noise, not an outage.
const defaultMinRequests = 20

func (p *tableParser) alert(n *yaml.Node, s selector) (Alert, bool) {
	fields := p.mapping(n, "alert", alertKeys)
	if fields == nil {
		return Alert{}, false
	}
	before := len(p.errs)
	a := Alert{
		Line:          n.Line,
		Name:          p.requiredString(fields, n, "alert"),
		Severity:      Severity(p.requiredString(fields, n, "severity")),
		Metric:        p.requiredString(fields, n, "metric"),
		Op:            p.requiredString(fields, n, "op"),
		Unit:          p.requiredString(fields, n, "unit"),
		RunbookAnchor: p.requiredString(fields, n, "runbook"),
		Summary:       p.requiredString(fields, n, "summary"),
	}
	if len(p.errs) > before {
		return Alert{}, false
	}
	p.checkSeverity(fields["severity"], a, severities)
	if !slices.Contains([]string{">", "<", "=="}, a.Op) {
		p.errorf(fields["op"], `alert %s: op %q is not one of ">", "<", "=="`, a.Name, a.Op)
	}
	p.checkNames(fields, a)

	a.For = p.duration(fields, n, a.Name)
	a.KeepFiringFor = p.keepFiringFor(fields, a.Name)

	m, known := catalog[a.Metric]
	if !known {
		p.errorf(fields["metric"], "alert %s: unknown metric %q (known: %s)", a.Name, a.Metric, strings.Join(PlanMetrics(), ", "))
		return Alert{}, false
	}
	meas, measurable := m.measures[a.Unit]
	if !measurable {
		p.errorf(fields["unit"], "alert %s: %s is not measured in %q: write its threshold in %s", a.Name, a.Metric, a.Unit, strings.Join(m.unitNames(), " or "))
		return Alert{}, false
	}
	u := units[a.Unit]
	thr, ok := p.threshold(fields, n, a)
	if !ok {
		return Alert{}, false
	}
	a.Threshold = thr
	a.BaseThreshold = u.toBase(thr)
	a.Window, a.LongWindow = p.windows(fields, a, meas)
	a.Mountpoints = p.mountpoints(fields, a)
	s = a.scope(s)
	a.ValueExpr = meas.valueExpr(s, a.Window)
	if meas.rate != nil && a.Window == rateWindow {
		a.Records = []string{meas.rate.record}
	}
	a.MinRequests = p.minRequests(fields, a, meas)
	if len(p.errs) > before {
		return Alert{}, false
	}
	return a, true
}

// scope narrows the selector to the alert's mountpoints.
func (a Alert) scope(s selector) selector {
	if len(a.Mountpoints) == 0 {
		return s
	}
	quoted := make([]string, len(a.Mountpoints))
	for i, m := range a.Mountpoints {
		quoted[i] = regexp.QuoteMeta(m)
	}
	return s.with(fmt.Sprintf("mountpoint=~%q", strings.Join(quoted, "|")))
}

// windows reads window and long_window, which only figures over a rate
// window have; long_window only with a traffic guard, and longer.
func (p *tableParser) windows(fields map[string]*yaml.Node, a Alert, meas measure) (string, string) {
	window, long := rateWindow, ""
	for _, key := range []string{"window", "long_window"} {
		v := fields[key]
		if v == nil {
			continue
		}
		switch {
		case meas.rate == nil:
			p.errorf(v, "alert %s: %s: %s is not a rate over a window", a.Name, key, a.Metric)
		case key == "long_window" && meas.traffic == nil:
			p.errorf(v, "alert %s: long_window: %s has no request count to fall back on", a.Name, a.Metric)
		case !slices.Contains(rateWindows, v.Value):
			p.errorf(v, "alert %s: %s %q: want one of %s", a.Name, key, v.Value, strings.Join(rateWindows, ", "))
		case key == "window":
			window = v.Value
		default:
			long = v.Value
		}
	}
	if long != "" && slices.Index(rateWindows, long) <= slices.Index(rateWindows, window) {
		p.errorf(fields["long_window"], "alert %s: long_window %s must be longer than window %s", a.Name, long, window)
	}
	return window, long
}

// mountpoints reads mountpoints, which only disk alerts have.
func (p *tableParser) mountpoints(fields map[string]*yaml.Node, a Alert) []string {
	v := fields["mountpoints"]
	if v == nil {
		return nil
	}
	if a.Metric != "disk_usage" {
		p.errorf(v, "alert %s: mountpoints: only disk_usage has mountpoints", a.Name)
		return nil
	}
	var mps []string
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		p.errorf(v, "alert %s: mountpoints: want a list of mountpoints, e.g. [/]", a.Name)
		return nil
	}
	for _, m := range v.Content {
		if !strings.HasPrefix(m.Value, "/") {
			p.errorf(m, "alert %s: mountpoints: %q is not an absolute path", a.Name, m.Value)
		}
		mps = append(mps, m.Value)
	}
	return mps
}

func (p *tableParser) keepFiringFor(fields map[string]*yaml.Node, name string) time.Duration {
	v := fields["keep_firing_for"]
	if v == nil {
		return 0
	}
	d, err := model.ParseDuration(v.Value)
	if err != nil {
		p.errorf(v, "alert %s: keep_firing_for %q: %v", name, v.Value, err)
	}
	return time.Duration(d)
}

// checkNames checks the alert name and its runbook anchor.
func (p *tableParser) checkNames(fields map[string]*yaml.Node, a Alert) {
	if !model.UTF8Validation.IsValidMetricName(a.Name) || strings.ContainsAny(a.Name, " \t") {
		p.errorf(fields["alert"], "alert name %q is not a valid alert name", a.Name)
	}
	if strings.ContainsAny(a.RunbookAnchor, "# \t") {
		p.errorf(fields["runbook"], "alert %s: runbook %q: want the bare anchor of a heading in %s, e.g. %q", a.Name, a.RunbookAnchor, DefaultRunbooksPath, strings.ToLower(a.Name))
	}
}

func (p *tableParser) checkSeverity(n *yaml.Node, a Alert, allowed []Severity) {
	if !slices.Contains(allowed, a.Severity) {
		names := make([]string, len(allowed))
		for i, s := range allowed {
			names[i] = string(s)
		}
		p.errorf(n, "alert %s: severity %q is not one of %s", a.Name, a.Severity, strings.Join(names, ", "))
	}
}

// minRequests reads min_requests, which only ratio and mean alerts have.
func (p *tableParser) minRequests(fields map[string]*yaml.Node, a Alert, meas measure) int {
	v := fields["min_requests"]
	if meas.traffic == nil {
		if v != nil {
			p.errorf(v, "alert %s: min_requests: %s is not a ratio or mean of requests", a.Name, a.Metric)
		}
		return 0
	}
	if v == nil {
		return defaultMinRequests
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil || n < 1 {
		p.errorf(v, "alert %s: min_requests %q: want a whole number of requests, at least 1", a.Name, v.Value)
		return 0
	}
	return n
}

// threshold reads a threshold in the alert's unit: a number, or for a
// boolean metric true or false (1 or 0).
func (p *tableParser) threshold(fields map[string]*yaml.Node, n *yaml.Node, a Alert) (float64, bool) {
	v := fields["threshold"]
	if v == nil {
		p.errorf(n, "alert %s: threshold is missing", a.Name)
		return 0, false
	}
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, "alert %s: threshold: want a number", a.Name)
		return 0, false
	}
	if a.Unit == "boolean" {
		switch v.Value {
		case "true":
			return 1, true
		case "false":
			return 0, true
		}
		p.errorf(v, "alert %s: threshold %q: %s is a boolean, want true or false", a.Name, v.Value, a.Metric)
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.errorf(v, "alert %s: threshold %q: want a plain number in %s (the unit goes in unit:)", a.Name, v.Value, a.Unit)
		return 0, false
	}
	if a.Unit == "%" && (f < 0 || f > 100) {
		p.errorf(v, "alert %s: threshold %v%% is outside 0-100%%", a.Name, f)
		return 0, false
	}
	if a.Unit == "score" && (f < 0 || f > 100) {
		p.errorf(v, "alert %s: threshold %v is outside the score's 0-100", a.Name, f)
		return 0, false
	}
	if f < 0 {
		p.errorf(v, "alert %s: threshold %v is negative", a.Name, f)
		return 0, false
	}
	return f, true
}

func (p *tableParser) duration(fields map[string]*yaml.Node, n *yaml.Node, name string) time.Duration {
	v := fields["for"]
	if v == nil {
		p.errorf(n, "alert %s: for is missing (write 0s to fire at once)", name)
		return 0
	}
	d, err := model.ParseDuration(v.Value)
	if err != nil {
		p.errorf(v, "alert %s: for %q: %v", name, v.Value, err)
	}
	return time.Duration(d)
}

// mapping returns the keys of a YAML mapping, reporting unknown and repeated
// keys, so a typo in the table is an error rather than a silent default.
func (p *tableParser) mapping(n *yaml.Node, what string, known []string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s: want a mapping", what)
		return nil
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.errorf(k, "%s: unknown field %q (known: %s)", what, k.Value, strings.Join(known, ", "))
		case fields[k.Value] != nil:
			p.errorf(k, "%s: field %q given twice", what, k.Value)
		default:
			fields[k.Value] = v
		}
	}
	return fields
}

func (p *tableParser) requiredString(fields map[string]*yaml.Node, parent *yaml.Node, key string) string {
	v := fields[key]
	if v == nil {
		p.errorf(parent, "%s is missing", key)
		return ""
	}
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		p.errorf(v, "%s: want a non-empty string", key)
		return ""
	}
	return v.Value
}

// alertName is the value of an alert's "alert" key, if it has one.
func alertName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "alert" {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// formatNumber writes a number as PromQL and the annotations take it: plain
// decimal, no exponent, no trailing zeros.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
