package rules

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Format is the shape of the generated file.
type Format string

// Output formats.
const (
	// FormatPlain is a Prometheus rule file (rule_files: in prometheus.yml).
	FormatPlain Format = "plain"
	// FormatOperator is a prometheus-operator PrometheusRule resource.
	FormatOperator Format = "operator"
)

// Rule group names in the generated file.
const (
	RecordingGroup = "resonance.recording"
	AlertingGroup  = "resonance.alerts"
	PipelineGroup  = "resonance.pipeline"
)

// Annotation names every alert carries. The relay reads threshold and
// current_value as JSON numbers, so both are plain decimals in the plan's
// unit, without a unit suffix.
const (
	AnnotationSummary      = "summary"
	AnnotationDescription  = "description"
	AnnotationRunbookURL   = "runbook_url"
	AnnotationThreshold    = "threshold"
	AnnotationCurrentValue = "current_value"
)

// Options tunes the rendered output.
type Options struct {
	Format Format
	// Name and Namespace of the PrometheusRule (FormatOperator only).
	Name, Namespace string
}

// RuleGroups builds the rule pack: the recording rules, one alert per
// threshold row of the table, then the pipeline alerts. Further groups
// (e.g. SLOs) are appended to groups here.
func (t *Table) RuleGroups() rulefmt.RuleGroups {
	rec := rulefmt.RuleGroup{Name: RecordingGroup}
	for _, r := range t.RecordingRules {
		rec.Rules = append(rec.Rules, rulefmt.Rule{Record: r.Name, Expr: r.Expr})
	}
	alerts := rulefmt.RuleGroup{Name: AlertingGroup}
	for _, a := range t.Alerts {
		alerts.Rules = append(alerts.Rules, t.alertingRule(a, alertExpr(a, t.selector()), description(a)))
	}
	groups := []rulefmt.RuleGroup{rec, alerts}
	pipeline := rulefmt.RuleGroup{Name: PipelineGroup}
	for _, a := range t.Pipeline {
		if !a.Disabled {
			pipeline.Rules = append(pipeline.Rules, t.pipelineRule(a))
		}
	}
	if len(pipeline.Rules) > 0 {
		groups = append(groups, pipeline)
	}
	return rulefmt.RuleGroups{Groups: append(groups, t.sloRuleGroups()...)}
}

func (t *Table) pipelineRule(a Alert) rulefmt.Rule {
	c := pipelineChecks[a.Check]
	u := units[a.Unit]
	thr := formatNumber(a.BaseThreshold)
	desc := strings.NewReplacer("{value}", valueTemplate(a), "{threshold}", formatNumber(a.Threshold)).Replace(c.description)
	r := t.alertingRule(a, c.cond(t.scopes(), thr, u.fromBase()), desc)
	if c.unit == "" {
		// Nothing to compare with: no threshold to show.
		delete(r.Annotations, AnnotationThreshold)
	}
	return r
}

func (t *Table) alertingRule(a Alert, expr, desc string) rulefmt.Rule {
	return rulefmt.Rule{
		Alert:         a.Name,
		Expr:          expr,
		For:           model.Duration(a.For),
		KeepFiringFor: model.Duration(a.KeepFiringFor),
		Labels: map[string]string{
			"severity": string(a.Severity),
			"metric":   a.Metric,
		},
		Annotations: map[string]string{
			AnnotationSummary:      a.Summary + " on " + t.Service,
			AnnotationDescription:  desc,
			AnnotationRunbookURL:   t.RunbookURL(a),
			AnnotationThreshold:    formatNumber(a.Threshold),
			AnnotationCurrentValue: valueTemplate(a),
		},
	}
}

