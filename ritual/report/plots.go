package report

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/query"
)

// Plot is the data of one line chart: what the evening broadcast draws.
type Plot struct {
	Name  string // file name without extension, e.g. "error-rate"
	Title string
	Unit  string
	Lines []Line
	// Thresholds are drawn as horizontal lines: the table's alerts on
	// the plotted metric.
	Thresholds []Threshold
}

// Line is one series of a plot.
type Line struct {
	Name   string
	Points []Point
}

// Point is one value at one time.
type Point struct {
	T time.Time
	V float64
}

// Threshold is an alert's threshold, in the plot's unit.
type Threshold struct {
	Alertname string
	Severity  string
	Value     float64
}

// HeatStrip is the weekly chart of firing alerts: one row per alert, one
// cell per hour, the share of the hour the alert fired.
type HeatStrip struct {
	Name   string
	Title  string
	Start  time.Time
	Cell   time.Duration
	Alerts []string
	// Firing[i][j] is the share (0-1) of cell j alert i fired.
	Firing [][]float64
}

// plotStep samples the day's lines every five minutes: 288 points.
const plotStep = 5 * time.Minute

// dayPlots are the evening broadcast's charts.
func (b *builder) dayPlots(ctx context.Context, w Window) ([]Plot, error) {
	specs := []struct {
		name, title, figure, metric string
	}{
		{"error-rate", "Error rate (errors/min)", "error_rate", "error_rate"},
		{"api-latency-p95", "API response time p95 (ms)", "api_response_time_p95", "api_response_time"},
		{"active-users", "Active users", "active_users", ""},
	}
	var plots []Plot
	for _, s := range specs {
		f, _ := query.FigureByName(s.figure)
		m, err := b.Source.Range(ctx, b.Source.Expr(f, plotStep), w.Start, w.End, plotStep)
		if err != nil {
			return nil, err
		}
		p := Plot{Name: s.name, Title: s.title, Unit: f.Unit}
		for _, ss := range m {
			l := Line{Name: f.Title}
			for _, v := range ss.Values {
				if x := float64(v.Value) * f.Scale; !math.IsNaN(x) && !math.IsInf(x, 0) {
					l.Points = append(l.Points, Point{T: v.Timestamp.Time(), V: x})
				}
			}
			p.Lines = append(p.Lines, l)
		}
		for _, a := range b.Table.Alerts {
			// Only thresholds in the plot's unit: SlowAPI (mean, ms) is
			// drawn on the p95 chart as the line a slow day approaches.
			if s.metric != "" && a.Metric == s.metric && a.Unit == f.Unit {
				p.Thresholds = append(p.Thresholds, Threshold{Alertname: a.Name, Severity: string(a.Severity), Value: a.Threshold})
			}
		}
		plots = append(plots, p)
	}
	return plots, nil
}

// heatStrip folds the week's episodes into hourly cells per alert.
func (b *builder) heatStrip(eps []query.Episode, w Window) *HeatStrip {
	h := &HeatStrip{Name: "firing-alerts", Title: "Firing alerts, hour by hour", Start: w.Start, Cell: time.Hour}
	cells := int(math.Ceil(float64(w.Duration()) / float64(h.Cell)))
	rows := map[string][]float64{}
	for _, e := range eps {
		if slices.Contains(b.Ignore, e.Alertname) {
			continue
		}
		row := rows[e.Alertname]
		if row == nil {
			row = make([]float64, cells)
			rows[e.Alertname] = row
			h.Alerts = append(h.Alerts, e.Alertname)
		}
		for t := e.Start; t.Before(e.End); {
			j := int(t.Sub(w.Start) / h.Cell)
			cellEnd := w.Start.Add(time.Duration(j+1) * h.Cell)
			until := min(cellEnd.UnixNano(), e.End.UnixNano())
			if j >= 0 && j < cells {
				row[j] += float64(until-t.UnixNano()) / float64(h.Cell)
			}
			t = time.Unix(0, until)
		}
	}
	slices.Sort(h.Alerts)
	for _, a := range h.Alerts {
		row := rows[a]
		for j := range row {
			row[j] = min(row[j], 1)
		}
		h.Firing = append(h.Firing, row)
	}
	return h
}
