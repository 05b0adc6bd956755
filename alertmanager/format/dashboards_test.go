package format_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// Every metric of the rule pack links to a generated dashboard that exists.
func TestDashboardUIDsMatchTheGeneratedDashboards(t *testing.T) {
	table := rulestest.Table(t)
	boards, err := dashboards.Build(table)
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, b := range boards {
		uids[*b.Dashboard.Uid] = true
	}
	for _, a := range table.Alerts {
		uid, ok := format.DashboardUIDs[a.Metric]
		if !ok {
			t.Errorf("metric %s (alert %s) has no dashboard in format.DashboardUIDs", a.Metric, a.Name)
			continue
		}
		if !uids[uid] {
			t.Errorf("metric %s: dashboard %s is not generated", a.Metric, uid)
		}
	}
}

func TestDashboardURL(t *testing.T) {
	a := formattest.PlanAlert()
	if got := (format.Defaults{}).DashboardURL(&a); got != "" {
		t.Errorf("without grafana_url: %q", got)
	}
	d := format.Defaults{GrafanaURL: "https://grafana.example/"}
	u, err := url.Parse(d.DashboardURL(&a))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/d/resonance-system-health" || q.Get("var-instance") != "app:8080" || q.Get("to") != "now" ||
		q.Get("from") != "1765414456000" {
		t.Errorf("firing: %s", u)
	}
	a.Status, a.EndsAt = "resolved", a.StartsAt.Add(12*time.Minute)
	u, _ = url.Parse(d.DashboardURL(&a))
	if u.Query().Get("to") != "1765419676000" {
		t.Errorf("resolved: %s", u)
	}
	a.Labels = map[string]string{"metric": "not_ours"}
	if got := d.DashboardURL(&a); got != "" {
		t.Errorf("unknown metric: %q", got)
	}
}
