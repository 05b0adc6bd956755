package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// userActivity is the plan's "User Activity" view: active users and
// transaction volume.
func userActivity(g *generator) *dashboard.DashboardBuilder {
	completedInRange := "sum(increase(" + g.series("resonance_transactions_total", `status="completed"`) + "[$__range]))"
	allInRange := "sum(increase(" + g.series("resonance_transactions_total") + "[$__range]))"

	return g.newDashboard("resonance-user-activity", "User Activity",
		"Active users and Pi transactions of quantum-resonance-api, as the app reports them to the ingest API.").
		WithPanel(g.singleStat("Active users", "Distinct users of the API in the last 5 minutes, or the value the app pushed last.",
			unitUsers, nil,
			instantQuery(g.series("resonance_active_users"), "{{instance}}")).
			Span(thirdWidth)).
		WithPanel(g.singleStat("Completed transactions", "Transactions completed in the selected time range.",
			units.Short, nil,
			instantQuery(completedInRange, "completed")).
			Span(thirdWidth)).
		WithPanel(g.singleStat("Completed share", "Share of the time range's transactions that completed (the rest failed or were cancelled).",
			units.PercentUnit, nil,
			instantQuery(completedInRange+"\n/\n("+allInRange+" > 0)", "completed")).
			Span(thirdWidth)).
		WithPanel(graph("Active users", "Distinct users of the API in the last 5 minutes.",
			unitUsers,
			rangeQuery(g.series("resonance_active_users"), "{{instance}}")).
			Min(0)).
		WithPanel(graph("Transactions by status", "Pi transactions per minute, by final status.",
			units.CountsPerMinute,
			rangeQuery("sum by (status) ("+g.rate("resonance_transactions_total")+") * 60", "{{status}}")).
			Min(0).
			Stacking(stackedNormal())).
		WithPanel(graph("API requests per active user", "API requests per minute divided by the active users: how hard each user works the API.",
			units.CountsPerMinute,
			rangeQuery("sum by (instance) ("+g.rate("resonance_api_requests_total")+") * 60\n/ on (instance)\n(sum by (instance) ("+g.series("resonance_active_users")+") > 0)", "{{instance}}")).
			Min(0).Span(fullWidth))
}
