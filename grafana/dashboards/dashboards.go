// Package dashboards builds the Grafana dashboards of the seed's monitoring
// views (System Health, API Performance, User Activity, Pi Network, Alert
// Timeline) as typed Go with the Grafana Foundation SDK.
//
// Every alert threshold a panel draws comes from rules/thresholds.yml
// through the rules package, and the derived figures (error rate, API error
// ratio, mean latencies) are the rule pack's recording rules, so a dashboard
// shows the very numbers the alerts compare. `resonancetool dashboards
// generate` writes the JSON files next to this package; `resonancetool
// dashboards check` fails when they differ from what Build produces.
package dashboards

import (
	"errors"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/quantum-resonance/telemetry/rules"
)

// DefaultDir is where the generated JSON files live, relative to the
// repository root; Grafana's provisioning reads them from there.
const DefaultDir = "grafana/dashboards"

// DefaultChartDir is the copy the Helm chart turns into ConfigMaps for
// Grafana's sidecar (Helm reads no file outside the chart).
const DefaultChartDir = "deploy/helm/resonance-telemetry/files/dashboards"

// Tag is on every generated dashboard; their link bar lists each other
// through it.
const Tag = "quantum-resonance"

// Names of the dashboard variables the queries use.
const (
	datasourceVariable = "datasource"
	instanceVariable   = "instance"
)

// Board is one generated dashboard and the file it is written to.
type Board struct {
	// File is the JSON file's name in the dashboards directory.
	File      string
	Dashboard dashboard.Dashboard
}

// view is one of the seed's monitoring views: a file name and the function
// that lays out its panels.
type view struct {
	file  string
	build func(*generator) *dashboard.DashboardBuilder
}

var views = []view{
	{"system-health.json", systemHealth},
	{"api-performance.json", apiPerformance},
	{"user-activity.json", userActivity},
	{"pi-network.json", piNetwork},
	{"alert-timeline.json", alertTimeline},
	{"slos.json", slos},
}

// Build lays out every dashboard for the thresholds table t. It fails when a
// panel asks for thresholds the table does not have, or the SDK rejects a
// dashboard.
func Build(t *rules.Table) ([]Board, error) {
	g := &generator{table: t}
	boards := make([]Board, 0, len(views))
	for _, v := range views {
		d, err := v.build(g).Build()
		if err != nil {
			g.errs = append(g.errs, err)
			continue
		}
		numberPanels(&d)
		boards = append(boards, Board{File: v.file, Dashboard: d})
	}
	if len(g.errs) > 0 {
		return nil, errors.Join(g.errs...)
	}
	return boards, nil
}

// generator carries the thresholds table through the views and collects
// their errors, so that one run reports every missing threshold at once.
type generator struct {
	table *rules.Table
	errs  []error
}

// thresholds is the alert thresholds of a seed metric for a panel whose
// series is in the base unit of seedUnits; see thresholds.
func (g *generator) thresholds(metric string, seedUnits ...string) *dashboard.ThresholdsConfigBuilder {
	th, err := thresholds(g.table, metric, seedUnits...)
	if err != nil {
		g.errs = append(g.errs, err)
		return neutralThresholds()
	}
	return th
}

// series selects an exporter series on the instances the dashboard's
// instance variable picks, with the rule pack's scrape-job selector.
func (g *generator) series(name string, matchers ...string) string {
	all := append([]string{g.table.Selector, instanceMatcher}, matchers...)
	return name + "{" + strings.Join(all, ", ") + "}"
}

// rate is the per-second rate of a counter over Grafana's $__rate_interval,
// which is never shorter than four scrape intervals, so the rate always has
// samples to work with whatever the zoom.
func (g *generator) rate(counter string, matchers ...string) string {
	return "rate(" + g.series(counter, matchers...) + "[$__rate_interval])"
}

// recorded selects a recording rule of the rule pack on the picked
// instances; the rule itself already applies the scrape-job selector.
func recorded(name string) string {
	return name + "{" + instanceMatcher + "}"
}

const instanceMatcher = `instance=~"$` + instanceVariable + `"`

// newDashboard is what every view shares: the tag, the variables, the links
// to the other views, a refresh close to the scrape interval.
func (g *generator) newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("Quantum Resonance / "+title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Editable().
		Refresh("30s").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("Quantum Resonance").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true)).
		WithVariable(dashboard.NewDatasourceVariableBuilder(datasourceVariable).
			Label("Data source").
			Type("prometheus")).
		WithVariable(g.instanceVariable())
}

// instanceVariable picks the exporter instances of the scrape job; "All"
// matches every one, including instances that appear after the page loaded.
func (g *generator) instanceVariable() *dashboard.QueryVariableBuilder {
	query := "label_values(up{" + g.table.Selector + "}, instance)"
	return dashboard.NewQueryVariableBuilder(instanceVariable).
		Label("Instance").
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
			Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
		})
}

// numberPanels gives every panel an id, in layout order. Grafana would
// number them itself on load, but links to one panel (?viewPanel=) need ids
// that stay the same from one generation to the next.
func numberPanels(d *dashboard.Dashboard) {
	id := uint32(0)
	next := func() *uint32 { id++; return cog.ToPtr(id) }
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			p.Panel.Id = next()
		case p.RowPanel != nil:
			p.RowPanel.Id = *next()
			for i := range p.RowPanel.Panels {
				p.RowPanel.Panels[i].Id = next()
			}
		}
	}
}
