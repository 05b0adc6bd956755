package render_test

import (
	"math"
	"os"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/historytest"
	"github.com/quantum-resonance/telemetry/ritual/render"
	"github.com/quantum-resonance/telemetry/ritual/report"
)

func TestChartsAreDrawn(t *testing.T) {
	start := time.Date(2026, 11, 22, 20, 0, 0, 0, time.UTC)
	var pts []report.Point
	for i := range 288 {
		pts = append(pts, report.Point{T: start.Add(time.Duration(i) * 5 * time.Minute), V: 2 + math.Sin(float64(i)/20)})
	}
	r := &report.Report{
		Ritual:   report.Evening,
		Timezone: "UTC",
		Plots: []report.Plot{{
			Name: "error-rate", Title: "Error rate", Unit: "count/min",
			Lines:      []report.Line{{Name: "errors", Points: pts}},
			Thresholds: []report.Threshold{{Alertname: "ErrorRateHigh", Severity: "warning", Value: 5}},
		}},
		Strip: &report.HeatStrip{
			Name: "firing-alerts", Title: "Firing alerts", Start: start, Cell: time.Hour,
			Alerts: []string{"HighCPU", "SystemDown"},
			Firing: [][]float64{make([]float64, 168), make([]float64, 168)},
		},
	}
	r.Strip.Firing[0][10], r.Strip.Firing[1][100] = 0.25, 1
	charts, err := render.Charts(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(charts) != 2 || len(r.Charts) != 2 || r.Charts[0].File != "evening-error-rate.png" {
		t.Fatalf("charts = %+v, report lists %+v", charts, r.Charts)
	}
	for _, c := range charts {
		if dir := os.Getenv("CHART_DUMP"); dir != "" {
			_ = os.WriteFile(dir+"/"+c.Name, c.Data, 0o644)
		}
		historytest.Drawn(t, c.Name, c.Data)
		if len(c.Data) > 1<<20 {
			t.Errorf("%s is %d bytes: charts should stay small", c.Name, len(c.Data))
		}
	}
}

func TestChangeAndDuration(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		v, prev *float64
		want    string
	}{
		{f(110), f(100), "+10%"},
		{f(90), f(100), "−10%"},
		{f(100), f(100), "="},
		{f(5), f(0), "new"},
		{nil, f(1), "–"},
		{f(100.1), f(100), "≈"},
	} {
		if got := render.Change(c.v, c.prev); got != c.want {
			t.Errorf("Change(%v, %v) = %q, want %q", c.v, c.prev, got, c.want)
		}
	}
	for s, want := range map[float64]string{0: "0", 45: "45s", 3480: "58m", 6900: "1h55m", 90061: "25h1m"} {
		if got := render.Duration(s); got != want {
			t.Errorf("Duration(%g) = %q, want %q", s, got, want)
		}
	}
}
