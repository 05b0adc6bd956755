package dashboards

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/quantum-resonance/telemetry/rules"
)

// slos is the "SLOs" view: per objective of the table, its objective, the
// SLI over the objective's window, the error budget left and the burn
// rates the SLOBurnRate alerts compare. The SLO series are per job (no
// instance label): the job variable picks them, the instance variable does
// not apply here, and slo:objective:ratio, a constant, has neither label.
func slos(g *generator) *dashboard.DashboardBuilder {
	d := g.newDashboard("resonance-slos", "SLOs",
		"Service-level objectives of quantum-resonance-api: each objective, its indicator over the objective's window, the error budget left and how fast it burns (docs/slos.md).")
	if len(g.table.SLOs.Objectives) == 0 {
		g.errs = append(g.errs, fmt.Errorf("%s: no slos: objectives for the SLOs dashboard", g.table.Path))
		return d
	}
	for _, s := range g.table.SLOs.Objectives {
		d = d.WithRow(dashboard.NewRowBuilder(fmt.Sprintf("%s: %s%% of %s over %s", s.Name, formatQuantile(s.Objective), s.Good(), s.Window)))
		objective := fmt.Sprintf("{slo=%q}", s.Name)
		sel := fmt.Sprintf("{slo=%q, %s}", s.Name, jobMatcher)
		window := s.Window.String()
		d = d.
			WithPanel(g.singleStat(s.Name+" objective", "The objective: the share of good events over "+window+" (recording rule "+rules.RecordSLOObjective+").",
				units.PercentUnit, nil,
				instantQuery(rules.RecordSLOObjective+objective, "objective")).
				Span(fullWidth / 4)).
			WithPanel(g.singleStat(s.Name+" SLI over "+window, "Share of good events over the last "+window+", or over the data Prometheus has if less: red below the objective.",
				units.PercentUnit, sliSteps(s),
				instantQuery("1 - "+rules.RecordSLOErrorRatio(window)+sel, "{{job}}")).
				Span(fullWidth / 4)).
			WithPanel(g.singleStat(s.Name+" budget left", "Share of the "+window+" error budget left (recording rule "+rules.RecordSLOBudgetRemaining+"): 100 % untouched, 0 spent, negative overspent.",
				units.PercentUnit, budgetSteps(),
				instantQuery(rules.RecordSLOBudgetRemaining+sel, "{{job}}")).
				Span(fullWidth / 4)).
			WithPanel(g.singleStat(s.Name+" burn rate 1h", "Error ratio over 1h divided by the error budget: 1 spends the budget in exactly "+window+".",
				units.Short, g.burnRateSteps(),
				instantQuery(burnRate(s, "1h"), "{{job}}")).
				Span(fullWidth / 4)).
			WithPanel(g.graphWithThresholds(s.Name+" burn rates", "Error ratio over each alert window divided by the error budget; the lines are the burn rates of SLOBurnRateFast and SLOBurnRateSlow, which fire when both windows of a pair are over theirs.",
				units.Short, g.burnRateSteps(),
				burnRateQueries(g, s)...).
				Min(0)).
			WithPanel(g.graphWithThresholds(s.Name+" error budget left", "Share of the "+window+" error budget left over time.",
				units.PercentUnit, budgetSteps(),
				rangeQuery(rules.RecordSLOBudgetRemaining+sel, "{{job}}")))
	}
	return d
}

// burnRate is the burn rate over a window: the error ratio in units of the
// error budget.
func burnRate(s rules.SLO, window string) string {
	return fmt.Sprintf("%s{slo=%q, %s} / %s", rules.RecordSLOErrorRatio(window), s.Name, jobMatcher, formatQuantile(s.ErrorBudget()))
}

// burnRateQueries draws every window the burn-rate alerts read, shortest
// first.
func burnRateQueries(g *generator, s rules.SLO) []*prometheus.DataqueryBuilder {
	var windows []string
	for _, a := range g.table.SLOs.Alerts {
		for _, w := range a.Windows {
			windows = append(windows, w.Short, w.Long)
		}
	}
	var queries []*prometheus.DataqueryBuilder
	for _, w := range rules.SLORateWindows {
		if slices.Contains(windows, w) {
			queries = append(queries, rangeQuery(burnRate(s, w), w))
		}
	}
	return queries
}

// burnRateSteps colours a burn rate by the alert that fires past it; the
// panel links the burn-rate alerts' runbooks.
func (g *generator) burnRateSteps() *dashboard.ThresholdsConfigBuilder {
	steps := []dashboard.Threshold{{Color: colorOK}}
	var runbooks []runbook
	for _, a := range g.table.SLOs.Alerts {
		for _, w := range a.Windows {
			steps = append(steps, dashboard.Threshold{Value: cog.ToPtr(w.BurnRate), Color: severityColors[a.Severity]})
		}
		runbooks = append(runbooks, runbook{alert: a.Name, url: g.table.SLORunbookURL(a)})
	}
	slices.SortStableFunc(steps[1:], func(x, y dashboard.Threshold) int { return cmp.Compare(*x.Value, *y.Value) })
	th := dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
	g.drawn[th] = runbooks
	return th
}

// sliSteps: red below the objective, green at or above it.
func sliSteps(s rules.SLO) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Color: severityColors[rules.Critical]},
		{Value: cog.ToPtr(s.Objective / 100), Color: colorOK},
	})
}

// budgetSteps: red when the budget is spent, orange under a quarter left.
func budgetSteps() *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Color: severityColors[rules.Critical]},
		{Value: cog.ToPtr(0.0), Color: severityColors[rules.Warning]},
		{Value: cog.ToPtr(0.25), Color: colorOK},
	})
}
