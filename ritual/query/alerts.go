package query

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
)

// Episode is one stretch during which an alert fired for one label set, as
// the ALERTS series records it: one sample per rule evaluation while firing,
// none once resolved.
type Episode struct {
	Alertname string
	Severity  string
	Instance  string
	Labels    model.LabelSet
	Start     time.Time // first firing evaluation seen in the window
	End       time.Time // last firing evaluation plus one interval
	// Ongoing is true when the alert was still firing at the window's end.
	Ongoing bool
	// StartedBefore is true when the alert already fired at the window's
	// start: Start is the window's start, not the alert's.
	StartedBefore bool
}

// Duration is how long the episode fired within the window.
func (e Episode) Duration() time.Duration { return e.End.Sub(e.Start) }

// alertsFiring selects the firing samples of every alert; pending ones are
// not alerts anybody was told about.
const alertsFiring = `ALERTS{alertstate="firing"}`

// Episodes reads the firing episodes of every alert within [start, end) from
// the raw ALERTS samples. Two samples further apart than twice the
// evaluation interval (the median gap between samples) belong to two
// episodes: the alert resolved between them.
func (s *Source) Episodes(ctx context.Context, start, end time.Time) ([]Episode, error) {
	window := end.Sub(start)
	if window <= 0 {
		return nil, fmt.Errorf("empty window %s – %s", start, end)
	}
	expr := fmt.Sprintf("%s[%s]", alertsFiring, model.Duration(window))
	v, _, _, err := s.API.Query(ctx, expr, end)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("%s: want a range vector, got %s", expr, v.Type())
	}
	sortSeries(m)
	interval := evaluationInterval(m)
	var out []Episode
	for _, ss := range m {
		labels := model.LabelSet(ss.Metric).Clone()
		delete(labels, model.MetricNameLabel)
		delete(labels, "alertstate")
		var cur *Episode
		for i, p := range ss.Values {
			t := p.Timestamp.Time()
			if cur != nil && t.Sub(cur.End) > interval {
				out = append(out, *cur)
				cur = nil
			}
			if cur == nil {
				cur = &Episode{
					Alertname: string(ss.Metric[model.AlertNameLabel]),
					Severity:  string(ss.Metric["severity"]),
					Instance:  string(ss.Metric[model.InstanceLabel]),
					Labels:    labels,
					Start:     t,
					// The window's first evaluation may continue a fire
					// that began before it.
					StartedBefore: i == 0 && t.Sub(start) <= interval,
				}
			}
			cur.End = t.Add(interval)
		}
		if cur != nil {
			cur.Ongoing = end.Sub(cur.End) < interval
			if cur.End.After(end) {
				cur.End = end
			}
			out = append(out, *cur)
		}
	}
	slices.SortStableFunc(out, func(a, b Episode) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// evaluationInterval is the median gap between consecutive ALERTS samples:
// the rule evaluation interval. One minute when no series has two samples.
func evaluationInterval(m model.Matrix) time.Duration {
	var gaps []time.Duration
	for _, ss := range m {
		for i := 1; i < len(ss.Values); i++ {
			gaps = append(gaps, ss.Values[i].Timestamp.Sub(ss.Values[i-1].Timestamp))
		}
	}
	if len(gaps) == 0 {
		return time.Minute
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// Firing lists the alerts firing at t, one sample per label set.
func (s *Source) Firing(ctx context.Context, t time.Time) (model.Vector, error) {
	vec, err := s.Vector(ctx, alertsFiring, t)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(vec, func(a, b *model.Sample) int {
		if a.Metric.Before(b.Metric) {
			return -1
		}
		if b.Metric.Before(a.Metric) {
			return 1
		}
		return 0
	})
	return vec, nil
}
