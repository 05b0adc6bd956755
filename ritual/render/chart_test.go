package render

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/report"
)

// Drawn checks that data is a PNG with something drawn on it: not one
// colour, and enough non-white pixels for a line and its axes.
func Drawn(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	b := img.Bounds()
	colours := map[[4]uint32]bool{}
	inked := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
		}
	}
	if len(colours) < 3 || inked < b.Dx()*b.Dy()/200 {
		t.Errorf("%s looks blank: %d colours, %d of %d pixels drawn", name, len(colours), inked, b.Dx()*b.Dy())
	}
	return img
}

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
	charts, err := Charts(r)
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
		Drawn(t, c.Name, c.Data)
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
		if got := Change(c.v, c.prev); got != c.want {
			t.Errorf("Change(%v, %v) = %q, want %q", c.v, c.prev, got, c.want)
		}
	}
	for s, want := range map[float64]string{0: "0", 45: "45s", 3480: "58m", 6900: "1h55m", 90061: "25h1m"} {
		if got := Duration(s); got != want {
			t.Errorf("Duration(%g) = %q, want %q", s, got, want)
		}
	}
}
