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

var pipelineKeys = []string{"alert", "severity", "check", "metric", "threshold", "unit", "for", "keep_firing_for", "enabled", "runbook", "summary"}

// pipelineCheck is one check of the pipeline: a condition on the exporter,
// the relay, Alertmanager or Prometheus that no threshold of the plan covers.
type pipelineCheck struct {
	// unit is the unit of the table's threshold ("" when the check has
	// none, e.g. the always-firing Watchdog).
	unit string
	// cond is the alert's expression: sc holds the selectors of the
	// exporter, Prometheus and Alertmanager jobs, thr the threshold in the
	// base unit and scale turns a base value back into the table's unit
	// (see unit.fromBase).
	cond func(sc scopes, thr, scale string) string
	// description of one firing alert; {value} is the value, {threshold}
	// the threshold as the table writes it.
	description string
}

// exporterDown is a failing scrape of an exporter target (up 0), or the
// exporter job gone from service discovery: scraped within the hour, no
// target at all now (value 1; a target that fails is the up 0 above). A target replaced by another (a Kubernetes pod
// rolled by a deploy) is not gone: the job still has one up.
func exporterDown(sc scopes, _, _ string) string {
	e := sc.exporter
	return fmt.Sprintf(`up{%[1]s} == 0
or
(
    group by (%[2]s) (max_over_time(up{%[1]s}[1h]))
  unless on (%[2]s)
    up{%[1]s}
)`, e, e.byJob())
}

// pushesStopped is the time since the app's last push, where it is above
// thr seconds: the newest push of the last day, so an exporter restart
// (which forgets the last push) does not silence it.
func pushesStopped(sc scopes, thr, scale string) string {
	return fmt.Sprintf(`(
  time() - max by (%[3]s) (max_over_time(resonance_business_last_update_timestamp_seconds{%[1]s}[1d]))
  > %[2]s
)%[4]s`, sc.exporter, thr, sc.exporter.by(), scale)
}

// pipelineChecks are the checks the table's pipeline: section may use.
// Checks on the relay select by metric name only: those names are the
// relay's alone, whatever its job is called. Checks on Prometheus and
// Alertmanager read their jobs' selectors from the table.
var pipelineChecks = map[string]pipelineCheck{
	"watchdog": {
		cond:        func(scopes, string, string) string { return "vector(1)" },
		description: "Always firing while Prometheus, Alertmanager and the relay work: the heartbeat service raises the alarm when it stops arriving.",
	},
	"exporter_down": {
		cond:        exporterDown,
		description: `{{ if eq $value 0.0 }}Prometheus cannot scrape the exporter {{ $labels.instance }}: the scrape fails{{ else }}No target of the exporter job {{ $labels.job }} is left in service discovery: it was scraped within the hour{{ end }}`,
	},
	"exporter_absent": {
		// The job never discovered (or gone for more than the hour
		// exporter_down looks back): only the Watchdog would fire.
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`absent(up{%s})`, sc.exporter)
		},
		description: "Prometheus has no scrape target for the exporter ({{ $labels.job }}): nothing of the service is watched. Check the scrape config or the ServiceMonitor's selector.",
	},
	"app_not_reporting": {
		unit:        "minutes",
		cond:        pushesStopped,
		description: "The app has pushed no business figures for {value} min (threshold: {threshold} min): its business alerts cannot fire",
	},
	"app_down": {
		unit: "minutes",
		// The app on a machine the exporter does not watch: it stopped
		// pushing, and no API request was counted over the same time. A
		// quiet night (a request every two minutes) still counts requests.
		cond: func(sc scopes, thr, scale string) string {
			return fmt.Sprintf("%s\nunless on (%[2]s)\nsum by (%[2]s) (increase(resonance_api_requests_total{%[3]s}[%[4]ss])) > 0",
				pushesStopped(sc, thr, scale), sc.exporter.by(), sc.exporter, thr)
		},
		description: "The app has pushed nothing for {value} min and served no API request (threshold: {threshold} min): it is down, or cut off from the exporter",
	},
	"api_down": {
		// The exporter's probe of the service's own health URL (the probe
		// named api): every probe of the last minute failed.
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_probe_success{%s}[1m]) == 0`, sc.exporter.with(`probe="api"`))
		},
		description: "The service's health URL has failed every probe of the exporter {{ $labels.instance }} for 2 minutes",
	},
	"relay_delivery_failing": {
		// Failures with no delivery at all, per target across the relay's
		// replicas: a notification one replica failed and Alertmanager's
		// retry delivered through another is delivered, and one retried
		// hiccup next to deliveries is not a dead channel. Counts the
		// retryable failed and the permanent rejected outcome.
		cond: func(sc scopes, _, _ string) string {
			by := sc.exporter.byJob("target")
			return fmt.Sprintf(`sum by (%[1]s) (increase(resonance_relay_notifications_total{outcome=~"failed|rejected|format_error"}[15m])) > 0
