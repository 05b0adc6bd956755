package render_test

import (
	"bytes"
	"image"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/quantum-resonance/telemetry/ritual/render"
	"github.com/quantum-resonance/telemetry/ritual/report"
)

func series(start time.Time, n int, step time.Duration, v func(i int) float64) []report.Point {
	pts := make([]report.Point, n)
	for i := range pts {
		pts[i] = report.Point{T: start.Add(time.Duration(i) * step), V: v(i)}
	}
	return pts
}

func labelled(ticks []plot.Tick) []plot.Tick {
	var out []plot.Tick
	for _, t := range ticks {
		if t.Label != "" {
			out = append(out, t)
		}
	}
	return out
}

// TestTimeAxisFollowsTheData: the x axis spans the data, from a storm of
// three minutes to a week, with three to nine labels a step apart, each
// telling its time at the precision the span needs.
func TestTimeAxisFollowsTheData(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 13, 58, 45, 0, time.UTC)
	for _, c := range []struct {
		name  string
		pts   []report.Point
		loc   *time.Location
		label func(time.Time) string
	}{
		{"3-minute storm", series(start, 13, 15*time.Second, func(int) float64 { return 40 }), time.UTC,
			func(t time.Time) string { return t.Format("15:04:05") }},
		{"an hour", series(start, 61, time.Minute, func(int) float64 { return 1 }), time.UTC,
			func(t time.Time) string { return t.Format("15:04") }},
		{"a day", series(start, 289, 5*time.Minute, func(int) float64 { return 1 }), berlin,
			func(t time.Time) string {
				if t.Hour() == 0 {
					return t.Format("Mon 2")
				}
				return t.Format("15:04")
			}},
		{"a week", series(start, 169, time.Hour, func(int) float64 { return 1 }), time.UTC,
			func(t time.Time) string { return t.Format("Mon 2") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			pl, _, err := render.LinePlot(report.Plot{Title: c.name, Unit: "count/min", Lines: []report.Line{{Name: "errors", Points: c.pts}}}, c.loc)
			if err != nil {
				t.Fatal(err)
			}
			first, last := float64(c.pts[0].T.Unix()), float64(c.pts[len(c.pts)-1].T.Unix())
			if pl.X.Min != first || pl.X.Max != last {
				t.Errorf("x axis %g – %g, want the data's %g – %g", pl.X.Min, pl.X.Max, first, last)
			}
			ticks := labelled(pl.X.Tick.Marker.Ticks(pl.X.Min, pl.X.Max))
			if len(ticks) < 3 || len(ticks) > 9 {
				t.Fatalf("%d labelled ticks %v, want 3 to 9", len(ticks), ticks)
			}
			var labels []string
			for i, tk := range ticks {
				if tk.Value < first || tk.Value > last {
					t.Errorf("tick %q at %g is outside the data", tk.Label, tk.Value)
				}
				if want := c.label(time.Unix(int64(tk.Value), 0).In(c.loc)); tk.Label != want {
					t.Errorf("tick at %s labelled %q, want %q", time.Unix(int64(tk.Value), 0).In(c.loc), tk.Label, want)
				}
				if i > 1 && tk.Value-ticks[i-1].Value != ticks[1].Value-ticks[0].Value {
					t.Errorf("ticks %v are not evenly spaced", ticks)
				}
				labels = append(labels, tk.Label)
			}
			unique := slices.Clone(labels)
			slices.Sort(unique)
			if len(slices.Compact(unique)) != len(labels) {
				t.Errorf("labels repeat: %q", labels)
			}
		})
	}
}

