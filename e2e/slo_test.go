package e2e

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// sloRecordingRules pushes API and upstream traffic with one bad event in
// ten for every SLO (a 503 that also takes 2.5 s, a Hugging Face call of 6 s,
// a Pi SDK call of 4 s), then checks that Prometheus loaded every SLO
// recording rule without error and that each recorded series has data, the
// error ratios near 10 %. Ranges are capped at 10 s in this fast stack, so
// every window, 30d included, fills within seconds.
func (e *env) sloRecordingRules(t *testing.T) {
	table := rulestest.Table(t)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			e.push(t, http.MethodPost, "/api/v1/events", sloTrafficBatch())
			time.Sleep(250 * time.Millisecond)
		}
	}()
	defer func() { stop.Store(true); <-done }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range table.SLOs.Objectives {
		e.waitForQuery(ctx, rules.RecordSLOBudgetRemaining+`{slo="`+s.Name+`"}`, 30*time.Second)
	}

	api := e.promAPI(t)
	res, err := api.Rules(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[string]int{}
	for _, g := range res.Groups {
		if g.Name != rules.SLOGroup {
			continue
		}
		for _, r := range g.Rules {
			switch r := r.(type) {
			case promv1.RecordingRule:
				loaded[g.Name]++
				if r.Health != promv1.RuleHealthGood {
					t.Errorf("%s{slo=%q}: health %s: %s", r.Name, r.Labels["slo"], r.Health, r.LastError)
				}
			case promv1.AlertingRule:
				loaded[g.Name]++
				if r.Health != promv1.RuleHealthGood {
					t.Errorf("%s{slo=%q}: health %s: %s", r.Name, r.Labels["slo"], r.Health, r.LastError)
				}
			}
		}
	}
	want := table.RuleGroups()
	for _, g := range want.Groups {
		if g.Name == rules.SLOGroup && loaded[g.Name] != len(g.Rules) {
			t.Errorf("group %s: Prometheus loaded %d rules, the pack has %d", g.Name, loaded[g.Name], len(g.Rules))
		}
	}

	for _, s := range table.SLOs.Objectives {
		names := []string{rules.RecordSLOObjective, rules.RecordSLOBudgetRemaining, rules.RecordSLOEventRate, rules.RecordSLOBadEventRate}
		for _, w := range append(rules.SLORateWindows, s.Window.String()) {
			names = append(names, rules.RecordSLOErrorRatio(w))
		}
		for _, n := range names {
			q := n + `{slo="` + s.Name + `"}`
			v, _, _, err := api.Query(ctx, q, time.Now())
			if err != nil {
				t.Errorf("%s: %v", q, err)
				continue
			}
			vec, ok := v.(model.Vector)
			if !ok || len(vec) != 1 {
				t.Errorf("%s: %v, want one series", q, v)
				continue
			}
			got := float64(vec[0].Value)
			if strings.HasPrefix(n, "slo:sli_error:ratio_rate") && math.Abs(got-0.1) > 0.02 {
				t.Errorf("%s = %v, want about 0.1 (one bad event in ten)", q, got)
			}
			if n == rules.RecordSLOObjective && got != s.Objective/100 {
				t.Errorf("%s = %v, want %v", q, got, s.Objective/100)
			}
		}
	}
}

// sloTrafficBatch is ten API requests and ten calls to each upstream, one
// bad in each ten.
func sloTrafficBatch() map[string]any {
	var events []map[string]any
	for i := range 10 {
		status, ms := 200, 100
		hf, pi := 1000, 1000
		if i == 0 {
			status, ms, hf, pi = 503, 2500, 6000, 4000
		}
		events = append(events,
			map[string]any{"type": "api_request", "endpoint": "/api/inference", "method": "POST", "status": status, "duration_ms": ms, "user": "e2e"},
			map[string]any{"type": "upstream_call", "upstream": "huggingface", "operation": "inference", "duration_ms": hf, "ok": true},
			map[string]any{"type": "upstream_call", "upstream": "pi_sdk", "operation": "pay", "duration_ms": pi, "ok": true},
		)
	}
	return map[string]any{"events": events}
}
