package rules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/buckets"
)

// Service-level objectives: the slos: section of the table. Each objective's
// indicator (SLI) is the share of bad events among all events, recorded over
// the windows the burn-rate alerts read, and the error budget left over the
// objective's window. The alerts are the multiwindow, multi-burn-rate alerts
// of Google's SRE workbook ("Alerting on SLOs"): a long window says enough
// budget was spent, a short one that it is still being spent.

// SLOGroup is the rule group of the SLO rules, apart from the plan's
// threshold rules: recording rules first, then the burn-rate alerts. One
// group, because Prometheus evaluates the rules of a group in order, so an
// alert reads the error ratios of the same evaluation; from another group it
// would read them one evaluation late, or not, depending on timing.
const SLOGroup = "resonance.slo"

// Names of the SLO recording rules; each series carries an slo label.
const (
	// RecordSLOEventRate and RecordSLOBadEventRate are the per-second
	// rates of all and of bad events over 5m, summed up for the budget's
	// window.
	RecordSLOEventRate    = "slo:sli_events:rate5m"
	RecordSLOBadEventRate = "slo:sli_bad_events:rate5m"
	// RecordSLOObjective is the objective as a ratio, e.g. 0.995.
	RecordSLOObjective = "slo:objective:ratio"
	// RecordSLOBudgetRemaining is the share of the window's error budget
	// left: 1 untouched, 0 spent, negative overspent.
	RecordSLOBudgetRemaining = "slo:sli_error:error_budget_remaining"
)

// AnnotationErrorBudgetRemaining is the SLO alerts' budget left, e.g. "62.5%".
const AnnotationErrorBudgetRemaining = "error_budget_remaining"

// SLORateWindows are the windows every SLI's error ratio is recorded over:
// the long and short windows of the workbook's burn-rate alerts.
var SLORateWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// RecordSLOErrorRatio names the SLI error ratio over a window, e.g.
// slo:sli_error:ratio_rate1h.
func RecordSLOErrorRatio(window string) string { return "slo:sli_error:ratio_rate" + window }

// SLOs is the slos: section of the table.
type SLOs struct {
	// RunbookBaseURL is docs/slos.md as users can open it.
	RunbookBaseURL string
	Objectives     []SLO
	Alerts         []BurnRateAlert
}

// SLO is one objective.
type SLO struct {
	Name string // the slo label, e.g. "api-availability"
	// Metric is the plan metric the SLI measures, the alerts' metric label.
	Metric string
	// Objective is the good share in percent, e.g. 99.5.
	Objective float64
	// Threshold and Unit bound a good event of a latency SLI (2000 ms).
	Threshold float64
	Unit      string
	// Window is the period the error budget is counted over (30d).
	Window model.Duration
	// MinRequests is the fewest events a burn-rate alert's short window
	// must hold for it to fire.
	MinRequests int
	Line        int
	sli         indicator
}

// ErrorBudget is the allowed share of bad events, e.g. 0.005 for 99.5 %.
// It is computed from the percentage so that 99.5 gives 0.005, not
// 0.0050000000000000044.
func (s SLO) ErrorBudget() float64 { return (100 - s.Objective) / 100 }

// Good describes a good event, e.g. "API requests that are not 5xx".
func (s SLO) Good() string {
	if s.sli.latency {
		return fmt.Sprintf("%s faster than %s %s", s.sli.events, formatNumber(s.Threshold), s.Unit)
	}
	return s.sli.events + " that are not 5xx"
}

// ErrorRatioExpr is the PromQL of the share of bad events over a window,
// per job within its namespace and cluster (the group labels without the
// ones naming one target); nothing when there was no event.
func (s SLO) ErrorRatioExpr(sel selector, window string) string {
	return fmt.Sprintf("(\n  %s\n)\n/\n(%s > 0)", strings.ReplaceAll(s.badRate(sel, window), "\n", "\n  "), s.sli.total(sel, window))
}