// TestValueAxisLabels: round values without trailing zeros, with the
// plot's unit; milliseconds from a second on read in seconds.
func TestValueAxisLabels(t *testing.T) {
	for _, c := range []struct {
		unit     string
		top      float64
		want     []string
		suffixes string
	}{
		{"count/min", 40, []string{"0/min", "10/min", "50/min"}, "/min"},
		{"%", 82.7, []string{"0 %", "25 %", "100 %"}, " %"},
		{"ms", 1500, []string{"0 s", "0.5 s", "1.5 s"}, " s"},
		{"ms", 500, []string{"0 ms", "200 ms", "600 ms"}, " ms"},
		{"count", 1.2, []string{"0", "0.5", "1.5"}, ""},
	} {
		pl, _, err := render.LinePlot(report.Plot{Unit: c.unit, Lines: []report.Line{{Name: "x",
			Points: series(time.Unix(0, 0), 10, time.Minute, func(i int) float64 { return c.top * float64(i) / 9 })}}}, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, tk := range labelled(pl.Y.Tick.Marker.Ticks(pl.Y.Min, pl.Y.Max)) {
			labels = append(labels, tk.Label)
			num := strings.TrimSuffix(tk.Label, c.suffixes)
			if c.suffixes != "" && num == tk.Label || strings.Contains(num, ".") && strings.HasSuffix(num, "0") {
				t.Errorf("%s: label %q: want the unit %q and no trailing zero", c.unit, tk.Label, c.suffixes)
			}
		}
		for _, w := range c.want {
			if !slices.Contains(labels, w) {
				t.Errorf("%s up to %g: labels %q lack %q", c.unit, c.top, labels, w)
			}
		}
	}
}

// TestLegendNamesTheSeries: the data line is in the legend, by its name,
// with the thresholds.
func TestLegendNamesTheSeries(t *testing.T) {
	_, legend, err := render.LinePlot(report.Plot{Unit: "count/min",
		Lines:      []report.Line{{Name: "errors/min, 1m rate", Points: series(time.Unix(0, 0), 5, time.Minute, func(int) float64 { return 3 })}},
		Thresholds: []report.Threshold{{Alertname: "ErrorStorm", Severity: "critical", Value: 20}},
	}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"errors/min, 1m rate", "ErrorStorm > 20/min"}; !slices.Equal(legend, want) {
		t.Errorf("legend %q, want %q", legend, want)
	}
}

// TestFewSamplesShow: one sample, or three, are drawn in the line's colour
// (a line through one point draws nothing).
func TestFewSamplesShow(t *testing.T) {
	at := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	for _, n := range []int{1, 3} {
		r := &report.Report{Ritual: report.Evening, Timezone: "UTC", Plots: []report.Plot{{Name: "p95", Title: "API p95 (ms)", Unit: "ms",
			Lines: []report.Line{{Name: "p95", Points: series(at, n, 5*time.Minute, func(int) float64 { return 500 })}}}}}
		charts, err := render.Charts(r)
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, charts[0].Data)
		// The line's colour, away from the legend's sample in the top left.
		b := img.Bounds()
		drawn := inkLike(img, image.Rect(b.Min.X+b.Dx()/6, b.Min.Y+b.Dy()/5, b.Max.X, b.Max.Y), 0x1f, 0x4e, 0x79)
		if drawn < 20*n {
			t.Errorf("%d sample(s): %d pixels in the line's colour, want them drawn", n, drawn)
		}
	}
}

// TestHeatStripLabelsFit: the longest alert name ends inside the image,
// with the rest of the chart: nothing is drawn in a border around it.
func TestHeatStripLabelsFit(t *testing.T) {
	start := time.Date(2026, 11, 16, 20, 0, 0, 0, time.UTC)
	for _, alerts := range [][]string{{"ErrorStorm"}, {"APIErrorRateHigh", "ErrorStorm", "MiningBoostInactive"}} {
		h := &report.HeatStrip{Name: "firing-alerts", Title: "Firing alerts", Start: start, Cell: time.Hour, Alerts: alerts}
		for range alerts {
			row := make([]float64, 168)
			row[160] = 1
			h.Firing = append(h.Firing, row)
		}
		charts, err := render.Charts(&report.Report{Ritual: report.Weekly, Timezone: "UTC", Strip: h})
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, charts[0].Data)
		b := img.Bounds()
		const border = 4
		inner := image.Rect(b.Min.X+border, b.Min.Y+border, b.Max.X-border, b.Max.Y-border)
		if all, in := ink(img, b), ink(img, inner); all != in {
			t.Errorf("%v: %d pixels drawn within %d px of the image's edge: a label is cut off", alerts, all-in, border)
		}
	}
}

func decode(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func ink(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				n++
			}
		}
	}
	return n
}

func inkLike(img image.Image, r image.Rectangle, wr, wg, wb uint8) int {
	n := 0
	near := func(a uint32, b uint8) bool { d := int(a>>8) - int(b); return d > -24 && d < 24 }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if cr, cg, cb, _ := img.At(x, y).RGBA(); near(cr, wr) && near(cg, wg) && near(cb, wb) {
				n++
			}
		}
	}
	return n
}

// TestNoLineAcrossAGap: minutes without a sample cut the line in two.
func TestNoLineAcrossAGap(t *testing.T) {
	var xys plotter.XYs
	for i := range 20 {
		if i < 8 || i >= 12 { // a minute without a sample
			xys = append(xys, plotter.XY{X: float64(i * 15), Y: 1})
		}
	}
	parts := render.Stretches(xys)
	if len(parts) != 2 || len(parts[0]) != 8 || len(parts[1]) != 8 {
		t.Errorf("stretches %v, want the 8 samples before the gap and the 8 after", parts)
	}
	if parts := render.Stretches(xys[:8]); len(parts) != 1 {
		t.Errorf("no gap, yet %d stretches", len(parts))
	}
}

// TestNoDataNoTimes: a chart without data tells no time on its axis.
func TestNoDataNoTimes(t *testing.T) {
	pl, _, err := render.LinePlot(report.Plot{Title: "Error rate", Unit: "count/min"}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if ticks := labelled(pl.X.Tick.Marker.Ticks(pl.X.Min, pl.X.Max)); len(ticks) > 0 {
		t.Errorf("no data, yet the time axis reads %v", ticks)
	}
	if !strings.HasSuffix(pl.Title.Text, "(no data)") {
		t.Errorf("title %q does not say there is no data", pl.Title.Text)
	}
}
