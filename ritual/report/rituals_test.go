package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/golden"
	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/ritual"
	"github.com/quantum-resonance/telemetry/ritual/historytest"
	"github.com/quantum-resonance/telemetry/ritual/report"
)

// TestRitualsOnHistory runs each ritual against the real Prometheus serving
// the backfilled history and checks its JSON against what the history holds.
func TestRitualsOnHistory(t *testing.T) {
	h := historytest.Run(t)
	// SystemDown's condition holds for the 3 minutes down and 5 after; it
	// fires once it has held for the table's `for`.
	systemDown, _ := h.Table.Alert("SystemDown")
	systemDownStart := historytest.RestartAt.Add(systemDown.For)
	systemDownSeconds := (historytest.DownFor + 5*time.Minute - systemDown.For).Seconds()
	build := func(t *testing.T, ritual string, at time.Time) (*report.Report, map[string]any) {
		t.Helper()
		opts := report.Options{Source: h.Source(), Table: h.Table, At: at, Location: time.UTC}
		if ritual == report.Monthly {
			boards, err := dashboards.Build(h.Table)
			if err != nil {
				t.Fatal(err)
			}
			opts.Panels = dashboards.Queries(boards)
		}
		r, err := report.Build(historytest.Context(t), ritual, opts)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"ritual", "window", "alerts"} {
			if _, ok := doc[key]; !ok {
				t.Errorf("JSON report has no %q: %s", key, raw)
			}
		}
		return r, doc
	}

	t.Run("morning", func(t *testing.T) {
		at := time.Date(2026, time.November, 23, 8, 0, 30, 0, time.UTC)
		r, _ := build(t, report.Morning, at)
		wantWindow(t, r, time.Date(2026, time.November, 22, 22, 0, 0, 0, time.UTC), time.Date(2026, time.November, 23, 8, 0, 0, 0, time.UTC))
		wantAlert(t, r, "SystemDown", 1, systemDownSeconds)
		wantAlert(t, r, "HighCPU", 1, 3*60)
		wantAlert(t, r, "MiningBoostInactive", 1, 115*60)
		noAlert(t, r, "ErrorStorm")
		noAlert(t, r, "Watchdog")
		if len(r.Episodes) != 3 {
			t.Errorf("episodes = %+v, want 3", r.Episodes)
		}
		for _, e := range r.Episodes {
			if !e.Resolved || e.Instance != historytest.Instance {
				t.Errorf("episode %+v: want resolved, on %s", e, historytest.Instance)
			}
			if e.Alertname == "SystemDown" && !e.Start.Equal(systemDownStart) {
				t.Errorf("SystemDown started %s, want %s", e.Start, systemDownStart)
			}
		}
		if len(r.FiringNow) != 0 {
			t.Errorf("firing now = %+v, want nothing", r.FiringNow)
		}
		// One restart this night, none the week before.
		historytest.Within(t, "restarts", r.Metrics["restarts"].Value, 1, 0)
		historytest.Within(t, "restarts a week before", r.Metrics["restarts"].Previous, 0, 0)
		historytest.Within(t, "CPU peak", r.Metrics["cpu_usage_peak"].Value, 90, 0.01)
		historytest.Within(t, "API p95", r.Metrics["api_response_time_p95"].Value, 500, 10)
		historytest.Within(t, "HF latency", r.Metrics["huggingface_latency"].Value, 800, 5)
		historytest.Within(t, "Pi SDK latency", r.Metrics["pi_sdk_latency"].Value, 400, 5)
	})

	t.Run("evening", func(t *testing.T) {
		r, doc := build(t, report.Evening, historytest.End)
		wantWindow(t, r, historytest.End.Add(-24*time.Hour), historytest.End)
		// The storm: 40 errors/min and 30 % 5xx for an hour.
		// Over 2 minutes, for 1m, and kept firing 5 minutes after the hour.
		wantAlert(t, r, "ErrorStorm", 1, 64*60)
		wantAlert(t, r, "APIFailure", 1, 64*60)
		wantAlert(t, r, "ErrorRateHigh", 1, 58*60)
		wantAlert(t, r, "SystemDown", 1, systemDownSeconds)
		if got := r.Tiers["critical"]; got.Fired != 3 {
			t.Errorf("critical tier = %+v, want 3 fires", got)
		}
		if got := r.Tiers["warning"]; got.Fired != 4 {
			t.Errorf("warning tier = %+v, want 4 fires", got)
		}
		m := r.Metrics
		// 1/min all day, 40/min for one hour of it.
		historytest.Within(t, "error rate", m["error_rate"].Value, (1440+60*39)/1440.0, 0.1)
		historytest.Within(t, "error rate the day before", m["error_rate"].Previous, 1, 0.05)
		historytest.Within(t, "error rate 7-day mean", m["error_rate"].Mean7d, 1, 0.05)
		failed, all := 0.0, 0.0
		for ts := historytest.End.Add(-24 * time.Hour).Add(historytest.ScrapeStep); !ts.After(historytest.End); ts = ts.Add(historytest.ScrapeStep) {
			failed += historytest.RequestsPerMinute(ts) * historytest.ServerErrorShare(ts)
			all += historytest.RequestsPerMinute(ts)
		}
		historytest.Within(t, "API error ratio", m["api_error_rate"].Value, 100*failed/all, 0.05)
		historytest.Within(t, "API p50", m["api_response_time_p50"].Value, 100, 2)
		historytest.Within(t, "API p95", m["api_response_time_p95"].Value, 500, 10)
		historytest.Within(t, "API mean", m["api_response_time"].Value, 200, 2)
		historytest.Within(t, "active users peak", m["active_users"].Value, 90, 0)
		historytest.Within(t, "transactions completed", m["transactions_completed"].Value, 14400, 14400*0.01)
		historytest.Within(t, "transactions the day before", m["transactions_completed"].Previous, 14400, 14400*0.01)
		historytest.Within(t, "wallet balance at the start", m["wallet_balance_start"].Value, historytest.WalletBalance(historytest.End.Add(-24*time.Hour)), 0.01)
		historytest.Within(t, "wallet balance at the end", m["wallet_balance"].Value, historytest.WalletBalance(historytest.End), 0.01)
		historytest.Within(t, "mining boost share", m["mining_boost_active"].Value, 100*22.0/24, 0.5)
		historytest.Within(t, "community resonance mean", m["community_resonance"].Value, 60, 0.5)
		historytest.Within(t, "community resonance low", m["community_resonance_low"].Value, 45, 0.1)
		historytest.Within(t, "availability", m["availability"].Value, 100*(1440-3)/1440.0, 0.1)
		historytest.Within(t, "availability the day before", m["availability"].Previous, 100, 0)
		metrics, _ := doc["metrics"].(map[string]any)
		for _, key := range []string{"cpu_usage", "error_rate", "api_response_time", "active_users", "wallet_balance", "transactions_completed"} {
			entry, ok := metrics[key].(map[string]any)
			if !ok {
				t.Errorf("JSON metrics has no %q", key)
				continue
			}
			for _, field := range []string{"value", "previous", "mean_7d", "unit"} {
				if _, ok := entry[field]; !ok {
					t.Errorf("JSON metrics.%s has no %q", key, field)
				}
			}
		}
		if len(r.SLOs) != 1 || r.SLOs[0].Name != historytest.SLOName {
			t.Fatalf("SLOs = %+v, want %s", r.SLOs, historytest.SLOName)
		}
		slo := r.SLOs[0]
		historytest.Within(t, "SLO objective", slo.Objective, historytest.SLOObjective, 1e-9)
		// The 1d error ratio, the storm in it; the budget over the 8
		// days the 30d window holds.
		historytest.Within(t, "SLO compliance", slo.Compliance, 1-errorRatioOver(historytest.End, 24*time.Hour), 1e-4)
		historytest.Within(t, "SLO budget remaining", slo.BudgetRemaining, budgetRemaining(historytest.End), 1e-3)
		historytest.Within(t, "SLO budget burned today", slo.BudgetBurned,
			budgetRemaining(historytest.End.Add(-24*time.Hour))-budgetRemaining(historytest.End), 1e-3)
	})

	t.Run("weekly", func(t *testing.T) {
		r, _ := build(t, report.Weekly, historytest.End)
		if len(r.Proposals) != len(h.Table.Alerts) {
			t.Errorf("%d proposals, want one per alert of the table (%d)", len(r.Proposals), len(h.Table.Alerts))
		}
		cpuAlert := alertOf(t, r, "HighCPU")
		if cpuAlert.Fired != len(historytest.CPUSpikes) || cpuAlert.Flaps != len(historytest.CPUSpikes) || cpuAlert.MedianFiringSeconds != 180 {
			t.Errorf("HighCPU = %+v, want %d fires, all flaps, median 180 s", cpuAlert, len(historytest.CPUSpikes))
		}
		if d := cpuAlert.Distribution; d == nil {
			t.Error("HighCPU: no distribution")
		} else {
			historytest.Within(t, "CPU p50", &d.P50, 35, 1)
			historytest.Within(t, "CPU p90", &d.P90, 35+10*0.951, 1)
			historytest.Within(t, "CPU max", &d.Max, 90, 0.01)
		}
		p := proposalOf(t, r, "HighCPU")
		if p.Action != report.ActionLengthenFor && p.Action != report.ActionRaise {
			t.Errorf("HighCPU flaps but the proposal is %+v", p)
		}
		if p.Action == report.ActionLengthenFor && (p.Current != "10m" || p.Proposed != "20m") {
			t.Errorf("HighCPU proposal %+v: want for 10m -> 20m", p)
		}
		if p.Evidence == "" {
			t.Error("HighCPU proposal without evidence")
		}
		if p := proposalOf(t, r, "DiskUsageHigh"); p.Action != report.ActionKeep {
			t.Errorf("DiskUsageHigh never fired, its metric far below: want keep, got %+v", p)
		}
		wantAlert(t, r, "MiningBoostInactive", 7, 7*115*60)
		if p := proposalOf(t, r, "MiningBoostInactive"); p.Action != report.ActionKeep {
			t.Errorf("MiningBoostInactive fires daily for two hours, never flaps: want keep, got %+v", p)
		}
		if w := r.Metrics["transactions_completed"]; w.Value == nil {
			t.Error("weekly trends: no transactions")
		}
		if len(r.SLOs) != 1 {
			t.Fatalf("SLOs = %+v", r.SLOs)
		}
		week := 7 * 24 * time.Hour
		// The week's mean of the 1h error ratios, as the report reads it.
		mean := 0.0
		for at := historytest.End.Add(-week).Add(historytest.ScrapeStep); !at.After(historytest.End); at = at.Add(historytest.ScrapeStep) {
			mean += errorRatioOver(at, time.Hour) / week.Minutes()
		}
		historytest.Within(t, "SLO compliance over the week", r.SLOs[0].Compliance, 1-mean, 1e-4)
		historytest.Within(t, "SLO budget burned this week", r.SLOs[0].BudgetBurned,
			budgetRemaining(historytest.End.Add(-week))-budgetRemaining(historytest.End), 1e-3)
	})

	t.Run("monthly", func(t *testing.T) {
		r, _ := build(t, report.Monthly, historytest.End)
		for _, never := range []string{"DiskUsageHigh", "LowBalance", "WalletCompromised", "ModerateCPU"} {
			if !slices.Contains(r.NeverFired, never) {
				t.Errorf("never fired = %v, want %s in it", r.NeverFired, never)
			}
		}
		if slices.Contains(r.NeverFired, "HighCPU") {
			t.Errorf("never fired = %v lists HighCPU", r.NeverFired)
		}
		if len(r.Alerts) == 0 || r.Alerts[0].Alertname != "MiningBoostInactive" || r.Alerts[0].Fired != 8 {
			t.Errorf("most fired = %+v, want MiningBoostInactive, 8 times", r.Alerts[:min(1, len(r.Alerts))])
		}
		if !slices.Contains(r.NoData, "resonance_log_entries_total") || slices.Contains(r.NoData, "resonance_cpu_usage_ratio") {
			t.Errorf("no data = %v: want the log entries (never pushed) and not the CPU", r.NoData)
		}
		if i := slices.IndexFunc(r.Cardinality, func(c report.SeriesCount) bool { return c.Metric == "resonance_api_requests_total" }); i < 0 || r.Cardinality[i].Count != 2 {
			t.Errorf("cardinality = %+v, want resonance_api_requests_total with 2 series", r.Cardinality)
		}
		if len(r.RuleDrift) != 0 {
			t.Errorf("Prometheus runs the committed pack, yet drift = %q", r.RuleDrift)
		}
		if len(r.EmptyPanels) == 0 {
			t.Error("no empty panel, though the history has no probe or log series")
		}
	})
}

