package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
)

// DataStart is when the scrape job's data begins within the window that
// ends at end: its first sample of up, or the window's start when the job
// was scraped before it. ErrNoData when the window holds no sample of up:
// Prometheus was not scraping the job (a stack that did not exist yet).
func (s *Source) DataStart(ctx context.Context, window time.Duration, end time.Time) (time.Time, error) {
	start := end.Add(-window)
	// The first minute of the window, on Prometheus's minute grid, that
	// holds a sample (timestamp of an aggregate is the evaluation time).
	expr := fmt.Sprintf("min_over_time(timestamp(max(max_over_time(up{%s}[1m])))[%s:1m])", s.Selector, model.Duration(window))
	first, err := s.Scalar(ctx, expr, end)
	if err != nil {
		return time.Time{}, err
	}
	minute := time.Unix(int64(math.Round(first)), 0)
	if minute.Sub(start) <= time.Minute {
		return start, nil
	}
	// That minute's first sample.
	raw := fmt.Sprintf("up{%s}[1m]", s.Selector)
	v, _, _, err := s.API.Query(ctx, raw, minute)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", raw, err)
	}
	m, ok := v.(model.Matrix)
	if !ok {
		return time.Time{}, fmt.Errorf("%s: want a range vector, got %s", raw, v.Type())
	}
	at := minute
	for _, ss := range m {
		for _, p := range ss.Values {
			if t := p.Timestamp.Time(); t.Before(at) {
				at = t
			}
		}
	}
	if at.Before(start) {
		return start, nil
	}
	return at, nil
}