// badRate is the per-second rate of bad events over a window.
func (s SLO) badRate(sel selector, window string) string {
	total := s.sli.total(sel, window)
	if s.sli.latency {
		good := fmt.Sprintf(`sum by (%s) (rate(%s_bucket{%s}[%s]))`, sel.byJob(), s.sli.series, sel.with(s.sli.matchers...).with(leMatcher(units[s.Unit].toBase(s.Threshold))), window)
		return total + "\n-\n" + good
	}
	bad := fmt.Sprintf(`sum by (%s) (rate(%s{%s}[%s]))`, sel.byJob(), s.sli.series, sel.with(s.sli.matchers...).with(`code=~"5.."`), window)
	// "or ... * 0": no 5xx series yet is no bad event while there is traffic.
	return fmt.Sprintf("%s\nor\n%s * 0", bad, total)
}

// windowRatioExpr is the error ratio over the budget's window (30d), from
// the recorded 5m rates of bad and all events summed over the window. A
// rate over 30 days of raw counters would read every sample of every
// endpoint, method and code at each evaluation, past Prometheus' sample
// limit on a busy exporter; the recorded rates are two series per SLO. Each
// event is counted in about as many 5m windows as any other, so the sums'
// ratio is the window's share of bad events. The window fills from the day
// the rules are deployed.
func (s SLO) windowRatioExpr() string {
	return fmt.Sprintf("sum_over_time(%[1]s{slo=%[3]q}[%[4]s])\n/\n(sum_over_time(%[2]s{slo=%[3]q}[%[4]s]) > 0)",
		RecordSLOBadEventRate, RecordSLOEventRate, s.Name, s.Window)
}

// leMatcher selects a classic histogram's bucket at a boundary. Prometheus
// 3 stores le="2.0" where the exposition says le="2", older ones "2": both
// are accepted.
func leMatcher(boundary float64) string {
	v := formatNumber(boundary)
	if !strings.Contains(v, ".") {
		return fmt.Sprintf(`le=~"%s|%s\\.0"`, v, v)
	}
	return fmt.Sprintf("le=%q", v)
}

// BurnRateAlert is one of the workbook's alerts, generated for every SLO.
type BurnRateAlert struct {
	Name          string
	Severity      Severity
	RunbookAnchor string
	Summary       string
	// Windows are or-ed: the alert fires when any pair burns too fast.
	Windows []BurnWindow
	Line    int
}

// BurnWindow fires when the error ratio exceeds BurnRate times the error
// budget over both the Long and the Short window.
type BurnWindow struct {
	BurnRate    float64
	Long, Short string
}

// indicator is how an SLI is measured for a plan metric, from series the
// exporter has.
type indicator struct {
	// latency: good events are the histogram's observations under the
	// threshold; otherwise bad events are the counter's 5xx codes.
	latency  bool
	series   string // the counter, or the histogram's name
	matchers []string
	// buckets are the exporter's boundaries of a latency histogram.
	buckets []float64
	events  string // "API requests", in descriptions
}

// totalSeries is the counter of all events.
func (i indicator) totalSeries(sel selector) string {
	name := i.series
	if i.latency {
		name += "_count"
	}
	return name + "{" + sel.with(i.matchers...).String() + "}"
}

func (i indicator) total(sel selector, window string) string {
	return fmt.Sprintf("sum by (%s) (rate(%s[%s]))", sel.byJob(), i.totalSeries(sel), window)
}

var indicators = map[string]indicator{
	"api_error_rate": {series: "resonance_api_requests_total", events: "API requests"},
	"api_response_time": {latency: true, series: "resonance_api_request_duration_seconds",
		buckets: buckets.APIDuration, events: "API requests"},
	"huggingface_latency": {latency: true, series: "resonance_upstream_request_duration_seconds",
		matchers: []string{`upstream="huggingface"`}, buckets: buckets.UpstreamDuration, events: "calls to Hugging Face"},
	"pi_sdk_latency": {latency: true, series: "resonance_upstream_request_duration_seconds",
		matchers: []string{`upstream="pi_sdk"`}, buckets: buckets.UpstreamDuration, events: "Pi SDK calls"},
}

