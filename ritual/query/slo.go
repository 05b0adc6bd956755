package query

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/common/model"
)

// The SLO recording rules' series (the SLO rule group of the pack).
const (
	sloErrorRatio1h    = "slo:sli_error:ratio_rate1h"
	sloErrorRatio1d    = "slo:sli_error:ratio_rate1d"
	sloBudgetRemaining = "slo:sli_error:error_budget_remaining"
	sloObjective       = "slo:objective:ratio"
	sloLabel           = model.LabelName("slo")
	dayLong            = 24 * time.Hour
)

// SLOState is one objective's figures over a window, NaN where the series
// had no data.
type SLOState struct {
	Objective, Compliance, BudgetRemaining, BudgetBurned float64
}

// SLOs returns the state of every SLO whose series exist at end, keyed by
// the slo label; empty when the pack records no SLO.
func (s *Source) SLOs(ctx context.Context, window time.Duration, end time.Time) (map[string]SLOState, error) {
	out := map[string]SLOState{}
	get := func(expr string, at time.Time) (map[string]float64, error) {
		vec, err := s.Vector(ctx, expr, at)
		if err != nil {
			return nil, err
		}
		m := map[string]float64{}
		for _, smp := range vec {
			m[string(smp.Metric[sloLabel])] = float64(smp.Value)
		}
		return m, nil
	}
	remaining, err := get(sloBudgetRemaining, end)
	if err != nil {
		return nil, err
	}
	errorRatio := fmt.Sprintf("avg by (slo) (avg_over_time(%s[%s]))", sloErrorRatio1h, model.Duration(window))
	if window == dayLong {
		errorRatio = fmt.Sprintf("avg by (slo) (%s)", sloErrorRatio1d)
	}
	ratio, err := get(errorRatio, end)
	if err != nil {
		return nil, err
	}
	objective, err := get(sloObjective, end)
	if err != nil {
		return nil, err
	}
	before, err := get(sloBudgetRemaining, end.Add(-window))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, m := range []map[string]float64{remaining, ratio} {
		for n := range m {
			names[n] = true
		}
	}
	for n := range names {
		st := SLOState{Objective: lookup(objective, n), BudgetRemaining: lookup(remaining, n), Compliance: math.NaN(), BudgetBurned: math.NaN()}
		if r, ok := ratio[n]; ok {
			st.Compliance = 1 - r
		}
		if b, ok := before[n]; ok && !math.IsNaN(st.BudgetRemaining) {
			st.BudgetBurned = b - st.BudgetRemaining
		}
		out[n] = st
	}
	return out, nil
}

func lookup(m map[string]float64, k string) float64 {
	if v, ok := m[k]; ok {
		return v
	}
	return math.NaN()
}
