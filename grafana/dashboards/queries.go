package dashboards

import (
	"strings"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/prometheus/common/model"
)

// PanelQuery is one Prometheus query of one panel, as written in the
// dashboard, with Grafana's variables still in it.
type PanelQuery struct {
	Dashboard string // the dashboard's title
	Panel     string // the panel's title; a stat and a graph may share one
	PanelID   uint32 // unique within the dashboard
	RefID     string
	Expr      string
	// Instant is true for queries Grafana evaluates once, at the end of the
	// time range (stats, tables), false for range queries (graphs).
	Instant bool
}

// Queries lists every Prometheus query of the boards, read back from the
// built dashboards, so it lists exactly what the JSON files hold. The
// end-to-end test runs each one against a live Prometheus.
func Queries(boards []Board) []PanelQuery {
	var queries []PanelQuery
	for _, b := range boards {
		title := deref(b.Dashboard.Title)
		for _, p := range panels(b.Dashboard) {
			for _, target := range p.Targets {
				q, ok := target.(prometheus.Dataquery)
				if !ok {
					continue
				}
				queries = append(queries, PanelQuery{
					Dashboard: title,
					Panel:     deref(p.Title),
					PanelID:   derefID(p.Id),
					RefID:     deref(q.RefId),
					Expr:      q.Expr,
					Instant:   q.Instant != nil && *q.Instant,
				})
			}
		}
	}
	return queries
}

// panels lists the panels of a dashboard, those inside rows included.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var all []dashboard.Panel
	for _, p := range d.Panels {
		switch {
		case p.Panel != nil:
			all = append(all, *p.Panel)
		case p.RowPanel != nil:
			all = append(all, p.RowPanel.Panels...)
		}
	}
	return all
}

// Variables are the values Grafana substitutes into a query before it sends
// the query to Prometheus.
type Variables struct {
	// RateInterval is $__rate_interval: at least four scrape intervals.
	RateInterval time.Duration
	// Interval is $__interval: the step between two points of a graph.
	Interval time.Duration
	// Range is $__range: the length of the dashboard's time range.
	Range time.Duration
	// Job is $job: a regular expression of scrape jobs; empty is "All".
	Job string
	// Instance is $instance: a regular expression of instances; empty is
	// "All".
	Instance string
}

// DefaultVariables are what Grafana would substitute for a 15s scrape
// interval, a one-hour time range and the "All" job and instance.
var DefaultVariables = Variables{
	RateInterval: time.Minute,
	Interval:     15 * time.Second,
	Range:        time.Hour,
	Job:          allValue,
	Instance:     allValue,
}

// Expand substitutes v for Grafana's variables in the query, which makes it
// PromQL that Prometheus (and promql/parser) accepts.
func (q PanelQuery) Expand(v Variables) string {
	if v.Job == "" {
		v.Job = allValue
	}
	if v.Instance == "" {
		v.Instance = allValue
	}
	return strings.NewReplacer(
		"${"+jobVariable+"}", v.Job,
		"$"+jobVariable, v.Job,
		"$__rate_interval", model.Duration(v.RateInterval).String(),
		"$__interval", model.Duration(v.Interval).String(),
		"$__range", model.Duration(v.Range).String(),
		"${"+instanceVariable+"}", v.Instance,
		"$"+instanceVariable, v.Instance,
	).Replace(q.Expr)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefID(id *uint32) uint32 {
	if id == nil {
		return 0
	}
	return *id
}
