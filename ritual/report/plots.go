package report

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"

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
	Name  string
	Title string
	Start time.Time
	// End is the window's end: the last cell may stop short of a whole one.
	End    time.Time
	Cell   time.Duration
	Alerts []string
	// Firing[i][j] is the share (0-1) of cell j alert i fired.
	Firing [][]float64
}

// PlotStep is the distance between a chart's samples over span: a day
// every five minutes (288 points), a stack minutes old every 15 seconds,
// at most 300 points.
func PlotStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute} {
		if span <= 300*s {
			return s
		}
	}
	return 5 * time.Minute
}

// plotWindow is the range each sample's rate or peak is taken over: the
// step, and at least two minutes, which hold two scrapes a minute apart.
func plotWindow(step time.Duration) time.Duration { return max(step, 2*time.Minute) }

// dayPlots are the evening broadcast's charts over w, the part of the day
// with data (ok false: none).
func (b *builder) dayPlots(ctx context.Context, w Window, ok bool) ([]Plot, error) {
	step := PlotStep(w.Duration())
	over := model.Duration(plotWindow(step)).String()
	specs := []struct {
		name, title, figure, metric, line string
	}{
		{"error-rate", "Error rate (errors/min)", "error_rate", "error_rate", "errors/min, rate over " + over},
		{"api-latency-p95", "API response time p95 (ms)", "api_response_time_p95", "api_response_time", "p95 over " + over},
		{"active-users", "Active users", "active_users", "", "active users, peak over " + over},
	}
	var plots []Plot
	for _, s := range specs {
		f, _ := query.FigureByName(s.figure)
		p := Plot{Name: s.name, Title: s.title, Unit: f.Unit}
		var m model.Matrix
		if ok {
			var err error
			if m, err = b.Source.Range(ctx, b.Source.Expr(f, plotWindow(step)), w.Start, w.End, step); err != nil {
				return nil, err
			}
		}
		for _, ss := range m {
			l := Line{Name: s.line}
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

// heatStrip folds the week's episodes into cells per alert over w, the
// part of the week with data: hours for a week, minutes for a stack
// minutes old.
func (b *builder) heatStrip(eps []query.Episode, w Window) *HeatStrip {
	h := &HeatStrip{Name: "firing-alerts", Title: "Firing alerts, hour by hour", Start: w.Start, End: w.End, Cell: time.Hour}
	for _, c := range []struct {
		cell  time.Duration
		title string
	}{{time.Minute, "minute by minute"}, {5 * time.Minute, "5 minutes by 5 minutes"}, {15 * time.Minute, "quarter hour by quarter hour"}} {
		if w.Duration() <= 168*c.cell {
			h.Cell, h.Title = c.cell, "Firing alerts, "+c.title
			break
		}
	}
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
		// From the strip's start: a fire before it (before the data)
		// is no part of its first cell.
		for t := later(e.Start, w.Start); t.Before(e.End); {
			j := int(t.Sub(w.Start) / h.Cell)
			cellStart := w.Start.Add(time.Duration(j) * h.Cell)
			cellEnd := cellStart.Add(h.Cell)
			until := min(cellEnd.UnixNano(), e.End.UnixNano())
			if j < cells {
				// The last cell ends with the window.
				length := min(cellEnd.UnixNano(), w.End.UnixNano()) - cellStart.UnixNano()
				row[j] += float64(until-t.UnixNano()) / float64(length)
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

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
