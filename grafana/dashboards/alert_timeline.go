package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/quantum-resonance/telemetry/rules"
)

// Values of the alert timeline's series: ALERTS is 1 for every pending or
// firing alert, so firing is doubled to tell the two apart.
const (
	alertPending = "1"
	alertFiring  = "2"
)

// alertTimeline is the plan's "Alert Timeline" view: recent alerts and their
// resolutions, from Prometheus' ALERTS series. An alert that resolved is a
// gap in the timeline where it stops.
func alertTimeline(g *generator) *dashboard.DashboardBuilder {
	b := g.newDashboard("resonance-alert-timeline", "Alert Timeline",
		"Alerts of the rule pack on the picked jobs as Prometheus evaluates them: what fires now, what fired in the selected range, and when each alert started and resolved.")
	for _, s := range []rules.Severity{rules.Critical, rules.Warning, rules.Info} {
		b.WithPanel(g.firingCount(s))
	}
	return b.
		WithPanel(g.singleStat("Pending", "Alerts whose condition holds but not yet for their `for` duration.",
			units.Short, countThresholds("yellow"),
			instantQuery(`count(ALERTS{alertstate="pending", `+jobMatcher+`})`, "pending")).
			NoValue("0").Span(halfWidth / 2)).
		WithPanel(timeline("Alert timeline", "Each alert while pending (yellow) and firing (red); where a bar ends the alert resolved.",
			units.NoUnit, valueText(map[string]dashboard.ValueMappingResult{
				alertPending: mapped("pending", "yellow", 0),
				alertFiring:  mapped("firing", "red", 1),
			}),
			rangeQuery(`max by (alertname, severity) (
  ALERTS{alertstate="firing", `+jobMatcher+`} * `+alertFiring+`
or
  ALERTS{alertstate="pending", `+jobMatcher+`}
)`, "{{alertname}} ({{severity}})"))).
		WithPanel(graph("Firing alerts by severity", "Number of firing alerts over time, by severity.",
			units.Short,
			rangeQuery(`count by (severity) (ALERTS{alertstate="firing", `+jobMatcher+`})`, "{{severity}}")).
			Min(0).Span(fullWidth).
			DrawStyle(barsStyle).
			Stacking(stackedNormal())).
		WithPanel(alertTable("Firing now", "Every alert firing at the end of the time range, with its labels.",
			instantQuery(`ALERTS{alertstate="firing", `+jobMatcher+`}`, ""))).
		WithPanel(alertTable("Fired in the time range", "Every alert that fired at some point in the selected time range, resolved or not.",
			instantQuery(`max by (alertname, severity, metric, job, instance) (max_over_time(ALERTS{alertstate="firing", `+jobMatcher+`}[$__range]))`, "")))
}

// firingCount is a stat of the alerts of one severity firing now, in the
// severity's colour when there is any.
func (g *generator) firingCount(s rules.Severity) *stat.PanelBuilder {
	title := "Firing " + string(s)
	return g.singleStat(title, "Alerts of severity "+string(s)+" firing now.",
		units.Short, countThresholds(severityColors[s]),
		instantQuery(`count(ALERTS{alertstate="firing", severity="`+string(s)+`", `+jobMatcher+`})`, string(s))).
		NoValue("0").Span(halfWidth / 2)
}

// countThresholds is green at zero and color from one up.
func countThresholds(color string) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps([]dashboard.Threshold{{Color: colorOK}, step(1, color)})
}

// alertTable lists alerts one row each. The value column (always 1) and
// the timestamp say nothing and are hidden.
func alertTable(title, description string, query *prometheus.DataqueryBuilder) *table.PanelBuilder {
	return instantTable(title, description, units.NoUnit, query).
		Span(halfWidth).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]bool{"Time": true, "Value": true, "__name__": true, "alertstate": true},
			},
		})
}
