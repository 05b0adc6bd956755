package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/rules"
)

func init() { register(setupDashboards) }

// setupDashboards adds "dashboards generate" and "dashboards check". Both
// read the thresholds table, since the panels draw its thresholds.
func setupDashboards(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("dashboards", "The Grafana dashboards generated from the thresholds table.")
	thresholds := cmd.Flag("thresholds.file", "The thresholds table.").Default(rules.DefaultThresholdsPath).String()
	dir := cmd.Flag("dir", "The directory of the dashboard JSON files.").Default(dashboards.DefaultDir).String()
	chartDir := cmd.Flag("chart.dir", "The Helm chart's copy of the dashboards; empty: skip.").Default(dashboards.DefaultChartDir).String()
	// dirs are the directories generate writes and check compares.
	dirs := func() []string {
		if *chartDir == "" {
			return []string{*dir}
		}
		return []string{*dir, *chartDir}
	}

	// each builds the dashboards and applies do to them in every directory.
	each := func(do func(dir string, boards []dashboards.Board) error) ([]dashboards.Board, error) {
		t, err := rules.LoadThresholds(*thresholds)
		if err != nil {
			return nil, err
		}
		boards, err := dashboards.Build(t)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs() {
			if err := do(d, boards); err != nil {
				return nil, err
			}
		}
		return boards, nil
	}

	cmd.Command("generate", "Write the dashboards' JSON files, removing those of dashboards that no longer exist.").
		Action(func(*kingpin.ParseContext) error {
			boards, err := each(dashboards.Write)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %d dashboards (%d panel queries) to %s\n", len(boards), len(dashboards.Queries(boards)), strings.Join(dirs(), " and "))
			return nil
		})

	cmd.Command("check", "Fail when the committed JSON files differ from what generate writes.").
		Action(func(*kingpin.ParseContext) error {
			boards, err := each(dashboards.Check)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %d dashboards up to date with %s\n", strings.Join(dirs(), ", "), len(boards), *thresholds)
			return nil
		})
}
