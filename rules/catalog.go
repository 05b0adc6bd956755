package rules

import (
	"fmt"
	"slices"
	"strings"
)

// rateWindow is the default range of every rate in the rule pack. Five
// minutes spans several scrapes at any sane interval, so one slow scrape or a
// single burst does not decide an alert on its own. An alert may read a
// shorter window (window: in the table) to page sooner, and a longer one
// when the short one has too few requests (long_window:).
const rateWindow = "5m"

// Names of the recording rules. They follow the level:metric:operations
// convention: aggregated to one series per scrape target, keeping the
// table's group labels (job, instance, namespace, cluster, ...), which the
// Alertmanager inhibitions and the operator's AlertmanagerConfig match on.
const (
	RecordErrorsPerMinute    = "instance:resonance_errors_per_minute:rate5m"
	RecordAPIErrorRatio      = "instance:resonance_api_error_ratio:rate5m"
	RecordAPIResponseTime    = "instance:resonance_api_request_duration_seconds:mean5m"
	RecordHuggingFaceLatency = "instance:resonance_huggingface_latency_seconds:mean5m"
	RecordPiSDKLatency       = "instance:resonance_pi_sdk_latency_seconds:mean5m"
)

const unauthorizedTransactionsFn = "resonance_wallet_unauthorized_transactions_total"

// RecordingRule is one derived figure of the plan, computed once by
// Prometheus and shared by the alerts and the dashboards.
type RecordingRule struct {
	Name string // the recorded series, e.g. RecordErrorsPerMinute
	Expr string // PromQL, with the table's selector applied
	// Metric is the plan metric the figure stands for, e.g. "error_rate".
	Metric string
	// BaseUnit is the unit of the recorded value.
	BaseUnit string
}

// windowed is a figure over a rate window: recorded for the default window,
// written out for any other.
type windowed struct {
	record string
	expr   func(s selector, window string) string
}

var (
	errorsPerMinute = windowed{RecordErrorsPerMinute, func(s selector, w string) string {
		// The plan counts errors per minute; rate() is per second.
		return fmt.Sprintf(`sum by (%s) (rate(resonance_errors_total{%s}[%s])) * 60`, s.by(), s, w)
	}}
	apiErrorRatio = windowed{RecordAPIErrorRatio, func(s selector, w string) string {
		// "or ... * 0" turns "no 5xx series yet" into a ratio of 0 as
		// long as there is traffic at all.
		return fmt.Sprintf(`(
    sum by (%[1]s) (rate(resonance_api_requests_total{%[2]s}[%[3]s]))
  or
    sum by (%[1]s) (rate(resonance_api_requests_total{%[4]s}[%[3]s])) * 0
)
/
(sum by (%[1]s) (rate(resonance_api_requests_total{%[4]s}[%[3]s])) > 0)`, s.by(), s.with(`code=~"5.."`), w, s)
	}}
	apiResponseTime = windowed{RecordAPIResponseTime, func(s selector, w string) string {
		return meanOfHistogram("resonance_api_request_duration_seconds", s, w)
	}}
	huggingFaceLatency = windowed{RecordHuggingFaceLatency, upstreamLatency("huggingface", "huggingface")}
	piSDKLatency       = windowed{RecordPiSDKLatency, upstreamLatency("pi_sdk", "pi_platform")}
)

// recordingRules returns the recording rules for a scrape selector such as
// `job="resonance"`. Every ratio's denominator is filtered with "> 0", so an
// idle service records no value rather than NaN or +Inf.
func recordingRules(s selector) []RecordingRule {
	rule := func(w windowed, metric, unit string) RecordingRule {
		return RecordingRule{Name: w.record, Metric: metric, BaseUnit: unit, Expr: w.expr(s, rateWindow)}
	}
	return []RecordingRule{
		rule(errorsPerMinute, "error_rate", "count/min"),
		rule(apiErrorRatio, "api_error_rate", "ratio"),
		rule(apiResponseTime, "api_response_time", "seconds"),
		rule(huggingFaceLatency, "huggingface_latency", "seconds"),
		rule(piSDKLatency, "pi_sdk_latency", "seconds"),
	}
}

// meanOfHistogram is the plan's "average" of a classic histogram: the
// increase of its _sum over the increase of its _count, per target.
func meanOfHistogram(name string, s selector, w string) string {
	return fmt.Sprintf(`sum by (%[4]s) (rate(%[1]s_sum{%[2]s}[%[3]s]))
/
(sum by (%[4]s) (rate(%[1]s_count{%[2]s}[%[3]s])) > 0)`, name, s, w, s.by())
}

