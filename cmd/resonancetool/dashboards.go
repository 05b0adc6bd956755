package main

import (
	"fmt"
	"io"

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

	build := func() ([]dashboards.Board, error) {
		t, err := rules.LoadThresholds(*thresholds)
		if err != nil {
			return nil, err
		}
		return dashboards.Build(t)
	}

	cmd.Command("generate", "Write the dashboards' JSON files, removing those of dashboards that no longer exist.").
		Action(func(*kingpin.ParseContext) error {
			boards, err := build()
			if err != nil {
				return err
			}
			if err := dashboards.Write(*dir, boards); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %d dashboards (%d panel queries) to %s\n", len(boards), len(dashboards.Queries(boards)), *dir)
			return nil
		})

	cmd.Command("check", "Fail when the committed JSON files differ from what generate writes.").
		Action(func(*kingpin.ParseContext) error {
			boards, err := build()
			if err != nil {
				return err
			}
			if err := dashboards.Check(*dir, boards); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: %d dashboards up to date with %s\n", *dir, len(boards), *thresholds)
			return nil
		})
}