// alertExpr compares the value with the threshold in the base unit, then
// scales the surviving value to the plan's unit. Prometheus templates have no
// arithmetic, so this is the one place where $value can become "85.3" (%)
// out of a ratio of 0.853; the comparison itself stays in base units.
func alertExpr(a Alert, s selector) string {
	meas := catalog[a.Metric].measures[a.Unit]
	s = a.scope(s)
	thr := formatNumber(a.BaseThreshold)
	compare := func(value string) string {
		if strings.Contains(value, "\n") {
			return fmt.Sprintf("(\n  %s\n)\n%s %s", indent(value), a.Op, thr)
		}
		return fmt.Sprintf("%s %s %s", value, a.Op, thr)
	}
	// Too few requests make a ratio or a mean noise: one 500 out of three
	// is not an outage.
	enough := func(window string) string {
		return fmt.Sprintf("(\n  %s\n)\n>= %d", indent(meas.traffic(s, window)), a.MinRequests)
	}
	var cond string
	switch {
	case meas.cond != nil:
		cond = meas.cond(s, thr)
	case meas.traffic != nil:
		cond = fmt.Sprintf("%s\nand on (%s)\n%s", compare(a.ValueExpr), s.by(), enough(a.Window))
		if a.LongWindow != "" {
			// Low traffic (a request a minute at night): the long window,
			// while the short one has too few requests to judge.
			long := fmt.Sprintf("%s\nand on (%s)\n%s\nunless on (%s)\n%s",
				compare(meas.valueExpr(s, a.LongWindow)), s.by(), enough(a.LongWindow), s.by(), enough(a.Window))
			cond = fmt.Sprintf("(\n  %s\n)\nor\n(\n  %s\n)", indent(cond), indent(long))
		}
	default:
		cond = compare(a.ValueExpr)
	}
	if scale := units[a.Unit].fromBase(); scale != "" {
		if strings.Contains(cond, "\n") {
			cond = "(\n  " + indent(cond) + "\n)" + scale
		} else {
			cond = "(" + cond + ")" + scale
		}
	}
	return cond
}

func indent(expr string) string { return strings.ReplaceAll(expr, "\n", "\n  ") }

// valueTemplate renders $value as a plain decimal: two decimals at most,
// trailing zeros dropped ("25", "85.3", "1200"), whole numbers for counts.
func valueTemplate(a Alert) string {
	if units[a.Unit].decimals == 0 {
		return `{{ printf "%.0f" $value }}`
	}
	return fmt.Sprintf("{{ printf %q $value | reReplaceAll `\\.0+$|(\\.[0-9]*[1-9])0+$` \"$1\" }}", fmt.Sprintf("%%.%df", units[a.Unit].decimals))
}

// description reads like the plan's "Error rate exceeded threshold: 25
// errors/min (threshold: 5)".
func description(a Alert) string {
	m := catalog[a.Metric]
	thr := formatNumber(a.Threshold)
	if d := m.measures[a.Unit].description; d != "" {
		return strings.NewReplacer("{value}", valueTemplate(a), "{threshold}", thr).Replace(d)
	}
	if a.Unit == "boolean" {
		state := map[float64]string{0: "false", 1: "true"}[a.Threshold]
		return fmt.Sprintf("%s is %s: %s = %s (threshold: %s)", m.display, m.states[int(a.Threshold)], a.Metric, state, state)
	}
	suffix := units[a.Unit].suffix
	if m.valueSuffix != "" {
		suffix = m.valueSuffix
	}
	verb := map[string]string{">": "exceeded threshold", "<": "below threshold", "==": "at threshold"}[a.Op]
	if m.aboveVerb != "" && a.Op == ">" {
		verb = m.aboveVerb
	}
	// The threshold with its unit, as the value: "(threshold: 8 GB)". A
	// count's suffix says what is counted, not a unit.
	thrText := thr + suffix
	if a.Unit == "count" {
		thrText = thr
	}
	text := fmt.Sprintf("%s%s %s: %s%s (threshold: %s)", m.display, m.where, verb, valueTemplate(a), suffix, thrText)
	if a.Metric == "uptime" {
		// A process that is gone reads uptime 0.
		return fmt.Sprintf("{{ if eq $value 0.0 }}The service's process is gone (threshold: %s){{ else }}Service restarted: %s%s ago (threshold: %s){{ end }}", thrText, valueTemplate(a), suffix, thrText)
	}
	return text
}

