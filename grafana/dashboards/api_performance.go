package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"

	"github.com/quantum-resonance/telemetry/rules"
)

// apiPerformance is the plan's "API Performance" view: response times,
// error rates, throughput, and the latency of the two upstreams the API
// depends on, Hugging Face and the Pi Network SDK.
func apiPerformance(g *generator) *dashboard.DashboardBuilder {
	errorRatio := recorded(rules.RecordAPIErrorRatio)
	meanResponse := recorded(rules.RecordAPIResponseTime)
	hfLatency := recorded(rules.RecordHuggingFaceLatency)
	piLatency := recorded(rules.RecordPiSDKLatency)
	p95Response := "histogram_quantile(0.95, sum by (le) (" + g.rate("resonance_api_request_duration_seconds_bucket") + "))"

	return g.newDashboard("resonance-api-performance", "API Performance",
		"Throughput, error ratio and response times of quantum-resonance-api as the app reports them to the ingest API, and the latency of its Hugging Face and Pi SDK calls.").
		WithPanel(g.singleStat("Throughput", "API requests per second, all endpoints.",
			units.RequestsPerSecond, nil,
			instantQuery("sum("+g.rate("resonance_api_requests_total")+")", "requests"))).
		WithPanel(g.singleStat("API error ratio", "5xx share of API requests over 5m (recording rule "+rules.RecordAPIErrorRatio+").",
			units.PercentUnit, g.thresholds("api_error_rate", "%"),
			instantQuery(errorRatio, "{{instance}}"))).
		WithPanel(g.singleStat("Mean response time", "Mean API response time over 5m (recording rule "+rules.RecordAPIResponseTime+").",
			units.Seconds, g.thresholds("api_response_time", "ms"),
			instantQuery(meanResponse, "{{instance}}"))).
		WithPanel(g.singleStat("p95 response time", "95th percentile of API response times, all endpoints.",
			units.Seconds, nil,
			instantQuery(p95Response, "p95"))).
		WithPanel(g.singleStat("Hugging Face latency", "Mean latency of the app's Hugging Face calls over 5m, or the exporter's probe when the app made none.",
			units.Seconds, g.thresholds("huggingface_latency", "ms"),
			instantQuery(hfLatency, "{{instance}}"))).
		WithPanel(g.singleStat("Pi SDK latency", "Mean latency of the app's Pi SDK calls over 5m, or the exporter's probe of the Pi Platform when the app made none.",
			units.Seconds, g.thresholds("pi_sdk_latency", "ms"),
			instantQuery(piLatency, "{{instance}}"))).
		WithPanel(graph("Throughput by endpoint", "API requests per second by endpoint and method.",
			units.RequestsPerSecond,
			rangeQuery("sum by (endpoint, method) ("+g.rate("resonance_api_requests_total")+")", "{{method}} {{endpoint}}")).
			Min(0)).
		WithPanel(graph("Responses by status code", "API responses per second by HTTP status code.",
			units.RequestsPerSecond,
			rangeQuery("sum by (code) ("+g.rate("resonance_api_requests_total")+")", "{{code}}")).
			Min(0).
			Stacking(stackedNormal())).
		WithPanel(g.graphWithThresholds("API error ratio", "5xx share of API requests over 5m, the figure APIErrorRateHigh and APIFailure compare.",
			units.PercentUnit, g.thresholds("api_error_rate", "%"),
			rangeQuery(errorRatio, "{{instance}}")).
			Min(0)).
		WithPanel(g.graphWithThresholds("Mean response time", "Mean API response time over 5m, the figure SlowAPI compares.",
			units.Seconds, g.thresholds("api_response_time", "ms"),
			rangeQuery(meanResponse, "{{instance}}")).
			Min(0)).
		WithPanel(graph("Response time percentiles by endpoint", "Median and 95th percentile of API response times per endpoint, from the histogram buckets.",
			units.Seconds,
			rangeQuery(endpointQuantile(g, 0.5), "p50 {{endpoint}}"),
			rangeQuery(endpointQuantile(g, 0.95), "p95 {{endpoint}}")).
			Min(0).Span(fullWidth)).
		WithPanel(g.graphWithThresholds("Hugging Face latency", "Mean latency of the app's Hugging Face calls (the figure HuggingFaceLatencyHigh and SlowInference compare) and the exporter's own probe.",
			units.Seconds, g.thresholds("huggingface_latency", "ms"),
			rangeQuery(hfLatency, "mean {{instance}}"),
			rangeQuery(g.series("resonance_probe_duration_seconds", `probe="huggingface"`), "probe {{instance}}")).
			Min(0)).
		WithPanel(g.graphWithThresholds("Pi SDK latency", "Mean latency of the app's Pi SDK calls (the figure PiSDKLatencyHigh compares) and the exporter's probe of the Pi Platform.",
			units.Seconds, g.thresholds("pi_sdk_latency", "ms"),
			rangeQuery(piLatency, "mean {{instance}}"),
			rangeQuery(g.series("resonance_probe_duration_seconds", `probe="pi_platform"`), "probe {{instance}}")).
			Min(0)).
		WithPanel(graph("Upstream calls by outcome", "Calls of the app to its upstreams per second, by upstream, operation and outcome.",
			units.RequestsPerSecond,
			rangeQuery("sum by (upstream, operation, outcome) ("+g.rate("resonance_upstream_requests_total")+")", "{{upstream}} {{operation}} {{outcome}}")).
			Min(0)).
		WithPanel(timeline("Probe results", "Result of each of the exporter's HTTP probes.",
			units.NoUnit, valueText(map[string]dashboard.ValueMappingResult{
				"0": mapped("failing", "red", 0),
				"1": mapped("ok", "green", 1),
			}),
			rangeQuery(g.series("resonance_probe_success"), "{{probe}} {{instance}}")).
			Span(halfWidth))
}

// endpointQuantile is the q-quantile of the API response time per endpoint.
func endpointQuantile(g *generator, q float64) string {
	return "histogram_quantile(" + formatQuantile(q) + ", sum by (le, endpoint) (" + g.rate("resonance_api_request_duration_seconds_bucket") + "))"
}
