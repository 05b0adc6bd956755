// Package query reads the rituals' history from Prometheus through its HTTP
// API: alert episodes from the ALERTS series, the value of each table alert's
// metric, and the plan's figures over a window. Every PromQL expression the
// rituals run is built here, from the thresholds table the rule pack is
// generated from.
package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/rules"
)

// Source runs the rituals' queries against one Prometheus.
type Source struct {
	API promv1.API
	// Selector is the scrape job's label matchers without braces, as in
	// the thresholds table (`job="resonance"`).
	Selector string
	// records maps a recording rule's name to its expression, so a query
	// can be evaluated over history recorded before the rule pack was
	// loaded (or backfilled without it).
	records map[string]string
}

// New returns a source for the table's scrape job.
func New(api promv1.API, t *rules.Table) *Source {
	s := &Source{API: api, Selector: t.Selector, records: map[string]string{}}
	for _, r := range t.RecordingRules {
		s.records[r.Name] = r.Expr
	}
	return s
}

// ErrNoData says a query returned nothing: the metric had no samples.
var ErrNoData = errors.New("no data")

// Scalar evaluates expr at t and returns its single value; with several
// series, the largest. ErrNoData when the result is empty or NaN.
func (s *Source) Scalar(ctx context.Context, expr string, t time.Time) (float64, error) {
	v, _, _, err := s.API.Query(ctx, expr, t)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", expr, err)
	}
	best, found := math.Inf(-1), false
	switch r := v.(type) {
	case model.Vector:
		for _, smp := range r {
			if f := float64(smp.Value); !math.IsNaN(f) {
				best, found = max(best, f), true
			}
		}
	case *model.Scalar:
		if f := float64(r.Value); !math.IsNaN(f) {
			best, found = f, true
		}
	}
	if !found {
		return 0, ErrNoData
	}
	return best, nil
}

// Vector evaluates expr at t.
func (s *Source) Vector(ctx context.Context, expr string, t time.Time) (model.Vector, error) {
	v, _, _, err := s.API.Query(ctx, expr, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("%s: want an instant vector, got %s", expr, v.Type())
	}
	return vec, nil
}

// Range evaluates expr over [start, end] at step.
func (s *Source) Range(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Matrix, error) {
	v, _, _, err := s.API.QueryRange(ctx, expr, promv1.Range{Start: start, End: end, Step: step})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: want a range vector, got %s", expr, v.Type())
	}
	return m, nil
}

// AlertValue is the PromQL of the value an alert compares with its
// threshold, in the series' base unit, its recording rules written out so
// that it also answers for history before the rules were recorded. Several
// instances fold into the one that is worst for the alert.
func (s *Source) AlertValue(a rules.Alert) string {
	text := a.ValueExpr
	// The table's alerts read a recording rule as their whole value
	// expression (or raw series), so the rule's expression replaces it.
	if def, ok := s.records[a.ValueExpr]; ok {
		text = def
	}
	agg := "max"
	if a.Op == "<" {
		agg = "min"
	}
	return fmt.Sprintf("%s(\n%s\n)", agg, text)
}

// FromBase converts a value of the alert's series (ratio, bytes, seconds)
// into the unit the table writes its threshold in (%, MB, ms).
func FromBase(a rules.Alert, v float64) float64 {
	if a.BaseThreshold == 0 || a.Threshold == 0 {
		// Count, boolean and score thresholds of 0 are their own base.
		return v
	}
	return v * a.Threshold / a.BaseThreshold
}

// Distribution is how an alert's metric was spread over a window, in the
// table's unit.
type Distribution struct {
	Min float64 `json:"min"`
	P1  float64 `json:"p1"`
	P10 float64 `json:"p10"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Distribution samples the alert's value every step over [end-window, end]
// and returns its quantiles. ErrNoData when the metric had no samples.
// The samples are on Prometheus's grid of step (whole minutes), as a
// subquery [window:step] at end samples, so that the reports' figures
// read the same points.
func (s *Source) Distribution(ctx context.Context, a rules.Alert, window, step time.Duration, end time.Time) (Distribution, error) {
	first := end.Add(-window).Truncate(step).Add(step)
	m, err := s.Range(ctx, s.AlertValue(a), first, end.Truncate(step), step)
	if err != nil {
		return Distribution{}, err
	}
	var values []float64
	for _, ss := range m {
		for _, p := range ss.Values {
			if f := float64(p.Value); !math.IsNaN(f) && !math.IsInf(f, 0) {
				values = append(values, FromBase(a, f))
			}
		}
	}
	if len(values) == 0 {
		return Distribution{}, ErrNoData
	}
	slices.Sort(values)
	return Distribution{
		Min: values[0],
		P1:  Quantile(values, 0.01),
		P10: Quantile(values, 0.10),
		P50: Quantile(values, 0.50),
		P90: Quantile(values, 0.90),
		P99: Quantile(values, 0.99),
		Max: values[len(values)-1],
	}, nil
}

// Quantile of sorted values, interpolated between the closest ranks as
// PromQL's quantile_over_time does.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := q * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := min(lo+1, len(sorted)-1)
	w := rank - float64(lo)
	return sorted[lo]*(1-w) + sorted[hi]*w
}

// sortSeries orders series by their labels, so reports do not depend on the
// order Prometheus answers in.
func sortSeries(m model.Matrix) {
	sort.Slice(m, func(i, j int) bool { return m[i].Metric.Before(m[j].Metric) })
}