// SLOMetrics lists the plan metrics an SLO may measure.
func SLOMetrics() []string { return slices.Sorted(maps.Keys(indicators)) }

// SLO returns the objective of that name.
func (t *Table) SLO(name string) (SLO, bool) {
	i := slices.IndexFunc(t.SLOs.Objectives, func(s SLO) bool { return s.Name == name })
	if i < 0 {
		return SLO{}, false
	}
	return t.SLOs.Objectives[i], true
}

// SLORunbookURL is where a burn-rate alert's runbook_url points.
func (t *Table) SLORunbookURL(a BurnRateAlert) string {
	return t.SLOs.RunbookBaseURL + "#" + a.RunbookAnchor
}

// sloRuleGroups is the SLO group; none when the table has no objectives.
func (t *Table) sloRuleGroups() []rulefmt.RuleGroup {
	if len(t.SLOs.Objectives) == 0 {
		return nil
	}
	sel := t.selector()
	g := rulefmt.RuleGroup{Name: SLOGroup}
	for _, s := range t.SLOs.Objectives {
		labels := map[string]string{"slo": s.Name}
		g.Rules = append(g.Rules,
			rulefmt.Rule{Record: RecordSLOEventRate, Expr: s.sli.total(sel, "5m"), Labels: labels},
			rulefmt.Rule{Record: RecordSLOBadEventRate, Expr: s.badRate(sel, "5m"), Labels: labels},
		)
		for _, w := range SLORateWindows {
			g.Rules = append(g.Rules, rulefmt.Rule{Record: RecordSLOErrorRatio(w), Expr: s.ErrorRatioExpr(sel, w), Labels: labels})
		}
		if w := s.Window.String(); !slices.Contains(SLORateWindows, w) {
			g.Rules = append(g.Rules, rulefmt.Rule{Record: RecordSLOErrorRatio(w), Expr: s.windowRatioExpr(), Labels: labels})
		}
		g.Rules = append(g.Rules,
			rulefmt.Rule{Record: RecordSLOObjective, Expr: fmt.Sprintf("vector(%s)", formatNumber(s.Objective/100)), Labels: labels},
			rulefmt.Rule{Record: RecordSLOBudgetRemaining, Expr: fmt.Sprintf("1 - %s{slo=%q} / %s", RecordSLOErrorRatio(s.Window.String()), s.Name, formatNumber(s.ErrorBudget())), Labels: labels},
		)
	}
	for _, a := range t.SLOs.Alerts {
		for _, s := range t.SLOs.Objectives {
			g.Rules = append(g.Rules, t.burnRateRule(a, s))
		}
	}
	return []rulefmt.RuleGroup{g}
}

// BurnRateExpr fires for s when any of a's window pairs burns too fast and
// its short window saw at least MinRequests events. The value is the burn
// rate over the long window of the first pair that fires: how many times
// faster than "exactly spent at the end of the window" the budget goes.
func (s SLO) BurnRateExpr(a BurnRateAlert, sel selector) string {
	budget := formatNumber(s.ErrorBudget())
	var pairs []string
	for _, w := range a.Windows {
		rate := formatNumber(w.BurnRate)
		pairs = append(pairs, fmt.Sprintf(`(
    %[1]s{slo=%[2]q} / %[3]s > %[4]s
  and
    %[5]s{slo=%[2]q} / %[3]s > %[4]s
  and on (%[9]s)
    sum by (%[9]s) (increase(%[6]s[%[7]s])) >= %[8]d
)`, RecordSLOErrorRatio(w.Long), s.Name, budget, rate, RecordSLOErrorRatio(w.Short), s.sli.totalSeries(sel), w.Short, s.MinRequests, sel.byJob()))
	}
	return strings.Join(pairs, "\nor\n")
}