// Render writes the rule pack in the given format, validated.
func (t *Table) Render(opts Options) ([]byte, error) {
	groups := t.RuleGroups()
	var doc any = groups
	switch opts.Format {
	case FormatPlain, "":
	case FormatOperator:
		doc = newPrometheusRule(opts, groups)
	default:
		return nil, fmt.Errorf("unknown format %q (want %s or %s)", opts.Format, FormatPlain, FormatOperator)
	}
	var buf bytes.Buffer
	// The base name only: the output must not depend on the working directory.
	fmt.Fprintf(&buf, "# Code generated by resonancetool rules generate from %s. DO NOT EDIT.\n", filepath.Base(t.Path))
	fmt.Fprintf(&buf, "# Change the thresholds there and run: resonancetool rules generate\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	if err := Validate(out, opts.Format); err != nil {
		return nil, fmt.Errorf("generated rules are invalid (a bug in the generator): %w", err)
	}
	return out, nil
}

// prometheusRule is the envelope of a prometheus-operator PrometheusRule
// (monitoring.coreos.com/v1). Its spec.groups are Prometheus rule groups, so
// the small envelope is all the operator module would add.
type prometheusRule struct {
	APIVersion string             `yaml:"apiVersion"`
	Kind       string             `yaml:"kind"`
	Metadata   prometheusRuleMeta `yaml:"metadata"`
	Spec       rulefmt.RuleGroups `yaml:"spec"`
}

type prometheusRuleMeta struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace,omitempty"`
	Labels    map[string]string `yaml:"labels,omitempty"`
}

func newPrometheusRule(opts Options, groups rulefmt.RuleGroups) prometheusRule {
	name := opts.Name
	if name == "" {
		name = "resonance"
	}
	return prometheusRule{
		APIVersion: "monitoring.coreos.com/v1",
		Kind:       "PrometheusRule",
		Metadata: prometheusRuleMeta{
			Name:      name,
			Namespace: opts.Namespace,
			Labels:    map[string]string{"app.kubernetes.io/name": "resonance-telemetry"},
		},
		Spec: groups,
	}
}

// Validate checks a rendered rule pack the way Prometheus loads it: rulefmt
// (which parses every expression with the PromQL parser and every
// annotation template), plus the pack's own contract: every alert carries
// the labels and annotations the relay and Alertmanager rely on, and every
// recorded series an alert reads is recorded in the same pack.
func Validate(data []byte, format Format) error {
	if format == FormatOperator {
		var pr prometheusRule
		if err := yaml.Unmarshal(data, &pr); err != nil {
			return err
		}
		if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
			return fmt.Errorf("not a monitoring.coreos.com/v1 PrometheusRule: %s %s", pr.APIVersion, pr.Kind)
		}
		plain, err := yaml.Marshal(pr.Spec)
		if err != nil {
			return err
		}
		data = plain
	}
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	recorded := map[string]bool{}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	for _, g := range groups.Groups {
		annotations := []string{AnnotationSummary, AnnotationDescription, AnnotationRunbookURL, AnnotationThreshold, AnnotationCurrentValue}
		if g.Name == PipelineGroup {
			// A pipeline check may have no threshold (the Watchdog).
			annotations = []string{AnnotationSummary, AnnotationDescription, AnnotationRunbookURL, AnnotationCurrentValue}
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			var missing []string
			for _, l := range []string{"severity", "metric"} {
				if r.Labels[l] == "" {
					missing = append(missing, "label "+l)
				}
			}
			for _, an := range annotations {
				if r.Annotations[an] == "" {
					missing = append(missing, "annotation "+an)
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("alert %s: missing %s", r.Alert, strings.Join(missing, ", "))
			}
			for name, text := range r.Annotations {
				if strings.Contains(text, "%!") {
					return fmt.Errorf("alert %s: annotation %s has a Go formatting error: %s", r.Alert, name, text)
				}
			}
			expr, err := p.ParseExpr(r.Expr)
			if err != nil {
				return fmt.Errorf("alert %s: %w", r.Alert, err)
			}
			for _, name := range recordedNames(expr) {
				if !recorded[name] {
					return fmt.Errorf("alert %s reads %s, which no rule records", r.Alert, name)
				}
			}
		}
	}
	return nil
}

// recordedNames lists the level:metric:operations series an expression reads.
func recordedNames(expr parser.Expr) []string {
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && strings.Count(vs.Name, ":") == 2 {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names
}
