package rules

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// None is the severity of the Watchdog: it is not for people, Alertmanager
// routes it to the heartbeat before any severity route.
const None Severity = "none"

var pipelineSeverities = []Severity{Critical, Warning, Info, None}

var pipelineKeys = []string{"alert", "severity", "check", "threshold", "unit", "for", "runbook", "summary"}

// pipelineCheck is one check of the pipeline: a condition on the exporter,
// the relay, Alertmanager or Prometheus that no seed threshold covers.
type pipelineCheck struct {
	// unit is the unit of the table's threshold ("" when the check has
	// none, e.g. the always-firing Watchdog).
	unit string
	// cond is the alert's expression: s is the exporter's selector, thr
	// the threshold in the base unit and scale turns a base value back into
	// the table's unit (see unit.fromBase).
	cond func(s selector, thr, scale string) string
	// description of one firing alert; {value} is the value, {threshold}
	// the threshold as the table writes it.
	description string
}

// pipelineChecks are the checks the table's pipeline: section may use.
// Checks on the relay, Alertmanager and Prometheus select by metric name
// only: those names are theirs alone, whatever the job is called.
var pipelineChecks = map[string]pipelineCheck{
	"watchdog": {
		cond:        func(selector, string, string) string { return "vector(1)" },
		description: "Always firing while Prometheus, Alertmanager and the relay work: the heartbeat service raises the alarm when it stops arriving.",
	},
	"exporter_down": {
		// A failing scrape reports up 0; a target that left service
		// discovery has no up at all, so it is found by its up series of
		// the last hour (value 1 here).
		cond: func(s selector, _, _ string) string {
			return fmt.Sprintf(`up{%[1]s} == 0
or
(
    group by (job, instance) (max_over_time(up{%[1]s}[1h]))
  unless on (job, instance)
    up{%[1]s}
)`, s)
		},
		description: `{{ if eq $value 0.0 }}Prometheus cannot scrape the exporter {{ $labels.instance }}: the scrape fails{{ else }}The exporter {{ $labels.instance }} was scraped within the hour and is gone from service discovery{{ end }}`,
	},
	"app_not_reporting": {
		unit: "minutes",
		// The newest push of the last day, so an exporter restart (which
		// forgets the last push) does not silence the alert.
		cond: func(s selector, thr, scale string) string {
			return fmt.Sprintf(`(
  time() - max by (job, instance) (max_over_time(resonance_business_last_update_timestamp_seconds{%s}[1d]))
  > %s
)%s`, s, thr, scale)
		},
		description: "The app has pushed no business figures for {value} min (threshold: {threshold} min): its business alerts cannot fire",
	},
	"relay_delivery_failing": {
		// Failures with no delivery at all: one retried hiccup next to
		// deliveries is not a dead channel. Counts both the relay's
		// retryable failed and its permanent rejected outcome.
		cond: func(selector, string, string) string {
			return `sum by (job, instance, target) (increase(resonance_relay_notifications_total{outcome=~"failed|rejected|format_error"}[15m])) > 0
unless on (job, instance, target)
sum by (job, instance, target) (increase(resonance_relay_notifications_total{outcome="delivered"}[15m])) > 0`
		},
		description: "The relay delivered nothing to {{ $labels.target }} in 15 minutes; {value} notifications failed",
	},
	"alertmanager_notifications_failing": {
		unit: "%",
		cond: func(_ selector, thr, scale string) string {
			return fmt.Sprintf(`(
    sum by (job, instance, integration) (rate(alertmanager_notifications_failed_total[15m]))
  /
    (sum by (job, instance, integration) (rate(alertmanager_notifications_total[15m])) > 0)
  > %s
)%s`, thr, scale)
		},
		description: "Alertmanager {{ $labels.instance }}: {value}% of {{ $labels.integration }} notifications failed in 15 minutes (threshold: {threshold}%)",
	},
	"prometheus_alertmanager_unreachable": {
		unit: "%",
		// Per Alertmanager: with an HA pair, the alert about one goes out
		// through the other. No Alertmanager discovered at all reads 0.
		cond: func(_ selector, thr, scale string) string {
			return fmt.Sprintf(`(
    sum by (job, instance, alertmanager) (rate(prometheus_notifications_errors_total[5m]))
  /
    (sum by (job, instance, alertmanager) (rate(prometheus_notifications_sent_total[5m])) > 0)
  > %s
)%s
or
max by (job, instance) (max_over_time(prometheus_notifications_alertmanagers_discovered[5m])) < 1`, thr, scale)
		},
		description: "{{ if eq $value 0.0 }}Prometheus {{ $labels.instance }} has discovered no Alertmanager{{ else }}Prometheus {{ $labels.instance }} failed to send {value}% of alerts to {{ $labels.alertmanager }} (threshold: {threshold}%){{ end }}",
	},
	"prometheus_notifications_dropped": {
		cond: func(selector, string, string) string {
			return `sum by (job, instance) (increase(prometheus_notifications_dropped_total[5m])) > 0`
		},
		description: "Prometheus {{ $labels.instance }} dropped {value} alerts in 5 minutes: they reached no Alertmanager",
	},
	"probe_failing": {
		// No success at all in the window: one failed probe among
		// successes is not an outage.
		cond: func(s selector, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_probe_success{%s}[10m]) == 0`, s)
		},
		description: "Probe {{ $labels.probe }} has not succeeded for 10 minutes",
	},
	"wallet_collector_blind": {
		cond: func(s selector, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_wallet_up{%s}[10m]) == 0`, s)
		},
		description: "The wallet collector has not read Horizon for 10 minutes: no balance, no payments, unauthorized transactions unseen",
	},
	"wallet_balance_stale": {
		unit: "minutes",
		cond: func(s selector, thr, scale string) string {
			return fmt.Sprintf(`(time() - resonance_wallet_balance_timestamp_seconds{%s} > %s)%s`, s, thr, scale)
		},
		description: "The wallet balance was last read {value} min ago (threshold: {threshold} min)",
	},
	"loki_forwarding_dropping": {
		cond: func(s selector, _, _ string) string {
			return fmt.Sprintf(`sum by (job, instance) (increase(resonance_ingest_loki_dropped_entries_total{%s}[15m])) > 0`, s)
		},
		description: "{value} log entries were dropped instead of forwarded to Loki in 15 minutes",
	},
	"collector_failing": {
		cond: func(s selector, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_scrape_collector_success{%s}[10m]) == 0`, s)
		},
		description: "Collector {{ $labels.collector }} has failed every scrape for 10 minutes",
	},
	"ritual_missed": {
		unit: "minutes",
		// A ritual is late once its period plus the threshold has passed
		// since its last success. The relay exposes it from its start: the
		// success recorded in its state file, else the time it began
		// scheduling the ritual.
		cond: func(_ selector, thr, scale string) string {
			var branches []string
			for _, r := range rituals {
				branches = append(branches, fmt.Sprintf(`time() - (resonance_relay_ritual_last_success_timestamp_seconds{ritual=%q} > 0) > %d + %s`, r.name, r.period, thr))
			}
			return "(\n    " + strings.Join(branches, "\n  or\n    ") + "\n)" + scale
		},
		description: "Ritual {{ $labels.ritual }} last succeeded {value} min ago: more than its period plus {threshold} min",
	},
}

// rituals are the relay's scheduled rituals and their periods in seconds.
var rituals = []struct {
	name   string
	period int
}{
	{"morning", 86400},
	{"evening", 86400},
	{"weekly", 7 * 86400},
	{"monthly", 31 * 86400},
}

// PipelineChecks lists the check names the table's pipeline: section may use.
func PipelineChecks() []string {
	names := make([]string, 0, len(pipelineChecks))
	for n := range pipelineChecks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (p *tableParser) pipelineAlert(n *yaml.Node) (Alert, bool) {
	fields := p.mapping(n, "pipeline alert", pipelineKeys)
	if fields == nil {
		return Alert{}, false
	}
	before := len(p.errs)
	a := Alert{
		Line:          n.Line,
		Name:          p.requiredString(fields, n, "alert"),
		Severity:      Severity(p.requiredString(fields, n, "severity")),
		Check:         p.requiredString(fields, n, "check"),
		RunbookAnchor: p.requiredString(fields, n, "runbook"),
		Summary:       p.requiredString(fields, n, "summary"),
	}
	if len(p.errs) > before {
		return Alert{}, false
	}
	a.Metric = a.Check
	p.checkNames(fields, a)
	p.checkSeverity(fields["severity"], a, pipelineSeverities)
	a.For = p.duration(fields, n, a.Name)
	c, known := pipelineChecks[a.Check]
	if !known {
		p.errorf(fields["check"], "alert %s: unknown check %q (known: %s)", a.Name, a.Check, strings.Join(PipelineChecks(), ", "))
		return Alert{}, false
	}
	if c.unit == "" {
		for _, k := range []string{"threshold", "unit"} {
			if v := fields[k]; v != nil {
				p.errorf(v, "alert %s: check %s has no threshold: drop %s", a.Name, a.Check, k)
			}
		}
	} else {
		a.Unit = c.unit
		if v := fields["unit"]; v == nil || v.Value != c.unit {
			p.errorf(orNode(v, n), "alert %s: check %s: want unit: %q", a.Name, a.Check, c.unit)
		}
		if thr, ok := p.threshold(fields, n, a); ok {
			a.Threshold = thr
			a.BaseThreshold = units[a.Unit].toBase(thr)
		}
	}
	if len(p.errs) > before {
		return Alert{}, false
	}
	return a, true
}
