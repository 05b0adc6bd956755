// Package dashboards builds the Grafana dashboards of the plan's monitoring
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
	"regexp"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

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
	jobVariable        = "job"
	instanceVariable   = "instance"
)

// allValue is what the job and instance variables' "All" matches: every
// value, but not the empty one, so a series without the label stays out.
const allValue = ".+"

// Board is one generated dashboard and the file it is written to.
type Board struct {
	// File is the JSON file's name in the dashboards directory.
	File      string
	Dashboard dashboard.Dashboard
}

// view is one of the plan's monitoring views: a file name and the function
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
	g := &generator{table: t, drawn: map[*dashboard.ThresholdsConfigBuilder][]runbook{}}
	boards := make([]Board, 0, len(views))
	for _, v := range views {
		d, err := v.build(g).Build()
		if err != nil {
			g.errs = append(g.errs, err)
			continue
		}
		numberPanels(&d)
		g.linkNamedRunbooks(&d)
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
	// drawn holds, per thresholds config that g.thresholds made, the alerts
	// whose thresholds it draws: the panel that shows them links their
	// runbooks.
	drawn map[*dashboard.ThresholdsConfigBuilder][]runbook
}

// thresholds is the alert thresholds of a plan metric for a panel whose
// series is in the base unit of planUnits; see thresholds.
func (g *generator) thresholds(metric string, planUnits ...string) *dashboard.ThresholdsConfigBuilder {
	th, err := thresholds(g.table, metric, planUnits...)
	if err != nil {
		g.errs = append(g.errs, err)
		return neutralThresholds()
	}
	for _, a := range g.table.Alerts {
		if a.Metric == metric && slices.Contains(planUnits, a.Unit) {
			g.drawn[th] = append(g.drawn[th], runbook{alert: a.Name, url: g.table.RunbookURL(a)})
		}
	}
	return th
}

// series selects an exporter series of the jobs and instances the
// dashboard's variables pick. The scrape-job selector of the rule pack
// gives the job variable its default; its other matchers, if any, stay.
func (g *generator) series(name string, matchers ...string) string {
	all := append([]string{jobMatcher, instanceMatcher}, g.extraMatchers()...)
	all = append(all, matchers...)
	return name + "{" + strings.Join(all, ", ") + "}"
}

// selectorJob is the job the rule pack's selector names with job="…", the
// job variable's default; empty when the selector names none.
func (g *generator) selectorJob() string {
	for _, m := range g.selectorMatchers() {
		if m.Name == "job" && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// extraMatchers are the selector's matchers on labels other than job and
// instance, which the variables pick.
func (g *generator) extraMatchers() []string {
	var out []string
	for _, m := range g.selectorMatchers() {
		if m.Name != "job" && m.Name != "instance" {
			out = append(out, m.String())
		}
	}
	return out
}

func (g *generator) selectorMatchers() []*labels.Matcher {
	ms, err := parser.NewParser(parser.Options{}).ParseMetricSelector("{" + g.table.Selector + "}")
	if err != nil {
		g.errs = append(g.errs, err)
		return nil
	}
	return ms
}

// alertExpr is an expression of the rule pack written with its scrape-job
// selector, rewritten to select the jobs and instances the dashboard's
// variables pick.
func (g *generator) alertExpr(expr string) string {
	return strings.ReplaceAll(expr, "{"+g.table.Selector+"}", "{"+strings.Join(append([]string{jobMatcher, instanceMatcher}, g.extraMatchers()...), ", ")+"}")
}

// rate is the per-second rate of a counter over Grafana's $__rate_interval,
// which is never shorter than four scrape intervals, so the rate always has
// samples to work with whatever the zoom.
func (g *generator) rate(counter string, matchers ...string) string {
	return "rate(" + g.series(counter, matchers...) + "[$__rate_interval])"
}

// recorded selects a recording rule of the rule pack on the picked jobs and
// instances; the rule itself already applies the scrape-job selector, and
// keeps the job and instance labels (group_labels).
func recorded(name string) string {
	return name + "{" + jobMatcher + ", " + instanceMatcher + "}"
}

const (
	jobMatcher      = `job=~"$` + jobVariable + `"`
	instanceMatcher = `instance=~"$` + instanceVariable + `"`
)

// newDashboard is what every view shares: the tag, the variables, the links
// to the other views, a refresh close to the scrape interval. The
// dashboards are provisioned from files, so they are not editable in
// Grafana: a change belongs in Go, where the next generation keeps it.
func (g *generator) newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("Quantum Resonance / "+title).
		Uid(uid).
		Description(description).
		Tags([]string{Tag}).
		Readonly().
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
		WithVariable(g.jobVariable()).
		WithVariable(g.instanceVariable())
}

// jobVariable picks the scrape jobs, by default the rule pack's exporter
// job (selector: in rules/thresholds.yml); "All" matches every job.
func (g *generator) jobVariable() *dashboard.QueryVariableBuilder {
	current := allOption()
	if job := g.selectorJob(); job != "" {
		current = dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{job}},
			Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{job}},
		}
	}
	return pickMany(jobVariable, "label_values(up, job)", current)
}

