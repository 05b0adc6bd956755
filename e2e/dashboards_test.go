package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// The series this test produces (host metrics, the error storm, pushed
// business values, the unauthorized transaction, the alerts) and those it
// does not (API and upstream traffic, probes, mining boost, active users).
var (
	producedSeries = []string{
		"resonance_cpu", "resonance_memory", "resonance_disk", "resonance_uptime",
		"resonance_errors", "resonance_log_entries", "resonance_wallet_balance_pi",
		"resonance_community_resonance_score", "resonance_wallet_unauthorized",
		"resonance_transactions_total", "ALERTS", "up{",
	}
	unproducedSeries = []string{
		"api_request", "api_error", "upstream", "probe", "huggingface", "pi_sdk",
		"mining_boost", "active_users", "resonance_wallet_up", "_bucket",
		`alertstate="pending"`, // nothing need be pending at the end
	}
)

// dashboardQueries runs every panel query of the generated dashboards
// against the live Prometheus, with Grafana's variables filled in as
// Grafana would for this stack's 1 s scrape interval.
func (e *env) dashboardQueries(t *testing.T, start time.Time) {
	table := rulestest.Table(t)
	boards, err := dashboards.Build(table)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	vars := dashboards.Variables{
		RateInterval: 10 * time.Second,
		Interval:     2 * time.Second,
		Range:        end.Sub(start).Round(time.Second),
		Instance:     ".*",
	}
	api := e.promAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	queries := dashboards.Queries(boards)
	if len(queries) == 0 {
		t.Fatal("the dashboards hold no query")
	}
	withData := 0
	for _, q := range queries {
		expr := q.Expand(vars)
		var result model.Value
		if q.Instant {
			result, _, _, err = api.Query(ctx, expr, end)
		} else {
			result, _, _, err = api.QueryRange(ctx, expr, promv1.Range{Start: start, End: end, Step: 2 * time.Second})
		}
		if err != nil {
			t.Errorf("%s / %s [%s]: %v\n  %s", q.Dashboard, q.Panel, q.RefID, err, expr)
			continue
		}
		if !expectsData(q.Expr) {
			continue
		}
		withData++
		if isEmpty(result) {
			t.Errorf("%s / %s [%s]: no data, though this test produced its series\n  %s", q.Dashboard, q.Panel, q.RefID, expr)
		}
	}
	t.Logf("%d panel queries ran; %d of them read series this test produced and were checked for data", len(queries), withData)
}

func expectsData(expr string) bool {
	for _, s := range unproducedSeries {
		if strings.Contains(expr, s) {
			return false
		}
	}
	for _, s := range producedSeries {
		if strings.Contains(expr, s) {
			return true
		}
	}
	return false
}

func isEmpty(v model.Value) bool {
	switch r := v.(type) {
	case model.Vector:
		return len(r) == 0
	case model.Matrix:
		return len(r) == 0
	case *model.Scalar, *model.String:
		return false
	}
	return true
}
