package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/quantum-resonance/telemetry/rules"
)

// systemHealth is the plan's "System Health" view: CPU, memory, disk,
// uptime and the application's error rate.
func systemHealth(g *generator) *dashboard.DashboardBuilder {
	errorRate := recorded(rules.RecordErrorsPerMinute)
	return g.newDashboard("resonance-system-health", "System Health",
		"Host CPU, memory, disk and uptime of the exporter's host, and the application's error rate, against the alert thresholds of rules/thresholds.yml.").
		WithPanel(g.singleStat("Uptime", "Host uptime. Below the SystemDown threshold the host restarted recently.",
			units.Seconds, g.thresholds("uptime", "seconds"),
			instantQuery(g.series("resonance_uptime_seconds"), "{{instance}}"))).
		WithPanel(g.singleStat("Exporter target", "Whether Prometheus reaches the exporter (the up series of the scrape job). A down target fires ExporterDown.",
			units.NoUnit, nil,
			instantQuery(g.series("up"), "{{instance}}")).
			Mappings(valueText(map[string]dashboard.ValueMappingResult{
				"0": mapped("down", "red", 0),
				"1": mapped("up", "green", 1),
			}))).
		WithPanel(g.singleStat("CPU usage", "Busy share of all CPUs since the previous scrape.",
			units.PercentUnit, g.thresholds("cpu_usage", "%"),
			instantQuery(g.series("resonance_cpu_usage_ratio"), "{{instance}}"))).
		WithPanel(g.singleStat("Memory usage", "Share of memory in use (total − available).",
			units.PercentUnit, g.thresholds("memory_usage", "%"),
			instantQuery(g.series("resonance_memory_usage_ratio"), "{{instance}}"))).
		WithPanel(g.singleStat("Memory used", "Memory in use, against the plan's absolute memory limit.",
			units.BytesIEC, g.thresholds("memory_usage", "MB"),
			instantQuery(g.series("resonance_memory_used_bytes"), "{{instance}}"))).
		WithPanel(g.singleStat("Error rate", "ERROR and CRITICAL log entries per minute over 5m (recording rule "+rules.RecordErrorsPerMinute+").",
			units.CountsPerMinute, g.thresholds("error_rate", "count/min"),
			instantQuery(errorRate, "{{instance}}"))).
		WithPanel(g.graphWithThresholds("CPU usage", "Busy share of all CPUs.",
			units.PercentUnit, g.thresholds("cpu_usage", "%"),
			rangeQuery(g.series("resonance_cpu_usage_ratio"), "{{instance}}")).
			Min(0).Max(1)).
		WithPanel(graph("CPU time by mode", "Share of CPU time spent in each mode; the modes of one instance add up to 100 %.",
			units.PercentUnit,
			rangeQuery("sum by (instance, mode) ("+g.rate("resonance_cpu_seconds_total")+")\n"+
				"/ on (instance) group_left ()\n"+
				"sum by (instance) ("+g.rate("resonance_cpu_seconds_total")+")", "{{instance}} {{mode}}")).
			Min(0).Max(1).
			Stacking(stackedNormal())).
		WithPanel(g.graphWithThresholds("Memory usage", "Share of memory in use.",
			units.PercentUnit, g.thresholds("memory_usage", "%"),
			rangeQuery(g.series("resonance_memory_usage_ratio"), "{{instance}}")).
			Min(0).Max(1)).
		WithPanel(g.graphWithThresholds("Memory used", "Memory in use and installed, against the plan's absolute memory limit.",
			units.BytesIEC, g.thresholds("memory_usage", "MB"),
			rangeQuery(g.series("resonance_memory_used_bytes"), "used {{instance}}"),
			rangeQuery(g.series("resonance_memory_total_bytes"), "total {{instance}}")).
			Min(0)).
		WithPanel(g.graphWithThresholds("Disk used", "Space used per watched mountpoint (system.mountpoints in the exporter's config).",
			units.BytesIEC, g.thresholds("disk_usage", "GB"),
			rangeQuery(g.series("resonance_disk_used_bytes"), "{{instance}} {{mountpoint}}")).
			Min(0)).
		WithPanel(graph("Disk usage", "Share of each watched filesystem in use.",
			units.PercentUnit,
			rangeQuery(g.series("resonance_disk_usage_ratio"), "{{instance}} {{mountpoint}}")).
			Min(0).Max(1)).
		WithPanel(g.graphWithThresholds("Error rate", "ERROR and CRITICAL log entries per minute over 5m, the figure ErrorRateHigh and ErrorStorm compare.",
			units.CountsPerMinute, g.thresholds("error_rate", "count/min"),
			rangeQuery(errorRate, "{{instance}}")).
			Min(0).Span(thirdWidth)).
		WithPanel(graph("Errors by service", "ERROR and CRITICAL log entries per minute, by the service that logged them.",
			units.CountsPerMinute,
			rangeQuery("sum by (service) ("+g.rate("resonance_errors_total")+") * 60", "{{service}}")).
			Min(0).Span(thirdWidth)).
		WithPanel(graph("Log entries by level", "Log entries pushed to the ingest API per minute, by level.",
			units.CountsPerMinute,
			rangeQuery("sum by (level) ("+g.rate("resonance_log_entries_total")+") * 60", "{{level}}")).
			Min(0).Span(thirdWidth).
			Stacking(stackedNormal()))
}
