package rules

import (
	"fmt"
	"slices"
	"strings"
)

// rateWindow is the range of every rate in the rule pack. Five minutes spans
// several scrapes at any sane interval, so one slow scrape or a single burst
// does not decide an alert on its own.
const rateWindow = "5m"

// Names of the recording rules. They follow the level:metric:operations
// convention: aggregated to one series per scrape target (job, instance),
// which keeps the instance label that Alertmanager's inhibitions match on.
const (
	RecordErrorsPerMinute    = "instance:resonance_errors_per_minute:rate5m"
	RecordAPIErrorRatio      = "instance:resonance_api_error_ratio:rate5m"
	RecordAPIResponseTime    = "instance:resonance_api_request_duration_seconds:mean5m"
	RecordHuggingFaceLatency = "instance:resonance_huggingface_latency_seconds:mean5m"
	RecordPiSDKLatency       = "instance:resonance_pi_sdk_latency_seconds:mean5m"
)

const unauthorizedTransactionsFn = "resonance_wallet_unauthorized_transactions_total"

// RecordingRule is one derived figure of the seed, computed once by
// Prometheus and shared by the alerts and the dashboards.
type RecordingRule struct {
	Name string // the recorded series, e.g. RecordErrorsPerMinute
	Expr string // PromQL, with the table's selector applied
	// Metric is the seed metric the figure stands for, e.g. "error_rate".
	Metric string
	// BaseUnit is the unit of the recorded value.
	BaseUnit string
}

// recordingRules returns the recording rules for a scrape selector such as
// `job="resonance"`. Every ratio's denominator is filtered with "> 0", so an
// idle service records no value rather than NaN or +Inf.
func recordingRules(s selector) []RecordingRule {
	return []RecordingRule{
		{
			Name:     RecordErrorsPerMinute,
			Metric:   "error_rate",
			BaseUnit: "count/min",
			// The seed counts errors per minute; rate() is per second.
			Expr: fmt.Sprintf(`sum by (job, instance) (rate(resonance_errors_total{%s}[%s])) * 60`, s, rateWindow),
		},
		{
			Name:     RecordAPIErrorRatio,
			Metric:   "api_error_rate",
			BaseUnit: "ratio",
			// "or ... * 0" turns "no 5xx series yet" into a ratio of 0 as
			// long as there is traffic at all.
			Expr: fmt.Sprintf(`(
    sum by (job, instance) (rate(resonance_api_requests_total{%[1]s}[%[2]s]))
  or
    sum by (job, instance) (rate(resonance_api_requests_total{%[3]s}[%[2]s])) * 0
)
/
(sum by (job, instance) (rate(resonance_api_requests_total{%[3]s}[%[2]s])) > 0)`, s.with(`code=~"5.."`), rateWindow, s),
		},
		{
			Name:     RecordAPIResponseTime,
			Metric:   "api_response_time",
			BaseUnit: "seconds",
			Expr:     meanOfHistogram("resonance_api_request_duration_seconds", s),
		},
		{
			Name:     RecordHuggingFaceLatency,
			Metric:   "huggingface_latency",
			BaseUnit: "seconds",
			Expr:     upstreamLatency(s, "huggingface", "huggingface"),
		},
		{
			Name:     RecordPiSDKLatency,
			Metric:   "pi_sdk_latency",
			BaseUnit: "seconds",
			Expr:     upstreamLatency(s, "pi_sdk", "pi_platform"),
		},
	}
}

// meanOfHistogram is the seed's "average" of a classic histogram: the
// increase of its _sum over the increase of its _count, per target.
func meanOfHistogram(name string, s selector) string {
	return fmt.Sprintf(`sum by (job, instance) (rate(%[1]s_sum{%[2]s}[%[3]s]))
/
(sum by (job, instance) (rate(%[1]s_count{%[2]s}[%[3]s])) > 0)`, name, s, rateWindow)
}

// upstreamLatency is the mean latency of the app's calls to one upstream.
// When the app made no call in the window, the exporter's own probe of that
// upstream stands in, so an idle app still has a latency figure.
func upstreamLatency(s selector, upstream, probe string) string {
	return fmt.Sprintf(`(
  %s
)
or
max by (job, instance) (resonance_probe_duration_seconds{%s})`,
		strings.ReplaceAll(meanOfHistogram("resonance_upstream_request_duration_seconds", s.with(fmt.Sprintf("upstream=%q", upstream))), "\n", "\n  "),
		s.with(fmt.Sprintf("probe=%q", probe)))
}

// unit is a unit the seed writes a threshold in. Thresholds are converted to
// the unit of the Prometheus series once, here: base = seed * mul / div.
type unit struct {
	mul, div float64
	// suffix follows a value in descriptions ("85.3%", "1200 MB").
	suffix string
	// decimals is the precision of a value in annotations.
	decimals int
}

var units = map[string]unit{
	"%":         {mul: 1, div: 100, suffix: "%", decimals: 2},
	"MB":        {mul: 1 << 20, div: 1, suffix: " MB", decimals: 2}, // binary, as the seed's "1024 MB" implies
	"GB":        {mul: 1 << 30, div: 1, suffix: " GB", decimals: 2},
	"ms":        {mul: 1, div: 1000, suffix: " ms", decimals: 2},
	"seconds":   {mul: 1, div: 1, suffix: " s", decimals: 2},
	"count/min": {mul: 1, div: 1, suffix: "/min", decimals: 2},
	"count":     {mul: 1, div: 1, suffix: "", decimals: 0},
	"Pi":        {mul: 1, div: 1, suffix: " Pi", decimals: 2},
	"score":     {mul: 1, div: 1, suffix: "", decimals: 2},
	"boolean":   {mul: 1, div: 1, suffix: "", decimals: 0},
}

