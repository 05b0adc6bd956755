package render

import (
	"bytes"
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/quantum-resonance/telemetry/ritual/report"
)

// PNG is one chart of a report.
type PNG struct {
	Name  string // file name, e.g. "evening-error-rate.png"
	Title string
	Data  []byte
}

// Chart size: wide enough for a day at five-minute resolution, small
// enough (tens of kilobytes) for any channel's attachment limit.
const (
	chartWidth  = 9 * vg.Inch
	chartHeight = 3.5 * vg.Inch
)

var severityColours = map[string]color.RGBA{
	"critical": {R: 0xd7, G: 0x19, B: 0x1c, A: 0xff},
	"warning":  {R: 0xf0, G: 0x8c, B: 0x00, A: 0xff},
	"info":     {R: 0x2b, G: 0x83, B: 0xba, A: 0xff},
}

var lineColour = color.RGBA{R: 0x1f, G: 0x4e, B: 0x79, A: 0xff}

// Charts draws the report's charts and records them in r.Charts.
func Charts(r *report.Report) ([]PNG, error) {
	loc := location(r)
	var out []PNG
	for _, p := range r.Plots {
		data, err := linePlot(p, loc)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", p.Name, err)
		}
		out = append(out, PNG{Name: r.Ritual + "-" + p.Name + ".png", Title: p.Title, Data: data})
	}
	if r.Strip != nil && len(r.Strip.Alerts) > 0 {
		data, err := heatStrip(r.Strip, loc)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", r.Strip.Name, err)
		}
		out = append(out, PNG{Name: r.Ritual + "-" + r.Strip.Name + ".png", Title: r.Strip.Title, Data: data})
	}
	r.Charts = r.Charts[:0]
	for _, c := range out {
		r.Charts = append(r.Charts, report.Chart{Name: c.Name, Title: c.Title, File: c.Name})
	}
	return out, nil
}

func linePlot(p report.Plot, loc *time.Location) ([]byte, error) {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Tick.Marker = hourTicks(loc, 3)
	pl.Y.Min = 0
	pl.Add(plotter.NewGrid())
	for _, l := range p.Lines {
		xys := make(plotter.XYs, len(l.Points))
		for i, pt := range l.Points {
			xys[i] = plotter.XY{X: float64(pt.T.Unix()), Y: pt.V}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = lineColour
		line.Width = vg.Points(1.5)
		pl.Add(line)
	}
	if len(p.Lines) == 0 || len(p.Lines[0].Points) == 0 {
		pl.Title.Text += " (no data)"
	}
	for _, t := range p.Thresholds {
		thr := plotter.NewFunction(func(float64) float64 { return t.Value })
		thr.Color = severityColours[t.Severity]
		thr.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		thr.Width = vg.Points(1)
		pl.Add(thr)
		pl.Legend.Add(fmt.Sprintf("%s > %s", t.Alertname, report.FormatValue(t.Value, p.Unit)), thr)
	}
	// Head room above the highest line, for the legend.
	top := 0.0
	for _, l := range p.Lines {
		for _, pt := range l.Points {
			top = max(top, pt.V)
		}
	}
	for _, t := range p.Thresholds {
		top = max(top, t.Value)
	}
	pl.Y.Max = max(pl.Y.Max, top*1.25)
	pl.Legend.Top = true
	pl.Legend.Left = true
	return encode(pl)
}

// hourTicks labels every step-th hour of the day in loc ("06:00"), with
// an unlabelled tick at every hour between.
func hourTicks(loc *time.Location, step int) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		var ticks []plot.Tick
		t := time.Unix(int64(lo), 0).In(loc).Truncate(time.Hour)
		for ; float64(t.Unix()) <= hi; t = t.Add(time.Hour) {
			if float64(t.Unix()) < lo {
				continue
			}
			label := ""
			if t.Hour()%step == 0 {
				label = t.Format("15:04")
			}
			ticks = append(ticks, plot.Tick{Value: float64(t.Unix()), Label: label})
		}
		return ticks
	})
}

// strip is the heat strip as gonum's GridXYZ: columns are cells (hours),
// rows are alerts.
type strip struct{ h *report.HeatStrip }

func (s strip) Dims() (c, r int) {
	if len(s.h.Firing) == 0 {
		return 0, 0
	}
	return len(s.h.Firing[0]), len(s.h.Alerts)
}

// Z is the colour of a cell: any fire at all shows, however short (a
// three-minute flap is 5 % of an hour), and a full hour is darkest.
func (s strip) Z(c, r int) float64 {
	if z := s.h.Firing[r][c]; z > 0 {
		return 0.3 + 0.7*z
	}
	return 0
}
func (s strip) X(c int) float64 {
	return float64(s.h.Start.Add(time.Duration(c)*s.h.Cell + s.h.Cell/2).Unix())
}
func (s strip) Y(r int) float64 { return float64(r) }

func heatStrip(h *report.HeatStrip, loc *time.Location) ([]byte, error) {
	pl := plot.New()
	pl.Title.Text = h.Title
	hm := plotter.NewHeatMap(strip{h}, firingPalette(10))
	hm.Min, hm.Max = 0, 1
	hm.NaN = color.White
	pl.Add(hm)
	pl.X.Tick.Marker = plot.TimeTicks{Format: "Mon 02", Time: plot.UnixTimeIn(loc)}
	var ticks []plot.Tick
	for i, a := range h.Alerts {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: a})
	}
	pl.Y.Tick.Marker = plot.ConstantTicks(ticks)
	height := max(chartHeight, vg.Length(len(h.Alerts))*0.35*vg.Inch+1.2*vg.Inch)
	return pngSized(pl, chartWidth, height)
}

// firingPalette goes from white (an hour without a fire, so fires stand
// out) to dark red (fired the whole hour).
func firingPalette(n int) palette.Palette {
	from, to := color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}, color.RGBA{R: 0x99, G: 0x00, B: 0x0d, A: 0xff}
	var p colours
	for i := range n {
		f := float64(i) / float64(n-1)
		mix := func(a, b uint8) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*f) }
		p = append(p, color.RGBA{R: mix(from.R, to.R), G: mix(from.G, to.G), B: mix(from.B, to.B), A: 0xff})
	}
	return p
}

type colours []color.Color

func (c colours) Colors() []color.Color { return c }

func encode(pl *plot.Plot) ([]byte, error) { return pngSized(pl, chartWidth, chartHeight) }

func pngSized(pl *plot.Plot, w, h vg.Length) ([]byte, error) {
	wt, err := pl.WriterTo(w, h, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