func (t *Table) burnRateRule(a BurnRateAlert, s SLO) rulefmt.Rule {
	var conds []string
	lowest := math.Inf(1)
	for _, w := range a.Windows {
		conds = append(conds, fmt.Sprintf("%s× over %s and %s", formatNumber(w.BurnRate), w.Long, w.Short))
		lowest = min(lowest, w.BurnRate)
	}
	// The budget of this alert's job, namespace and cluster: an absent
	// label reads "", which matches the series without it.
	matchers, args := fmt.Sprintf("slo=%q", s.Name), ""
	for _, l := range strings.Split(t.selector().byJob(), ", ") {
		matchers += "," + l + "=%q"
		args += " $labels." + l
	}
	budgetLeft := fmt.Sprintf("{{ with printf `%s{%s}`%s | query }}{{ . | first | value | humanizePercentage }}{{ else }}unknown{{ end }}", RecordSLOBudgetRemaining, matchers, args)
	burn := `{{ printf "%.1f" $value }}`
	return rulefmt.Rule{
		Alert: a.Name,
		Expr:  s.BurnRateExpr(a, t.selector()),
		Labels: map[string]string{
			"severity": string(a.Severity),
			"metric":   s.Metric,
			"slo":      s.Name,
		},
		Annotations: map[string]string{
			AnnotationSummary: fmt.Sprintf("%s: %s on %s", a.Summary, s.Name, t.Service),
			AnnotationDescription: fmt.Sprintf("SLO %s (%s%% of %s over %s): error budget burning at %s× the rate that spends it in %s; %s of it left. Fires at %s.",
				s.Name, formatNumber(s.Objective), s.Good(), s.Window, burn, s.Window, budgetLeft, strings.Join(conds, ", or ")),
			AnnotationRunbookURL: t.SLORunbookURL(a),
			// The lowest burn rate that fires: the value is always above it.
			AnnotationThreshold:            formatNumber(lowest),
			AnnotationCurrentValue:         burn,
			AnnotationErrorBudgetRemaining: budgetLeft,
		},
	}
}

// The slos: section's keys.
var (
	sloSectionKeys = []string{"runbook_base_url", "window", "min_requests", "burn_rate_alerts", "objectives"}
	sloKeys        = []string{"slo", "metric", "objective", "threshold", "unit", "window", "min_requests"}
	burnAlertKeys  = []string{"alert", "severity", "runbook", "summary", "windows"}
	burnWindowKeys = []string{"burn_rate", "long", "short"}
)

// slos reads the slos: section; a table without one has no SLO rules.
func (p *tableParser) slos(n *yaml.Node, t *Table) SLOs {
	if n == nil {
		return SLOs{}
	}
	fields := p.mapping(n, "slos", sloSectionKeys)
	if fields == nil {
		return SLOs{}
	}
	out := SLOs{RunbookBaseURL: p.requiredString(fields, n, "runbook_base_url")}
	window := p.sloDuration(fields, n, "window", "slos", 0)
	minRequests := p.count(fields, n, "min_requests", "slos", 0)

	list := fields["burn_rate_alerts"]
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errorf(orNode(list, n), "slos: burn_rate_alerts: want a list of alerts")
	} else {
		for _, an := range list.Content {
			if a, ok := p.burnRateAlert(an, t); ok {
				if slices.ContainsFunc(out.Alerts, func(b BurnRateAlert) bool { return b.Name == a.Name }) {
					p.errorf(an, "duplicate alert name %q", a.Name)
					continue
				}
				out.Alerts = append(out.Alerts, a)
			}
		}
	}

	list = fields["objectives"]
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errorf(orNode(list, n), "slos: objectives: want a list of objectives")
		return out
	}
	for _, on := range list.Content {
		s, ok := p.slo(on, window, minRequests)
		if !ok {
			continue
		}
		if slices.ContainsFunc(out.Objectives, func(o SLO) bool { return o.Name == s.Name }) {
			p.errorf(on, "duplicate slo %q", s.Name)
			continue
		}
		// A burn rate whose error ratio exceeds 100 % can never fire.
		for _, a := range out.Alerts {
			for _, w := range a.Windows {
				if need := w.BurnRate * s.ErrorBudget(); need > 1 {
					p.errorf(on, "slo %s: %s at %s× over %s needs an error ratio of %s%%, which cannot happen: lower the burn rate or raise the objective",
						s.Name, a.Name, formatNumber(w.BurnRate), w.Long, formatNumber(math.Round(need*1000)/10))
				}
			}
		}
		out.Objectives = append(out.Objectives, s)
	}
	return out
}

