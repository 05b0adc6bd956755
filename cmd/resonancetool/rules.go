package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quantum-resonance/telemetry/rules"
)

func init() { register(setupRules) }

// setupRules adds "rules generate" and "rules check". Paths are relative to
// the working directory, the repository root in the Makefile and CI.
func setupRules(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("rules", "The Prometheus rule pack generated from the thresholds table.")
	thresholds := cmd.Flag("thresholds.file", "The thresholds table.").Default(rules.DefaultThresholdsPath).String()

	gen := cmd.Command("generate", "Write the rule pack for the thresholds table.")
	format := gen.Flag("format", "plain: a Prometheus rule file; operator: a prometheus-operator PrometheusRule resource.").
		Default(string(rules.FormatPlain)).Enum(string(rules.FormatPlain), string(rules.FormatOperator))
	output := gen.Flag("output", "Where to write; - for stdout. Default: "+rules.DefaultRulesPath+" (plain), stdout (operator).").Short('o').String()
	name := gen.Flag("operator.name", "metadata.name of the PrometheusRule.").Default("resonance").String()
	namespace := gen.Flag("operator.namespace", "metadata.namespace of the PrometheusRule (empty: none).").String()
	genChart := gen.Flag("chart.file", "The Helm chart's PrometheusRule, written with the default plain pack (without --output); empty: skip.").
		Default(rules.DefaultChartRulesPath).String()
	gen.Action(func(*kingpin.ParseContext) error {
		t, err := rules.LoadThresholds(*thresholds)
		if err != nil {
			return err
		}
		f := rules.Format(*format)
		out, err := t.Render(rules.Options{Format: f, Name: *name, Namespace: *namespace})
		if err != nil {
			return err
		}
		path := *output
		if path == "" && f == rules.FormatPlain {
			path = rules.DefaultRulesPath
			if *genChart != "" {
				if err := writeChartRules(t, *genChart); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "wrote %s\n", *genChart)
			}
		}
		if path == "" || path == "-" {
			_, err := stdout.Write(out)
			return err
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s (%d recording rules, %d alerts, %d pipeline alerts)\n", path, len(t.RecordingRules), len(t.Alerts), len(t.Pipeline))
		return nil
	})

	check := cmd.Command("check", "Validate the thresholds table and fail when the committed rule pack or runbooks disagree with it.")
	rulesFile := check.Flag("rules.file", "The committed rule pack.").Default(rules.DefaultRulesPath).String()
	runbooks := check.Flag("runbooks.file", "The runbooks page the alerts link to.").Default(rules.DefaultRunbooksPath).String()
	checkChart := check.Flag("chart.file", "The Helm chart's PrometheusRule; empty: skip.").Default(rules.DefaultChartRulesPath).String()
	check.Action(func(*kingpin.ParseContext) error {
		t, err := rules.LoadThresholds(*thresholds)
		if err != nil {
			return err
		}
		if err := t.CheckGenerated(*rulesFile); err != nil {
			return err
		}
		if err := t.CheckRunbooks(*runbooks); err != nil {
			return err
		}
		if *checkChart != "" {
			if err := t.CheckRendered(*checkChart, chartRulesOptions); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "%s: %d alerts and %d pipeline alerts, %s is up to date, every runbook anchor exists in %s\n", *thresholds, len(t.Alerts), len(t.Pipeline), *rulesFile, *runbooks)
		return nil
	})
}

// chartRulesOptions render the Helm chart's PrometheusRule. The chart
// template takes only its spec and sets name, namespace and labels itself.
var chartRulesOptions = rules.Options{Format: rules.FormatOperator, Name: "resonance"}

func writeChartRules(t *rules.Table, path string) error {
	out, err := t.Render(chartRulesOptions)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