func (u unit) toBase(v float64) float64 { return v * u.mul / u.div }

// fromBase is the PromQL suffix that turns a value in the base unit back into
// the seed's unit, so that $value in annotations reads like the seed.
func (u unit) fromBase() string {
	switch {
	case u.div != 1:
		return " * " + formatNumber(u.div)
	case u.mul != 1:
		return " / " + formatNumber(u.mul)
	}
	return ""
}

// measure is one way to measure a seed metric: the PromQL of its value in
// base units, for the unit the threshold is written in.
type measure struct {
	expr func(selector) string
	// records lists the recording rules expr reads.
	records []string
	// extra is or-ed to the threshold condition (SystemDown's target checks).
	extra func(selector) string
}

// seedMetric is a metric of the seed, named as the seed names it. The name
// is the alerts' metric label.
type seedMetric struct {
	display string // "Error rate", starts the description
	// valueSuffix overrides the unit's suffix in descriptions ("errors/min").
	valueSuffix string
	// aboveVerb overrides "exceeded threshold" for ">" alerts.
	aboveVerb string
	// states names a boolean metric's false and true ("inactive", "active").
	states   [2]string
	measures map[string]measure // by seed unit
}

func series(name string, extra ...string) func(selector) string {
	return func(s selector) string { return name + "{" + s.with(extra...).String() + "}" }
}

func recorded(name string) measure {
	return measure{expr: func(selector) string { return name }, records: []string{name}}
}

var catalog = map[string]seedMetric{
	"cpu_usage": {display: "CPU usage", measures: map[string]measure{
		"%": {expr: series("resonance_cpu_usage_ratio")},
	}},
	"memory_usage": {display: "Memory usage", measures: map[string]measure{
		"%":  {expr: series("resonance_memory_usage_ratio")},
		"MB": {expr: series("resonance_memory_used_bytes")},
	}},
	"disk_usage": {display: "Disk usage", measures: map[string]measure{
		"%":  {expr: series("resonance_disk_usage_ratio")},
		"GB": {expr: series("resonance_disk_used_bytes")},
	}},
	"uptime": {display: "Uptime", measures: map[string]measure{
		// The lowest uptime of the last five minutes, so that a restart
		// stays visible for five minutes and not for one evaluation only.
		"seconds": {
			expr: func(s selector) string {
				return fmt.Sprintf("min_over_time(resonance_uptime_seconds{%s}[5m])", s)
			},
			// A target that is down or gone reports no uptime at all: it
			// is down too. Both read as uptime 0.
			extra: func(s selector) string {
				return fmt.Sprintf("up{%[1]s} == 0\nor\n0 * absent(up{%[1]s})", s)
			},
		},
	}},
	"error_rate": {display: "Error rate", valueSuffix: " errors/min", measures: map[string]measure{
		"count/min": recorded(RecordErrorsPerMinute),
	}},
	"api_response_time": {display: "API response time", measures: map[string]measure{
		"ms": recorded(RecordAPIResponseTime),
	}},
	"api_error_rate": {display: "API error rate", measures: map[string]measure{
		"%": recorded(RecordAPIErrorRatio),
	}},
	"huggingface_latency": {display: "Hugging Face latency", measures: map[string]measure{
		"ms": recorded(RecordHuggingFaceLatency),
	}},
	"pi_sdk_latency": {display: "Pi SDK latency", measures: map[string]measure{
		"ms": recorded(RecordPiSDKLatency),
	}},
	"mining_boost_active": {display: "Mining boost", states: [2]string{"inactive", "active"}, measures: map[string]measure{
		"boolean": {expr: series("resonance_mining_boost_active")},
	}},
	"wallet_balance": {display: "Wallet balance", measures: map[string]measure{
		"Pi": {expr: series("resonance_wallet_balance_pi")},
	}},
	"community_resonance": {display: "Community resonance", measures: map[string]measure{
		"score": {expr: series("resonance_community_resonance_score")},
	}},
	"wallet_unauthorized_transactions": {display: "Unauthorized transactions", valueSuffix: " in the last hour", aboveVerb: "detected", measures: map[string]measure{
		"count": {expr: unauthorizedTransactions},
	}},
}

// unauthorizedTransactions counts the unauthorized transactions of the last
// hour. increase() alone misses a counter whose series is born with its first
// increment (nothing to compare with), so a series that did not exist in the
// hour before counts in full.
func unauthorizedTransactions(s selector) string {
	return fmt.Sprintf(`sum by (job, instance) (
    (
      %[1]s{%[2]s}
    unless
      max_over_time(%[1]s{%[2]s}[1h] offset 1h)
    )
  or
    increase(%[1]s{%[2]s}[1h])
)`, unauthorizedTransactionsFn, s)
}

// SeedMetrics lists the seed metric names the table may use.
func SeedMetrics() []string {
	names := make([]string, 0, len(catalog))
	for n := range catalog {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (m seedMetric) unitNames() []string {
	names := make([]string, 0, len(m.measures))
	for n := range m.measures {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// selector is the label matchers of the scrape job, without braces.
type selector string

func (s selector) String() string { return string(s) }

// with returns the selector with more matchers appended.
func (s selector) with(matchers ...string) selector {
	all := append([]string{}, matchers...)
	if s != "" {
		all = append([]string{string(s)}, all...)
	}
	return selector(strings.Join(all, ","))
}