unless on (%[1]s)
sum by (%[1]s) (increase(resonance_relay_notifications_total{outcome="delivered"}[15m])) > 0`, by)
		},
		description: "The relay delivered nothing to {{ $labels.target }} in 15 minutes; {value} notifications failed",
	},
	"alertmanager_notifications_failing": {
		unit: "%",
		cond: func(sc scopes, thr, scale string) string {
			am := sc.alertmanager
			return fmt.Sprintf(`(
    sum by (%[2]s) (rate(alertmanager_notifications_failed_total{%[1]s}[15m]))
  /
    (sum by (%[2]s) (rate(alertmanager_notifications_total{%[1]s}[15m])) > 0)
  > %[3]s
)%[4]s`, am, am.by("integration"), thr, scale)
		},
		description: "Alertmanager {{ $labels.instance }}: {value}% of {{ $labels.integration }} notifications failed in 15 minutes (threshold: {threshold}%)",
	},
	"prometheus_alertmanager_unreachable": {
		unit: "%",
		// Per Alertmanager: with an HA pair, the alert about one goes out
		// through the other. No Alertmanager discovered at all reads 0.
		cond: func(sc scopes, thr, scale string) string {
			pr := sc.prometheus
			return fmt.Sprintf(`(
    sum by (%[2]s) (rate(prometheus_notifications_errors_total{%[1]s}[5m]))
  /
    (sum by (%[2]s) (rate(prometheus_notifications_sent_total{%[1]s}[5m])) > 0)
  > %[3]s
)%[4]s
or
max by (%[5]s) (max_over_time(prometheus_notifications_alertmanagers_discovered{%[1]s}[5m])) < 1`, pr, pr.by("alertmanager"), thr, scale, pr.by())
		},
		description: "{{ if eq $value 0.0 }}Prometheus {{ $labels.instance }} has discovered no Alertmanager{{ else }}Prometheus {{ $labels.instance }} failed to send {value}% of alerts to {{ $labels.alertmanager }} (threshold: {threshold}%){{ end }}",
	},
	"prometheus_notifications_dropped": {
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`sum by (%s) (increase(prometheus_notifications_dropped_total{%s}[5m])) > 0`, sc.prometheus.by(), sc.prometheus)
		},
		description: "Prometheus {{ $labels.instance }} dropped {value} alerts in 5 minutes: they reached no Alertmanager",
	},
	"probe_failing": {
		// No success at all in the window: one failed probe among
		// successes is not an outage. The service's own health probe (api)
		// has its critical alert, api_down.
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_probe_success{%s}[10m]) == 0`, sc.exporter.with(`probe!="api"`))
		},
		description: "Probe {{ $labels.probe }} has not succeeded for 10 minutes",
	},
	"wallet_collector_blind": {
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_wallet_up{%s}[10m]) == 0`, sc.exporter)
		},
		description: "The wallet collector has not read Horizon for 10 minutes: no balance, no payments, unauthorized transactions unseen",
	},
	"wallet_balance_stale": {
		unit: "minutes",
		cond: func(sc scopes, thr, scale string) string {
			return fmt.Sprintf(`(time() - resonance_wallet_balance_timestamp_seconds{%s} > %s)%s`, sc.exporter, thr, scale)
		},
		description: "The wallet balance was last read {value} min ago (threshold: {threshold} min)",
	},
	"loki_forwarding_dropping": {
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`sum by (%s) (increase(resonance_ingest_loki_dropped_entries_total{%s}[15m])) > 0`, sc.exporter.by(), sc.exporter)
		},
		description: "{value} log entries were dropped instead of forwarded to Loki in 15 minutes",
	},
	"collector_failing": {
		cond: func(sc scopes, _, _ string) string {
			return fmt.Sprintf(`max_over_time(resonance_scrape_collector_success{%s}[10m]) == 0`, sc.exporter)
		},
		description: "Collector {{ $labels.collector }} has failed every scrape for 10 minutes",
	},
	"ritual_missed": {
		unit: "minutes",
		// A ritual is late once its period plus the threshold has passed
		// since its last success. The relay exports every scheduled
		// ritual's last success from its start (restored from its state, or
		// its start time), so a ritual failing since a restart is late too.
		cond: func(_ scopes, thr, scale string) string {
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
	if v := fields["metric"]; v != nil {
		// Another check's metric label: a critical alert that mutes the
		// warning on the same signal (Alertmanager's inhibitions match on
		// metric).
		a.Metric = v.Value
	}
	if v := fields["enabled"]; v != nil {
		switch v.Value {
		case "true":
		case "false":
			a.Disabled = true
		default:
			p.errorf(v, "alert %s: enabled %q: want true or false", a.Name, v.Value)
		}
	}
	p.checkNames(fields, a)
	p.checkSeverity(fields["severity"], a, pipelineSeverities)
	a.For = p.duration(fields, n, a.Name)
	a.KeepFiringFor = p.keepFiringFor(fields, a.Name)
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
