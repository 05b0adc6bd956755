package query

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Figure is one of the plan's figures over a window (a night, a day): the
// PromQL that computes it at the window's end, and how to show it.
type Figure struct {
	// Name is the plan's metric name, or the plan's name with a suffix
	// when one metric gives several figures (api_response_time_p95).
	Name string
	// Title is how the figure reads in a report.
	Title string
	// Unit is the unit of the figure as reported (after Scale).
	Unit string
	// Scale turns the query's base unit into Unit (100 for ratio → %).
	Scale float64
	// expr returns the PromQL for the scrape selector and window, e.g.
	// ("job=\"resonance\"", "10h").
	expr func(sel, window string) string
	// AtStart evaluates the figure at the window's start instead of its
	// end (a balance "before").
	AtStart bool
}

// Expr is the figure's PromQL for the source's job over window.
func (s *Source) Expr(f Figure, window time.Duration) string {
	return f.expr(s.Selector, model.Duration(window).String())
}

// Value evaluates the figure over the window that ends at end, in f.Unit.
// ErrNoData when the metrics behind it had no samples.
func (s *Source) Value(ctx context.Context, f Figure, window time.Duration, end time.Time) (float64, error) {
	at := end
	if f.AtStart {
		at = end.Add(-window)
	}
	v, err := s.Scalar(ctx, s.Expr(f, window), at)
	if err != nil {
		return 0, err
	}
	return v * f.Scale, nil
}

// with appends matchers to a selector.
func with(sel string, matchers ...string) string {
	return strings.Join(append([]string{sel}, matchers...), ",")
}

func gaugeOver(fn, metric string) func(sel, w string) string {
	return func(sel, w string) string {
		return fmt.Sprintf("%s(%s_over_time(%s{%s}[%s]))", aggOf(fn), fn, metric, sel, w)
	}
}

// aggOf folds several series the way their figure reads: peaks by max,
// lows by min, means by avg.
func aggOf(fn string) string {
	switch fn {
	case "max", "last":
		return "max"
	case "min":
		return "min"
	}
	return "avg"
}

func meanLatency(histogram string, matchers ...string) func(sel, w string) string {
	return func(sel, w string) string {
		s := with(sel, matchers...)
		return fmt.Sprintf("sum(rate(%[1]s_sum{%[2]s}[%[3]s])) / (sum(rate(%[1]s_count{%[2]s}[%[3]s])) > 0)", histogram, s, w)
	}
}

func latencyQuantile(q float64) func(sel, w string) string {
	return func(sel, w string) string {
		return fmt.Sprintf("histogram_quantile(%g, sum by (le) (rate(resonance_api_request_duration_seconds_bucket{%s}[%s])))", q, sel, w)
	}
}

