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
	"minutes":   {mul: 60, div: 1, suffix: " min", decimals: 0},
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
	// traffic, for a ratio or mean of requests, counts the requests of the
	// window per target: the alert needs min_requests of them.
	traffic func(selector) string
	// cond, when set, is the whole alert condition for a threshold in the
	// base unit, for a measure that is more than "value op threshold".
	cond func(s selector, thr string) string
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

func recordedWithTraffic(name string, traffic func(selector) string) measure {
	m := recorded(name)
	m.traffic = traffic
	return m
}

// requestsIn counts the requests of a counter over the rate window, per target.
func requestsIn(counter string, extra ...string) func(selector) string {
	return func(s selector) string {
		return fmt.Sprintf("sum by (job, instance) (increase(%s{%s}[%s]))", counter, s.with(extra...), rateWindow)
	}
}

// upstreamCalls is the traffic of an upstream latency: the app's calls, or,
// where the app made none and the exporter's probe stands in (see
// upstreamLatency), enough by definition: the probe is one steady
// measurement, not a handful of requests.
func upstreamCalls(upstream, probe string) func(selector) string {
	return func(s selector) string {
		return fmt.Sprintf("(%s > 0)\nor on (job, instance)\n(max by (job, instance) (resonance_probe_duration_seconds{%s}) * 0 + Inf)",
			requestsIn("resonance_upstream_request_duration_seconds_count", fmt.Sprintf("upstream=%q", upstream))(s),
			s.with(fmt.Sprintf("probe=%q", probe)))
	}
}

var catalog = map[string]seedMetric{
	"cpu_usage": {display: "CPU usage", measures: map[string]measure{
		// The median of the last five minutes: a minute's dip now and then
		// does not reset the alert's for, and a short spike does not count.
		"%": {expr: func(s selector) string {
			return fmt.Sprintf("quantile_over_time(0.5, resonance_cpu_usage_ratio{%s}[5m])", s)
		}},
	}},
	"memory_usage": {display: "Memory usage", measures: map[string]measure{
		// The service's memory over its cgroup limit where it has one,
		// the host's memory otherwise.
		"%": {expr: func(s selector) string {
			return fmt.Sprintf(`max by (job, instance) (resonance_cgroup_memory_bytes{%[1]s} / (resonance_cgroup_memory_limit_bytes{%[1]s} > 0))
or on (job, instance)
max by (job, instance) (resonance_memory_usage_ratio{%[1]s})`, s)
		}},
		// The service's own memory, never the host's: the watched process's
		// resident memory, its cgroup's memory or the app's pushed figure.
		"MB": {expr: func(s selector) string {
			return fmt.Sprintf(`max by (job, instance) (
    resonance_process_resident_memory_bytes{%[1]s}
  or
    resonance_cgroup_memory_bytes{%[1]s}
)`, s)
		}},
	}},
	"disk_usage": {display: "Disk usage", measures: map[string]measure{
		"%":  {expr: series("resonance_disk_usage_ratio")},
		"GB": {expr: series("resonance_disk_used_bytes")},
	}},
	"uptime": {display: "Uptime", measures: map[string]measure{
		"seconds": {
			expr: func(s selector) string {
				return fmt.Sprintf("time() - resonance_process_start_time_seconds{%s}", s)
			},
			cond: systemDown,
		},
	}},
	"error_rate": {display: "Error rate", valueSuffix: " errors/min", measures: map[string]measure{
		"count/min": recorded(RecordErrorsPerMinute),
	}},
	"api_response_time": {display: "API response time", measures: map[string]measure{
		"ms": recordedWithTraffic(RecordAPIResponseTime, requestsIn("resonance_api_request_duration_seconds_count")),
	}},
	"api_error_rate": {display: "API error rate", measures: map[string]measure{
		"%": recordedWithTraffic(RecordAPIErrorRatio, requestsIn("resonance_api_requests_total")),
	}},
	"huggingface_latency": {display: "Hugging Face latency", measures: map[string]measure{
		"ms": recordedWithTraffic(RecordHuggingFaceLatency, upstreamCalls("huggingface", "huggingface")),
	}},
	"pi_sdk_latency": {display: "Pi SDK latency", measures: map[string]measure{
		"ms": recordedWithTraffic(RecordPiSDKLatency, upstreamCalls("pi_sdk", "pi_platform")),
	}},
	"mining_boost_active": {display: "Mining boost", states: [2]string{"inactive", "active"}, measures: map[string]measure{
		"boolean": {expr: series("resonance_mining_boost_active")},
	}},
	"wallet_balance": {display: "Wallet balance", measures: map[string]measure{
		"Pi": {expr: series("resonance_wallet_balance_pi")},
	}},
	"community_resonance": {display: "Community resonance", measures: map[string]measure{
		// A slow figure the app may push rarely: the last value of the
		// hour, so it does not resolve between pushes.
		"score": {expr: func(s selector) string {
			return fmt.Sprintf("last_over_time(resonance_community_resonance_score{%s}[1h])", s)
		}},
	}},
	"wallet_unauthorized_transactions": {display: "Unauthorized transactions", valueSuffix: " in the last hour", aboveVerb: "detected", measures: map[string]measure{
		"count": {expr: unauthorizedTransactions},
	}},
}

// systemDown is the seed's "uptime < 60 s (unexpected restart)" about the
// service itself, per exporter target: the watched process (or the app's
// pushed start time) started less than thr seconds ago, or restarted within
// the last 5 minutes (restart counted, or a new start time seen), or the host rebooted within 5 minutes (its lowest
// uptime), all read as uptime in seconds; or the process is gone (0). An
// unreachable exporter reports none of these: that is ExporterDown.
func systemDown(s selector, thr string) string {
	return fmt.Sprintf(`min by (job, instance) (
    time() - resonance_process_start_time_seconds{%[1]s} < %[2]s
  or
    (time() - resonance_process_start_time_seconds{%[1]s})
      and on (job, instance)
    (
        increase(resonance_process_restarts_total{%[1]s}[5m]) > 0
      or
        changes(resonance_process_start_time_seconds{%[1]s}[5m]) > 0
    )
  or
    min_over_time(resonance_uptime_seconds{%[1]s}[5m]) < %[2]s
  or
    resonance_process_up{%[1]s} == 0
)`, s, thr)
}

// unauthorizedTransactions counts the unauthorized transactions of the last
// hour. increase() only: a series seen for the first time with a value (a
// new Prometheus replica, a relabelled instance, the Horizon counter resumed
// from the state file after a gap) is history, not an attack. The counters
// are exported from 0 (Horizon) or pre-initialised at 0 (the ingest store),
// so the first payment ever is an increase too.
func unauthorizedTransactions(s selector) string {
	return fmt.Sprintf(`sum by (job, instance) (increase(%s{%s}[1h]))`, unauthorizedTransactionsFn, s)
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
