package dashboards

import (
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Units for what Grafana's unit catalogue has no entry for. Custom units
// ("suffix: Pi") are not in the catalogue dashboard-linter checks against,
// so these are plain numbers whose panel title names the unit.
const (
	unitPi    = units.NoUnit // Pi, with piDecimals
	unitScore = units.NoUnit // community resonance is a bare 0–100 score
	unitUsers = units.Short  // a count of users
)

// piDecimals is the precision of a Pi amount.
const piDecimals = 2

// Panel sizes on Grafana's 24-column grid.
const (
	statHeight  = 4
	graphHeight = 8
	thirdWidth  = 8
	halfWidth   = 12
	fullWidth   = 24
)

// datasourceRef is what every panel and query reads: the dashboard's
// datasource variable, so one file works against any Prometheus.
func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{
		Type: cog.ToPtr("prometheus"),
		Uid:  cog.ToPtr("${" + datasourceVariable + "}"),
	}
}

// rangeQuery is a query over the dashboard's time range, one series per
// label set, named by legend (a Grafana legend template like "{{mode}}").
func rangeQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Range()
}

// instantQuery is evaluated once, at the end of the time range: what a stat
// or a table shows.
func instantQuery(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		Expr(expr).
		LegendFormat(legend).
		Instant()
}

// withRefIDs names the queries of one panel A, B, C... in order.
func withRefIDs(queries []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	targets := make([]cog.Builder[variants.Dataquery], len(queries))
	for i, q := range queries {
		targets[i] = q.RefId(string(rune('A' + i)))
	}
	return targets
}

// graph is a time series panel. The thresholds, when there are any, are
// drawn as dashed lines with a shaded band, so a reader sees at a glance how
// far a series is from paging someone.
func graph(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return panel(timeseries.NewPanelBuilder(), title, description, unit, graphHeight, halfWidth, queries).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

// graphWithThresholds is a graph that draws the alert thresholds and links
// the runbooks of their alerts.
func (g *generator) graphWithThresholds(title, description, unit string, thresholds *dashboard.ThresholdsConfigBuilder, queries ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return graph(title, description, unit, queries...).
		Thresholds(thresholds).
		Links(g.withRunbooks(thresholds)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().
			Mode(common.GraphThresholdsStyleModeDashedAndArea))
}

// singleStat is a stat panel coloured by its thresholds, linking the
// runbooks of their alerts; without alert thresholds it stays neutral blue.
func (g *generator) singleStat(title, description, unit string, thresholds *dashboard.ThresholdsConfigBuilder, queries ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	if thresholds == nil {
		thresholds = neutralThresholds()
	}
	return panel(stat.NewPanelBuilder(), title, description, unit, statHeight, thirdWidth/2, queries).
		Links(g.withRunbooks(thresholds)).
		Thresholds(thresholds).
		ColorMode(common.BigValueColorModeBackground).
		Orientation(common.VizOrientationAuto).
		GraphMode(common.BigValueGraphModeArea).
		ReduceOptions(common.NewReduceDataOptionsBuilder().
			Calcs([]string{"lastNotNull"}))
}

// timeline is a state timeline: one row per series, coloured by value.
func timeline(title, description, unit string, mappings []dashboard.ValueMapping, queries ...*prometheus.DataqueryBuilder) *statetimeline.PanelBuilder {
	return panel(statetimeline.NewPanelBuilder(), title, description, unit, graphHeight, fullWidth, queries).
		Mappings(mappings).
		Thresholds(neutralThresholds()).
		ShowValue(common.VisibilityModeNever).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderNone)).
		MergeValues(true).
		RowHeight(0.8).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true))
}

// instantTable is a table of the series an instant query returns, one row
// per series and one column per label.
func instantTable(title, description, unit string, queries ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	for _, q := range queries {
		q.Format(prometheus.PromQueryFormatTable)
	}
	return panel(table.NewPanelBuilder(), title, description, unit, graphHeight, fullWidth, queries)
}

// panelBuilder is what every panel type's builder has.
type panelBuilder[B any] interface {
	Title(string) B
	Description(string) B
	Datasource(common.DataSourceRef) B
	Targets([]cog.Builder[variants.Dataquery]) B
	Unit(string) B
	Height(uint32) B
	Span(uint32) B
}

// panel sets what all the dashboards' panels share: the data source, the
// queries with their ref ids, and the size in the grid.
func panel[B panelBuilder[B]](b panelBuilder[B], title, description, unit string, height, span uint32, queries []*prometheus.DataqueryBuilder) B {
	return b.Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Targets(withRefIDs(queries)).
		Unit(unit).
		Height(height).
		Span(span)
}

// neutralThresholds colours a panel that no alert watches.
func neutralThresholds() *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps([]dashboard.Threshold{{Color: "blue"}})
}

// valueText maps exact values to words and colours, e.g. 0 → "down" (red).
func valueText(texts map[string]dashboard.ValueMappingResult) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type:    dashboard.MappingTypeValueToText,
		Options: texts,
	}}}
}

func mapped(text, color string, index int32) dashboard.ValueMappingResult {
	return dashboard.ValueMappingResult{Text: &text, Color: &color, Index: &index}
}

// stackedNormal stacks the series of a graph on each other, for parts of a
// whole.
func stackedNormal() *common.StackingConfigBuilder {
	return common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)
}

func formatQuantile(q float64) string { return strconv.FormatFloat(q, 'f', -1, 64) }

const barsStyle = common.GraphDrawStyleBars
