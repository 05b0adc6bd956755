package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/rules"
)

// PlanSeries are the exporter's series behind the plan's metrics. A series
// with no sample in a month points at a disabled collector or an app that
// never pushes that figure.
var PlanSeries = []string{
	"resonance_cpu_usage_ratio",
	"resonance_memory_usage_ratio",
	"resonance_memory_used_bytes",
	"resonance_disk_usage_ratio",
	"resonance_disk_used_bytes",
	"resonance_uptime_seconds",
	"resonance_errors_total",
	"resonance_api_requests_total",
	"resonance_api_request_duration_seconds_count",
	"resonance_upstream_request_duration_seconds_count",
	"resonance_probe_duration_seconds",
	"resonance_active_users",
	"resonance_transactions_total",
	"resonance_mining_boost_active",
	"resonance_wallet_balance_pi",
	"resonance_community_resonance_score",
	"resonance_log_entries_total",
}

// Silent returns the names that had no sample at all within the window.
func (s *Source) Silent(ctx context.Context, names []string, window time.Duration, end time.Time) ([]string, error) {
	var silent []string
	for _, n := range names {
		expr := fmt.Sprintf("count(count_over_time(%s{%s}[%s]))", n, s.Selector, model.Duration(window))
		_, err := s.Scalar(ctx, expr, end)
		switch {
		case errors.Is(err, ErrNoData):
			silent = append(silent, n)
		case err != nil:
			return nil, err
		}
	}
	return silent, nil
}

// Count is a number per metric (and label).
type Count struct {
	Metric, Label string
	Count         int
}

// SeriesPerMetric counts the job's series of each resonance_ metric at end.
func (s *Source) SeriesPerMetric(ctx context.Context, end time.Time) ([]Count, error) {
	vec, err := s.Vector(ctx, fmt.Sprintf(`count by (__name__) ({__name__=~"resonance_.+",%s})`, s.Selector), end)
	if err != nil {
		return nil, err
	}
	var out []Count
	for _, smp := range vec {
		out = append(out, Count{Metric: string(smp.Metric[model.MetricNameLabel]), Count: int(smp.Value)})
	}
	slices.SortFunc(out, func(a, b Count) int { return b.Count - a.Count })
	return out, nil
}

// Overflow counts the pushed values the exporter folded into "other" within
// the window, by metric and label.
func (s *Source) Overflow(ctx context.Context, window time.Duration, end time.Time) ([]Count, error) {
	vec, err := s.Vector(ctx, fmt.Sprintf(`sum by (metric, label) (increase(resonance_ingest_label_values_overflow_total{%s}[%s])) > 0`,
		s.Selector, model.Duration(window)), end)
	if err != nil {
		return nil, err
	}
	var out []Count
	for _, smp := range vec {
		out = append(out, Count{Metric: string(smp.Metric["metric"]), Label: string(smp.Metric["label"]), Count: int(smp.Value + 0.5)})
	}
	slices.SortFunc(out, func(a, b Count) int { return b.Count - a.Count })
	return out, nil
}

// EmptyPanels runs each dashboard query over the window, with Grafana's
// variables set as for a month-long range, and names the panels that
// returned nothing: "Dashboard / Panel".
func (s *Source) EmptyPanels(ctx context.Context, panels []dashboards.PanelQuery, window time.Duration, end time.Time) ([]string, error) {
	vars := dashboards.Variables{RateInterval: 5 * time.Minute, Interval: time.Hour, Range: window, Instance: ".*"}
	seen := map[string]bool{}
	empty := map[string]bool{}
	var order []string
	for _, p := range panels {
		name := p.Dashboard + " / " + p.Panel
		if !seen[name] {
			seen[name] = true
			empty[name] = true
			order = append(order, name)
		}
		expr := p.Expand(vars)
		var (
			v   model.Value
			err error
		)
		if p.Instant {
			v, _, _, err = s.API.Query(ctx, expr, end)
		} else {
			v, _, _, err = s.API.QueryRange(ctx, expr, promv1.Range{Start: end.Add(-window), End: end, Step: time.Hour})
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if hasData(v) {
			empty[name] = false
		}
	}
	var out []string
	for _, n := range order {
		if empty[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

func hasData(v model.Value) bool {
	switch r := v.(type) {
	case model.Vector:
		return len(r) > 0
	case model.Matrix:
		return len(r) > 0
	case *model.Scalar:
		return true
	}
	return false
}

// RuleDrift compares the rule pack the table generates with the rules
// Prometheus has loaded, group by group, and describes each difference. Groups
// the pack does not hold are not compared.
func (s *Source) RuleDrift(ctx context.Context, t *rules.Table) ([]string, error) {
	loaded, err := s.API.Rules(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("rules API: %w", err)
	}
	type rule struct{ expr string }
	live := map[string]map[string]rule{}
	for _, g := range loaded.Groups {
		rs := map[string]rule{}
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.AlertingRule:
				rs["alert "+r.Name+labelsKey(r.Labels)] = rule{expr: r.Query}
			case promv1.RecordingRule:
				rs["record "+r.Name+labelsKey(r.Labels)] = rule{expr: r.Query}
			}
		}
		live[g.Name] = rs
	}
	var drift []string
	for _, g := range t.RuleGroups().Groups {
		rs, ok := live[g.Name]
		if !ok {
			drift = append(drift, fmt.Sprintf("group %s is not loaded", g.Name))
			continue
		}
		want := map[string]bool{}
		for _, r := range g.Rules {
			ls := model.LabelSet{}
			for k, v := range r.Labels {
				ls[model.LabelName(k)] = model.LabelValue(v)
			}
			key := "record " + r.Record + labelsKey(ls)
			if r.Alert != "" {
				key = "alert " + r.Alert + labelsKey(ls)
			}
			want[key] = true
			got, ok := rs[key]
			switch {
			case !ok:
				drift = append(drift, fmt.Sprintf("%s: %s is not loaded", g.Name, key))
			case !sameExpr(got.expr, r.Expr):
				drift = append(drift, fmt.Sprintf("%s: %s: loaded expression differs from the committed pack", g.Name, key))
			}
		}
		var extra []string
		for key := range rs {
			if !want[key] {
				extra = append(extra, fmt.Sprintf("%s: %s is loaded but not in the committed pack", g.Name, key))
			}
		}
		slices.Sort(extra)
		drift = append(drift, extra...)
	}
	return drift, nil
}

// sameExpr compares two PromQL expressions as Prometheus prints them, so
// that formatting alone is no drift.
func sameExpr(a, b string) bool {
	p := parser.NewParser(parser.Options{})
	pa, errA := p.ParseExpr(a)
	pb, errB := p.ParseExpr(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return pa.String() == pb.String()
}

// labelsKey tells apart rules of one name that differ by their labels, such
// as the SLO rules, one per slo label; empty for a rule without labels.
func labelsKey(ls model.LabelSet) string {
	if len(ls) == 0 {
		return ""
	}
	return " " + ls.String()
}