// instanceVariable picks the instances of the picked jobs; "All" matches
// every one, including instances that appear after the page loaded.
func (g *generator) instanceVariable() *dashboard.QueryVariableBuilder {
	return pickMany(instanceVariable, "label_values(up{"+jobMatcher+"}, instance)", allOption())
}

// pickMany is a variable of the label values query returns, any number of
// them picked, "All" among them; current is picked on load.
func pickMany(name, query string, current dashboard.VariableOption) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(name).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(allValue).
		Current(current)
}

func allOption() dashboard.VariableOption {
	return dashboard.VariableOption{
		Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr("All")},
		Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")},
	}
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

// runbook is the runbook of one alert a panel shows.
type runbook struct {
	alert, url string
}

// runbookLinks are a panel's links to the runbooks of the alerts it shows.
func runbookLinks(runbooks []runbook) []cog.Builder[dashboard.DashboardLink] {
	var links []cog.Builder[dashboard.DashboardLink]
	for _, r := range runbooks {
		links = append(links, dashboard.NewDashboardLinkBuilder("Runbook: "+r.alert).
			Type(dashboard.DashboardLinkTypeLink).
			Url(r.url).
			TargetBlank(true))
	}
	return links
}

// withRunbooks adds the runbook links of the alerts whose thresholds th
// draws.
func (g *generator) withRunbooks(th *dashboard.ThresholdsConfigBuilder) []cog.Builder[dashboard.DashboardLink] {
	return runbookLinks(g.drawn[th])
}

// linkNamedRunbooks gives every panel a link to the runbook of each alert
// its title or description names ("the figure SlowAPI compares"), besides
// those of the thresholds it draws.
func (g *generator) linkNamedRunbooks(d *dashboard.Dashboard) {
	var all []runbook
	for _, a := range g.table.AllAlerts() {
		all = append(all, runbook{alert: a.Name, url: g.table.RunbookURL(a)})
	}
	for _, a := range g.table.SLOs.Alerts {
		all = append(all, runbook{alert: a.Name, url: g.table.SLORunbookURL(a)})
	}
	link := func(p *dashboard.Panel) {
		// A panel link has no placement (that is a dashboard link's).
		for i := range p.Links {
			p.Links[i].Placement = nil
		}
		text := deref(p.Title) + " " + deref(p.Description)
		for _, r := range all {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(r.alert) + `\b`).MatchString(text) {
				continue
			}
			if slices.ContainsFunc(p.Links, func(l dashboard.DashboardLink) bool { return deref(l.Url) == r.url }) {
				continue
			}
			url := r.url
			p.Links = append(p.Links, dashboard.DashboardLink{
				Title:       "Runbook: " + r.alert,
				Type:        dashboard.DashboardLinkTypeLink,
				Url:         &url,
				Tags:        []string{},
				TargetBlank: true,
			})
		}
	}
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			link(p.Panel)
		case p.RowPanel != nil:
			for i := range p.RowPanel.Panels {
				link(&p.RowPanel.Panels[i])
			}
		}
	}
}