// upstreamLatency is the mean latency of the app's calls to one upstream.
// When the app made no call in the window, the exporter's own probe of that
// upstream stands in, so an idle app still has a latency figure. Over a long
// window (the low-traffic fallback) the app's calls alone count.
func upstreamLatency(upstream, probe string) func(selector, string) string {
	return func(s selector, w string) string {
		mean := meanOfHistogram("resonance_upstream_request_duration_seconds", s.with(fmt.Sprintf("upstream=%q", upstream)), w)
		if w != rateWindow {
			return mean
		}
		return fmt.Sprintf(`(
  %s
)
or
max by (%s) (resonance_probe_duration_seconds{%s})`,
			strings.ReplaceAll(mean, "\n", "\n  "), s.by(), s.with(fmt.Sprintf("probe=%q", probe)))
	}
}

// unit is a unit the plan writes a threshold in. Thresholds are converted to
// the unit of the Prometheus series once, here: base = plan * mul / div.
type unit struct {
	mul, div float64
	// suffix follows a value in descriptions ("85.3%", "1200 MB").
	suffix string
	// decimals is the precision of a value in annotations.
	decimals int
}

var units = map[string]unit{
	"%":         {mul: 1, div: 100, suffix: "%", decimals: 2},
	"MB":        {mul: 1 << 20, div: 1, suffix: " MB", decimals: 2}, // binary, as the plan's "1024 MB" implies
	"GB":        {mul: 1 << 30, div: 1, suffix: " GB", decimals: 2},
	"ms":        {mul: 1, div: 1000, suffix: " ms", decimals: 2},
	"seconds":   {mul: 1, div: 1, suffix: " s", decimals: 2},
	"minutes":   {mul: 60, div: 1, suffix: " min", decimals: 0},
	"hours":     {mul: 3600, div: 1, suffix: " h", decimals: 1},
	"count/min": {mul: 1, div: 1, suffix: "/min", decimals: 2},
	"count":     {mul: 1, div: 1, suffix: "", decimals: 0},
	"Pi":        {mul: 1, div: 1, suffix: " Pi", decimals: 2},
	"score":     {mul: 1, div: 1, suffix: "", decimals: 2},
	"boolean":   {mul: 1, div: 1, suffix: "", decimals: 0},
}

func (u unit) toBase(v float64) float64 { return v * u.mul / u.div }

// fromBase is the PromQL suffix that turns a value in the base unit back into
// the plan's unit, so that $value in annotations reads like the plan.
func (u unit) fromBase() string {
	switch {
	case u.div != 1:
		return " * " + formatNumber(u.div)
	case u.mul != 1:
		return " / " + formatNumber(u.mul)
	}
	return ""
}

// measure is one way to measure a plan metric: the PromQL of its value in
// base units, for the unit the threshold is written in.
type measure struct {
	expr func(selector) string
	// rate, for a figure over a rate window, replaces expr: the alert
	// reads it over its window (and its long window).
	rate *windowed
	// traffic, for a ratio or mean of requests, counts the requests of a
	// window per target: the alert needs min_requests of them.
	traffic func(s selector, window string) string
	// cond, when set, is the whole alert condition for a threshold in the
	// base unit, for a measure that is more than "value op threshold".
	cond func(s selector, thr string) string
	// description, when set, replaces the generated one; {value} and
	// {threshold} as in the pipeline checks.
	description string
}

// valueExpr is the measure's value over a rate window.
func (m measure) valueExpr(s selector, window string) string {
	if m.rate != nil {
		if window == rateWindow {
			return m.rate.record
		}
		return m.rate.expr(s, window)
	}
	return m.expr(s)
}

// plannedMetric is a metric of the plan, named as the plan names it. The
// name is the alerts' metric label.
type plannedMetric struct {
	display string // "Error rate", starts the description
	// valueSuffix overrides the unit's suffix in descriptions ("errors/min").
	valueSuffix string
	// aboveVerb overrides "exceeded threshold" for ">" alerts.
	aboveVerb string
	// where follows the display name in descriptions, e.g. the mountpoint.
	where string
	// states names a boolean metric's false and true ("inactive", "active").
	states   [2]string
	measures map[string]measure // by the plan's unit
}

func series(name string, extra ...string) func(selector) string {
	return func(s selector) string { return name + "{" + s.with(extra...).String() + "}" }
}

func rated(w windowed, traffic func(selector, string) string) measure {
	return measure{rate: &w, traffic: traffic}
}

// requestsIn counts the requests of a counter over a window, per target.
func requestsIn(counter string, extra ...string) func(selector, string) string {
	return func(s selector, w string) string {
		return fmt.Sprintf("sum by (%s) (increase(%s{%s}[%s]))", s.by(), counter, s.with(extra...), w)
	}
}