func (p *tableParser) slo(n *yaml.Node, window model.Duration, minRequests int) (SLO, bool) {
	fields := p.mapping(n, "slo", sloKeys)
	if fields == nil {
		return SLO{}, false
	}
	before := len(p.errs)
	s := SLO{
		Line:   n.Line,
		Name:   p.requiredString(fields, n, "slo"),
		Metric: p.requiredString(fields, n, "metric"),
	}
	if len(p.errs) > before {
		return SLO{}, false
	}
	if !model.LabelValue(s.Name).IsValid() || strings.ContainsAny(s.Name, " \t\"{}") {
		p.errorf(fields["slo"], "slo %q: want a plain name such as api-availability", s.Name)
	}
	s.Window = p.sloDuration(fields, n, "window", "slo "+s.Name, window)
	s.MinRequests = p.count(fields, n, "min_requests", "slo "+s.Name, minRequests)
	if o, ok := p.number(fields, n, "objective", "slo "+s.Name); ok {
		if o <= 0 || o >= 100 {
			p.errorf(fields["objective"], "slo %s: objective %v%%: want a percentage between 0 and 100, e.g. 99.5", s.Name, o)
		}
		s.Objective = o
	}
	sli, known := indicators[s.Metric]
	if !known {
		p.errorf(fields["metric"], "slo %s: no indicator for metric %q (known: %s)", s.Name, s.Metric, strings.Join(SLOMetrics(), ", "))
		return SLO{}, false
	}
	s.sli = sli
	if !sli.latency {
		for _, k := range []string{"threshold", "unit"} {
			if fields[k] != nil {
				p.errorf(fields[k], "slo %s: %s counts 5xx responses: it has no %s", s.Name, s.Metric, k)
			}
		}
		return s, len(p.errs) == before
	}
	s.Unit = p.requiredString(fields, n, "unit")
	if s.Unit != "" && s.Unit != "ms" && s.Unit != "seconds" {
		p.errorf(fields["unit"], "slo %s: unit %q: write a latency threshold in ms or seconds", s.Name, s.Unit)
		return SLO{}, false
	}
	if thr, ok := p.number(fields, n, "threshold", "slo "+s.Name); ok && s.Unit != "" {
		s.Threshold = thr
		// The SLI counts the requests under the threshold from the
		// histogram bucket at it; between two boundaries there is no such
		// count.
		if base := units[s.Unit].toBase(thr); !slices.Contains(sli.buckets, base) {
			bs := make([]string, len(sli.buckets))
			for i, b := range sli.buckets {
				bs[i] = formatNumber(b)
			}
			p.errorf(fields["threshold"], "slo %s: threshold %s %s is not a bucket boundary of %s (boundaries in seconds: %s); add it to the exporter's buckets in ingest/ or pick one",
				s.Name, formatNumber(thr), s.Unit, sli.series, strings.Join(bs, ", "))
		}
	}
	return s, len(p.errs) == before
}