// TestEveningMarkdownAndCharts renders the evening of the history's storm
// day through ritual.Runner (what resonancetool and the schedule run) and
// compares its Markdown with the committed example; -update rewrites the
// example and its charts.
func TestEveningMarkdownAndCharts(t *testing.T) {
	h := historytest.Run(t)
	runner := &ritual.Runner{API: h.API, Table: h.Table, Location: time.UTC}
	for _, which := range []string{report.Evening, report.Weekly} {
		out, err := runner.Run(historytest.Context(t), which, historytest.End)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Charts) == 0 {
			t.Fatalf("%s: no charts", which)
		}
		// CHART_DUMP=DIR writes the reports and charts there, to look at.
		if dir := os.Getenv("CHART_DUMP"); dir != "" {
			if _, err := out.WriteDir(filepath.Join(dir, "history")); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range out.Charts {
			historytest.Drawn(t, c.Name, c.Data)
			if !strings.Contains(out.Markdown, "]("+c.Name+")") {
				t.Errorf("%s Markdown does not show %s", which, c.Name)
			}
		}
		if which != report.Evening {
			continue
		}
		dir := filepath.Join(h.Root, "docs", "examples")
		example := filepath.Join(dir, "evening.md")
		if golden.Updating() {
			if _, err := out.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(example)
		if err != nil {
			t.Fatalf("%v (go test ./ritual/report -update writes it)", err)
		}
		if string(want) != out.Markdown {
			t.Errorf("evening Markdown differs from %s (go test ./ritual/report -update rewrites it):\n%s", example, out.Markdown)
		}
	}
}

// The api-availability SLO's figures in closed form, from the requests
// the history's counters count (not from the recording rules, which
// Prometheus evaluated over the backfilled counters): the share of 5xx
// among the requests counted in the minutes in (from, to]. A minute's
// requests are counted at its scrape; the restart loses the minutes the
// exporter was down and the first one after (its counters start from 0).
func errorRatio(from, to time.Time) float64 {
	bad, all := 0.0, 0.0
	for u := from.Add(historytest.ScrapeStep); !u.After(to); u = u.Add(historytest.ScrapeStep) {
		if !u.After(historytest.Start) || (!u.Before(historytest.RestartAt) && !u.After(historytest.RestartAt.Add(historytest.DownFor))) {
			continue
		}
		bad += historytest.RequestsPerMinute(u) * historytest.ServerErrorShare(u)
		all += historytest.RequestsPerMinute(u)
	}
	return bad / all
}

// errorRatioOver is the error ratio a rate over window reads at t: the
// samples in (t-window, t] hold the requests of the minutes after the
// first of them.
func errorRatioOver(t time.Time, window time.Duration) float64 {
	return errorRatio(t.Add(-window).Add(historytest.ScrapeStep), t)
}

// budgetRemaining is the error budget left at t: the 30d window holds
// the whole history before t, its error ratio against the budget.
func budgetRemaining(t time.Time) float64 {
	return 1 - errorRatio(historytest.Start, t)/(1-historytest.SLOObjective)
}

func wantWindow(t *testing.T, r *report.Report, start, end time.Time) {
	t.Helper()
	if !r.Window.Start.Equal(start) || !r.Window.End.Equal(end) {
		t.Errorf("window = %s – %s, want %s – %s", r.Window.Start, r.Window.End, start, end)
	}
}

func alertOf(t *testing.T, r *report.Report, name string) report.AlertSummary {
	t.Helper()
	i := slices.IndexFunc(r.Alerts, func(a report.AlertSummary) bool { return a.Alertname == name })
	if i < 0 {
		t.Fatalf("%s report has no alert %s: %+v", r.Ritual, name, r.Alerts)
	}
	return r.Alerts[i]
}

func wantAlert(t *testing.T, r *report.Report, name string, fired int, firingSeconds float64) {
	t.Helper()
	a := alertOf(t, r, name)
	if a.Fired != fired || a.FiringSeconds != firingSeconds {
		t.Errorf("%s: %s fired %d times for %gs, want %d times for %gs", r.Ritual, name, a.Fired, a.FiringSeconds, fired, firingSeconds)
	}
}

func noAlert(t *testing.T, r *report.Report, name string) {
	t.Helper()
	if slices.ContainsFunc(r.Alerts, func(a report.AlertSummary) bool { return a.Alertname == name }) {
		t.Errorf("%s report lists %s, which did not fire in its window", r.Ritual, name)
	}
}

func proposalOf(t *testing.T, r *report.Report, name string) report.Proposal {
	t.Helper()
	i := slices.IndexFunc(r.Proposals, func(p report.Proposal) bool { return p.Alertname == name })
	if i < 0 {
		t.Fatalf("no proposal for %s", name)
	}
	return r.Proposals[i]
}
