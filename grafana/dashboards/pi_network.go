package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// piNetwork is the plan's "Pi Network" view: wallet balance, mining boost,
// community resonance, and the unauthorized transactions that page as
// WalletCompromised.
func piNetwork(g *generator) *dashboard.DashboardBuilder {
	mining := valueText(map[string]dashboard.ValueMappingResult{
		"0": mapped("inactive", "orange", 0),
		"1": mapped("active", "green", 1),
	})
	return g.newDashboard("resonance-pi-network", "Pi Network",
		"The Pi wallet (balance, unauthorized outgoing payments, the chain collector's health), the mining boost and the community resonance score.").
		WithPanel(g.singleStat("Wallet balance (Pi)", "Balance of the watched wallet in Pi, read from the chain (source horizon) or pushed by the app.",
			unitPi, g.thresholds("wallet_balance", "Pi"),
			instantQuery(g.series("resonance_wallet_balance_pi"), "{{instance}} {{source}}")).
			Decimals(piDecimals)).
		WithPanel(g.singleStat("Mining boost", "Whether the mining boost is active.",
			units.BoolOnOff, g.thresholds("mining_boost_active", "boolean"),
			instantQuery(g.series("resonance_mining_boost_active"), "{{instance}}"))).
		WithPanel(g.singleStat("Community resonance", "Community engagement score, 0 to 100.",
			unitScore, g.thresholds("community_resonance", "score"),
			instantQuery(g.series("resonance_community_resonance_score"), "{{instance}}")).
			Min(0).Max(100)).
		WithPanel(g.singleStat("Unauthorized transactions", "Unauthorized transactions of the last hour: the figure WalletCompromised compares, over the picked jobs and instances.",
			units.Short, g.thresholds(unauthorizedMetric, "count"),
			instantQuery(g.alertExpr(g.alertValue(unauthorizedMetric)), "unauthorized"))).
		WithPanel(g.singleStat("Wallet collector", "Whether the exporter's last read of the wallet from the Horizon API succeeded.",
			units.NoUnit, nil,
			instantQuery(g.series("resonance_wallet_up"), "{{instance}}")).
			Mappings(valueText(map[string]dashboard.ValueMappingResult{
				"0": mapped("failing", "red", 0),
				"1": mapped("ok", "green", 1),
			})).
			Span(thirdWidth)).
		WithPanel(g.graphWithThresholds("Wallet balance (Pi)", "Balance of the watched wallet in Pi.",
			unitPi, g.thresholds("wallet_balance", "Pi"),
			rangeQuery(g.series("resonance_wallet_balance_pi"), "{{instance}} {{source}}")).
			Decimals(piDecimals)).
		WithPanel(g.graphWithThresholds("Community resonance", "Community engagement score, 0 to 100.",
			unitScore, g.thresholds("community_resonance", "score"),
			rangeQuery(g.series("resonance_community_resonance_score"), "{{instance}}")).
			Min(0).Max(100)).
		WithPanel(timeline("Mining boost", "When the mining boost was active.",
			units.NoUnit, mining,
			rangeQuery(g.series("resonance_mining_boost_active"), "{{instance}}")).
			Span(halfWidth)).
		WithPanel(graph("Unauthorized transactions by source", "Unauthorized transactions per interval, by where they were seen: app events or the chain (horizon).",
			units.Short,
			rangeQuery("sum by (source) (increase("+g.series("resonance_wallet_unauthorized_transactions_total")+"[$__rate_interval]))", "{{source}}")).
			Min(0).
			DrawStyle(barsStyle))
}

// unauthorizedMetric is the thresholds table's metric for unauthorized
// transactions (the exporter's resonance_wallet_unauthorized_transactions_total).
const unauthorizedMetric = "wallet_unauthorized_transactions"

// alertValue is the PromQL an alert of the metric compares with its
// threshold: for a figure as subtle as "new unauthorized transactions in the
// last hour", the panel shows exactly what pages rather than an
// approximation of it.
func (g *generator) alertValue(metric string) string {
	for _, a := range g.table.Alerts {
		if a.Metric == metric {
			return a.ValueExpr
		}
	}
	g.errs = append(g.errs, fmt.Errorf("%s: no alert on metric %s", g.table.Path, metric))
	return "vector(0)"
}