// upstreamCalls is the traffic of an upstream latency: the app's calls, or,
// where the app made none and the exporter's probe stands in (see
// upstreamLatency), enough by definition: the probe is one steady
// measurement, not a handful of requests. Over a long window, the calls.
func upstreamCalls(upstream, probe string) func(selector, string) string {
	return func(s selector, w string) string {
		calls := requestsIn("resonance_upstream_request_duration_seconds_count", fmt.Sprintf("upstream=%q", upstream))(s, w)
		if w != rateWindow {
			return calls
		}
		return fmt.Sprintf("(%s > 0)\nor on (%s)\n(max by (%s) (resonance_probe_duration_seconds{%s}) * 0 + Inf)",
			calls, s.by(), s.by(), s.with(fmt.Sprintf("probe=%q", probe)))
	}
}

var catalog = map[string]plannedMetric{
	"cpu_usage": {display: "CPU usage", measures: map[string]measure{
		// The median of the last five minutes: a minute's dip now and then
		// does not reset the alert's for, and a short spike does not count.
		"%": {expr: func(s selector) string {
			return fmt.Sprintf("quantile_over_time(0.5, resonance_cpu_usage_ratio{%s}[5m])", s)
		}},
	}},
	"memory_usage": {display: "Memory usage", measures: map[string]measure{
		// The service's working set (memory.current minus inactive page
		// cache, as the kubelet counts it) over its cgroup limit where it
		// has one, the host's memory otherwise. Page cache the kernel can
		// drop at once is not memory the service is short of.
		"%": {expr: func(s selector) string {
			return fmt.Sprintf(`max by (%[2]s) (resonance_cgroup_memory_working_set_bytes{%[1]s} / (resonance_cgroup_memory_limit_bytes{%[1]s} > 0))
or on (%[2]s)
max by (%[2]s) (resonance_memory_usage_ratio{%[1]s})`, s, s.by())
		}},
		// The service's own memory, never the host's: the watched process's
		// resident memory, or its cgroup's working set.
		"MB": {expr: func(s selector) string {
			return fmt.Sprintf(`max by (%[2]s) (
    resonance_process_resident_memory_bytes{%[1]s}
  or
    resonance_cgroup_memory_working_set_bytes{%[1]s}
)`, s, s.by())
		}},
	}},
	"disk_usage": {display: "Disk usage", where: " on {{ $labels.mountpoint }}", measures: map[string]measure{
		"%":  {expr: series("resonance_disk_usage_ratio")},
		"GB": {expr: series("resonance_disk_used_bytes")},
		// node-mixin's NodeFilesystemSpaceFillingUp: at the pace of the
		// last 6 hours (the slope predict_linear extrapolates) the
		// filesystem is full within the threshold, and it is already more
		// than 85 % used (a near-empty disk that grows fast is not urgent).
		// The value is the time left until full.
		"hours": {
			expr: func(s selector) string {
				return fmt.Sprintf("(1 - resonance_disk_usage_ratio{%[1]s}) / (deriv(resonance_disk_usage_ratio{%[1]s}[6h]) > 0)", s)
			},
			cond: func(s selector, thr string) string {
				return fmt.Sprintf("(1 - resonance_disk_usage_ratio{%[1]s}) / (deriv(resonance_disk_usage_ratio{%[1]s}[6h]) > 0) < %[2]s\nand\nresonance_disk_usage_ratio{%[1]s} > 0.85", s, thr)
			},
			description: "Disk {{ $labels.mountpoint }} fills within {value} hours at the pace of the last 6 hours (threshold: {threshold} hours); it is more than 85% used",
		},
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
		"count/min": {rate: &errorsPerMinute},
	}},
	"api_response_time": {display: "API response time", measures: map[string]measure{
		"ms": rated(apiResponseTime, requestsIn("resonance_api_request_duration_seconds_count")),
	}},
	"api_error_rate": {display: "API error rate", measures: map[string]measure{
		"%": rated(apiErrorRatio, requestsIn("resonance_api_requests_total")),
	}},
	"huggingface_latency": {display: "Hugging Face latency", measures: map[string]measure{
		"ms": rated(huggingFaceLatency, upstreamCalls("huggingface", "huggingface")),
	}},
	"pi_sdk_latency": {display: "Pi SDK latency", measures: map[string]measure{
		"ms": rated(piSDKLatency, upstreamCalls("pi_sdk", "pi_platform")),
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

// restartedSince5m is true for a start (or boot) time later than the last
// scrape of it that is more than 5 minutes old (within the hour): the process
// (or host) started after Prometheus last saw the old one. A clock step (NTP,
// a resumed VM) moves a start time computed from the boot time by the size
// of the step, but leaves it long before the last scrape, so it is never
// read as a restart; nor is the first sight of a target (nothing to compare).
// True for 5 minutes from the first scrape after the restart, whatever the
// gap before it (a slow reboot, a scrape missed).
func restartedSince5m(name string, s selector) string {
	return fmt.Sprintf(`%[1]s{%[2]s} > on (%[3]s) last_over_time(timestamp(%[1]s{%[2]s})[1h:1m] offset 5m)`, name, s, s.by("source"))
}

// systemDown is the plan's "uptime < 60 s (unexpected restart)" about the
// service itself, per exporter target: the watched process (or the app's
// pushed start time) started less than thr seconds ago, or restarted within
// the last 5 minutes (a new pid or start ticks counted by the exporter, or a
// start time after the previous scrape), or the host rebooted within 5
// minutes (its boot time after the previous scrape), all read as uptime in
// seconds, now; or the process is gone (0). A restart with a new app version
// (resonance_app_info) within 15 minutes is a deploy, not a page. An
// unreachable exporter reports none of these: that is ExporterDown.
func systemDown(s selector, thr string) string {
	return fmt.Sprintf(`min by (%[3]s) (
    time() - resonance_process_start_time_seconds{%[1]s} < %[2]s
  or
    (time() - resonance_process_start_time_seconds{%[1]s})
      and on (%[3]s)
    increase(resonance_process_restarts_total{%[1]s}[5m]) > 0
  or
    time() - (%[4]s)
  or
    time() - (%[5]s)
  or
    resonance_process_up{%[1]s} == 0
)
unless on (%[3]s)
count by (%[3]s) (count by (%[6]s) (last_over_time(resonance_app_info{%[1]s}[15m]))) > 1`,
		s, thr, s.by(),
		restartedSince5m("resonance_process_start_time_seconds", s),
		restartedSince5m("resonance_boot_time_seconds", s),
		s.by("version"))
}

// unauthorizedTransactions counts the unauthorized transactions of the last
// hour. increase() counts those seen while the exporter is scraped; a
// payment made while the exporter was down (the counter comes back from the
// state file one higher after the gap) is the rise over the last value from
// before the hour. A series seen for the first time with a value (a new
// Prometheus replica, a relabelled instance) has nothing to rise from: it is
// history, not an attack. The counters are exported from 0 (Horizon) or
// pre-initialised at 0 (the ingest store), so the first payment ever is an
// increase too.
func unauthorizedTransactions(s selector) string {
	return fmt.Sprintf(`sum by (%[3]s) (increase(%[1]s{%[2]s}[1h])) > 0
or on (%[3]s)
sum by (%[3]s) (%[1]s{%[2]s} - last_over_time(%[1]s{%[2]s}[1d] offset 1h))`, unauthorizedTransactionsFn, s, s.by())
}

// PlanMetrics lists the plan metric names the table may use.
func PlanMetrics() []string {
	names := make([]string, 0, len(catalog))
	for n := range catalog {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (m plannedMetric) unitNames() []string {
	names := make([]string, 0, len(m.measures))
	for n := range m.measures {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// selector is the label matchers of the scrape job, without braces, and the
// target labels every aggregation keeps (the table's group_labels).
type selector struct {
	matchers string
	labels   []string
}

func (s selector) String() string { return s.matchers }

// with returns the selector with more matchers appended.
func (s selector) with(matchers ...string) selector {
	all := append([]string{}, matchers...)
	if s.matchers != "" {
		all = append([]string{s.matchers}, all...)
	}
	return selector{matchers: strings.Join(all, ","), labels: s.labels}
}

// by lists the labels an aggregation keeps: the group labels (one series per
// scrape target, with its namespace and cluster), then extra ones.
func (s selector) by(extra ...string) string {
	return strings.Join(append(slices.Clone(s.labels), extra...), ", ")
}

// byJob lists the group labels without the ones that name one target
// (instance, pod, container): a job within its namespace and cluster, for
// figures judged across replicas (SLOs, the relay's delivery).
func (s selector) byJob(extra ...string) string {
	var keep []string
	for _, l := range s.labels {
		if !slices.Contains(targetLabels, l) {
			keep = append(keep, l)
		}
	}
	return strings.Join(append(keep, extra...), ", ")
}

// targetLabels name one scrape target of a job; byJob drops them.
var targetLabels = []string{"instance", "pod", "container"}

// scopes are the selectors of the jobs the pipeline alerts judge.
type scopes struct {
	exporter, prometheus, alertmanager selector
}

func (t *Table) scopes() scopes {
	sel := func(m string) selector { return selector{matchers: m, labels: t.GroupLabels} }
	return scopes{exporter: t.selector(), prometheus: sel(t.PrometheusSelector), alertmanager: sel(t.AlertmanagerSelector)}
}
