package format

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// DashboardUIDs maps the rule pack's metric label to the generated Grafana
// dashboard (grafana/dashboards) that draws it. A test keeps it in step
// with rules/thresholds.yml and the dashboards.
var DashboardUIDs = map[string]string{
	"uptime":                           "resonance-system-health",
	"cpu_usage":                        "resonance-system-health",
	"memory_usage":                     "resonance-system-health",
	"disk_usage":                       "resonance-system-health",
	"error_rate":                       "resonance-system-health",
	"api_error_rate":                   "resonance-api-performance",
	"api_response_time":                "resonance-api-performance",
	"huggingface_latency":              "resonance-api-performance",
	"pi_sdk_latency":                   "resonance-api-performance",
	"wallet_balance":                   "resonance-pi-network",
	"wallet_unauthorized_transactions": "resonance-pi-network",
	"mining_boost_active":              "resonance-pi-network",
	"community_resonance":              "resonance-pi-network",
}

// DashboardURL links to the dashboard of a's metric on the configured
// Grafana, on a's instance, from an hour before it started to a quarter of
// an hour after it ended (or now); "" without grafana_url or a dashboard
// for the metric.
func (d Defaults) DashboardURL(a *template.Alert) string {
	uid := DashboardUIDs[a.Labels["metric"]]
	if d.GrafanaURL == "" || uid == "" {
		return ""
	}
	q := url.Values{}
	if inst := a.Labels["instance"]; inst != "" {
		q.Set("var-instance", inst)
	}
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	q.Set("from", ms(a.StartsAt.Add(-time.Hour)))
	if a.Status == StatusResolved && !a.EndsAt.IsZero() {
		q.Set("to", ms(a.EndsAt.Add(15*time.Minute)))
	} else {
		q.Set("to", "now")
	}
	return strings.TrimSuffix(d.GrafanaURL, "/") + "/d/" + uid + "?" + q.Encode()
}