func (p *tableParser) burnRateAlert(n *yaml.Node, t *Table) (BurnRateAlert, bool) {
	fields := p.mapping(n, "burn-rate alert", burnAlertKeys)
	if fields == nil {
		return BurnRateAlert{}, false
	}
	before := len(p.errs)
	a := BurnRateAlert{
		Line:          n.Line,
		Name:          p.requiredString(fields, n, "alert"),
		Severity:      Severity(p.requiredString(fields, n, "severity")),
		RunbookAnchor: p.requiredString(fields, n, "runbook"),
		Summary:       p.requiredString(fields, n, "summary"),
	}
	if len(p.errs) > before {
		return BurnRateAlert{}, false
	}
	if !model.UTF8Validation.IsValidMetricName(a.Name) || strings.ContainsAny(a.Name, " \t") {
		p.errorf(fields["alert"], "alert name %q is not a valid alert name", a.Name)
	}
	if _, taken := t.Alert(a.Name); taken {
		p.errorf(fields["alert"], "alert %s is already a threshold alert of the table", a.Name)
	}
	if !slices.Contains(severities, a.Severity) {
		p.errorf(fields["severity"], "alert %s: severity %q is not one of critical, warning, info", a.Name, a.Severity)
	}
	if strings.ContainsAny(a.RunbookAnchor, "# \t") {
		p.errorf(fields["runbook"], "alert %s: runbook %q: want the bare anchor of a heading", a.Name, a.RunbookAnchor)
	}
	list := fields["windows"]
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		p.errorf(orNode(list, n), "alert %s: windows: want a list of {burn_rate, long, short}", a.Name)
		return BurnRateAlert{}, false
	}
	for _, wn := range list.Content {
		wf := p.mapping(wn, "alert "+a.Name+" window", burnWindowKeys)
		if wf == nil {
			continue
		}
		var w BurnWindow
		if r, ok := p.number(wf, wn, "burn_rate", "alert "+a.Name); ok {
			if r <= 0 {
				p.errorf(wf["burn_rate"], "alert %s: burn_rate %v: want a positive number", a.Name, r)
			}
			w.BurnRate = r
		}
		w.Long = p.rateWindow(wf, wn, "long", a.Name)
		w.Short = p.rateWindow(wf, wn, "short", a.Name)
		if w.Long != "" && w.Short != "" && windowDuration(w.Short) >= windowDuration(w.Long) {
			p.errorf(wn, "alert %s: short window %s is not shorter than long window %s", a.Name, w.Short, w.Long)
		}
		a.Windows = append(a.Windows, w)
	}
	return a, len(p.errs) == before
}

// rateWindow reads a window that must be one of SLORateWindows, written as
// Prometheus writes it back (1d, not 24h), since it names a recording rule.
func (p *tableParser) rateWindow(fields map[string]*yaml.Node, n *yaml.Node, key, alert string) string {
	v := fields[key]
	if v == nil {
		p.errorf(n, "alert %s: %s window is missing", alert, key)
		return ""
	}
	d, err := model.ParseDuration(v.Value)
	if err != nil || !slices.Contains(SLORateWindows, d.String()) {
		p.errorf(v, "alert %s: %s window %q: want one of the recorded windows %s", alert, key, v.Value, strings.Join(SLORateWindows, ", "))
		return ""
	}
	return d.String()
}

func windowDuration(w string) time.Duration {
	d, _ := model.ParseDuration(w)
	return time.Duration(d)
}

// sloDuration reads an optional duration, def when absent; without a
// default the key is required.
func (p *tableParser) sloDuration(fields map[string]*yaml.Node, n *yaml.Node, key, what string, def model.Duration) model.Duration {
	v := fields[key]
	if v == nil {
		if def == 0 {
			p.errorf(n, "%s: %s is missing", what, key)
		}
		return def
	}
	d, err := model.ParseDuration(v.Value)
	if err != nil || d <= 0 {
		p.errorf(v, "%s: %s %q: want a duration such as 30d", what, key, v.Value)
		return def
	}
	return d
}

// count reads an optional positive integer, def when absent; without a
// default the key is required.
func (p *tableParser) count(fields map[string]*yaml.Node, n *yaml.Node, key, what string, def int) int {
	v := fields[key]
	if v == nil {
		if def == 0 {
			p.errorf(n, "%s: %s is missing", what, key)
		}
		return def
	}
	i, err := strconv.Atoi(v.Value)
	if err != nil || i < 1 {
		p.errorf(v, "%s: %s %q: want a positive whole number", what, key, v.Value)
		return def
	}
	return i
}

func (p *tableParser) number(fields map[string]*yaml.Node, n *yaml.Node, key, what string) (float64, bool) {
	v := fields[key]
	if v == nil {
		p.errorf(n, "%s: %s is missing", what, key)
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if v.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.errorf(v, "%s: %s %q: want a plain number", what, key, v.Value)
		return 0, false
	}
	return f, true
}