// Figures are the plan's figures the rituals report, in report order.
var Figures = []Figure{
	{Name: "api_requests", Title: "API requests", Unit: "count", Scale: 1, expr: func(sel, w string) string {
		return fmt.Sprintf("sum(increase(resonance_api_requests_total{%s}[%s]))", sel, w)
	}},
	{Name: "error_rate", Title: "Error rate (mean)", Unit: "count/min", Scale: 60, expr: func(sel, w string) string {
		return fmt.Sprintf("sum(rate(resonance_errors_total{%s}[%s]))", sel, w)
	}},
	{Name: "api_error_rate", Title: "API error ratio", Unit: "%", Scale: 100, expr: func(sel, w string) string {
		return fmt.Sprintf(`(sum(rate(resonance_api_requests_total{%[1]s}[%[2]s])) or vector(0)) / (sum(rate(resonance_api_requests_total{%[3]s}[%[2]s])) > 0)`,
			with(sel, `code=~"5.."`), w, sel)
	}},
	{Name: "api_response_time", Title: "API response time (mean)", Unit: "ms", Scale: 1000, expr: meanLatency("resonance_api_request_duration_seconds")},
	{Name: "api_response_time_p50", Title: "API response time p50", Unit: "ms", Scale: 1000, expr: latencyQuantile(0.5)},
	{Name: "api_response_time_p95", Title: "API response time p95", Unit: "ms", Scale: 1000, expr: latencyQuantile(0.95)},
	{Name: "huggingface_latency", Title: "Hugging Face latency (mean)", Unit: "ms", Scale: 1000, expr: meanLatency("resonance_upstream_request_duration_seconds", `upstream="huggingface"`)},
	{Name: "pi_sdk_latency", Title: "Pi SDK latency (mean)", Unit: "ms", Scale: 1000, expr: meanLatency("resonance_upstream_request_duration_seconds", `upstream="pi_sdk"`)},
	{Name: "cpu_usage", Title: "CPU usage (mean)", Unit: "%", Scale: 100, expr: gaugeOver("avg", "resonance_cpu_usage_ratio")},
	{Name: "cpu_usage_peak", Title: "CPU usage (peak 5-min median)", Unit: "%", Scale: 100, expr: func(sel, w string) string {
		// The peak of what HighCPU compares with its threshold (the
		// median of the last five minutes), minute by minute: the figure
		// the weekly audit's distribution reads, so every report tells
		// one peak. A start-up burst of seconds is no peak.
		return fmt.Sprintf("max(max_over_time(quantile_over_time(0.5, resonance_cpu_usage_ratio{%s}[5m])[%s:1m]))", sel, w)
	}},
	{Name: "memory_usage", Title: "Memory usage (peak)", Unit: "%", Scale: 100, expr: gaugeOver("max", "resonance_memory_usage_ratio")},
	{Name: "disk_usage", Title: "Disk used (end)", Unit: "GB", Scale: 1.0 / (1 << 30), expr: gaugeOver("last", "resonance_disk_used_bytes")},
	{Name: "restarts", Title: "Restarts", Unit: "count", Scale: 1, expr: func(sel, w string) string {
		return fmt.Sprintf("sum(resets(resonance_uptime_seconds{%s}[%s]))", sel, w)
	}},
	{Name: "availability", Title: "Availability (up and scraped)", Unit: "%", Scale: 100, expr: func(sel, w string) string {
		// Minute by minute: was there a successful scrape? A target that
		// is gone has no up sample at all and counts as down.
		return fmt.Sprintf("avg_over_time((max(max_over_time(up{%s}[1m])) or vector(0))[%s:1m])", sel, w)
	}},
	{Name: "active_users", Title: "Active users (peak)", Unit: "count", Scale: 1, expr: gaugeOver("max", "resonance_active_users")},
	{Name: "transactions_completed", Title: "Transactions completed", Unit: "count", Scale: 1, expr: func(sel, w string) string {
		return fmt.Sprintf(`sum(increase(resonance_transactions_total{%s}[%s]))`, with(sel, `status="completed"`), w)
	}},
	{Name: "wallet_balance_start", Title: "Wallet balance (start)", Unit: "Pi", Scale: 1, AtStart: true, expr: func(sel, _ string) string {
		return fmt.Sprintf("max(last_over_time(resonance_wallet_balance_pi{%s}[1h]))", sel)
	}},
	{Name: "wallet_balance", Title: "Wallet balance (end)", Unit: "Pi", Scale: 1, expr: func(sel, _ string) string {
		return fmt.Sprintf("max(last_over_time(resonance_wallet_balance_pi{%s}[1h]))", sel)
	}},
	{Name: "mining_boost_active", Title: "Mining boost active", Unit: "%", Scale: 100, expr: gaugeOver("avg", "resonance_mining_boost_active")},
	{Name: "community_resonance", Title: "Community resonance (mean)", Unit: "score", Scale: 1, expr: gaugeOver("avg", "resonance_community_resonance_score")},
	{Name: "community_resonance_low", Title: "Community resonance (low)", Unit: "score", Scale: 1, expr: gaugeOver("min", "resonance_community_resonance_score")},
}

// NightFigures are the morning review's key figures.
var NightFigures = []string{"error_rate", "api_error_rate", "api_response_time_p95", "huggingface_latency", "pi_sdk_latency", "cpu_usage_peak", "memory_usage", "restarts"}

// FigureByName returns the figure of that name.
func FigureByName(name string) (Figure, bool) {
	for _, f := range Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}
