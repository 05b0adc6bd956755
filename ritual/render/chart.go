package render

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

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
		pl, _, err := linePlot(p, loc)
		if err != nil {
			return nil, fmt.Errorf("chart %s: %w", p.Name, err)
		}
		data, err := encode(pl)
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

// linePlot draws the plot's lines with their thresholds, and returns the
// legend's entries.
func linePlot(p report.Plot, loc *time.Location) (*plot.Plot, []string, error) {
	pl := plot.New()
	pl.Title.Text = p.Title
	pl.X.Label.Text = loc.String()
	pl.Y.Min = 0
	pl.Add(plotter.NewGrid())
	var legend []string
	lo, hi, top, n := math.Inf(1), math.Inf(-1), 0.0, 0
	for _, l := range p.Lines {
		for _, pt := range l.Points {
			x := float64(pt.T.Unix())
			lo, hi, top, n = min(lo, x), max(hi, x), max(top, pt.V), n+1
		}
	}
	for _, l := range p.Lines {
		if len(l.Points) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(l.Points))
		for i, pt := range l.Points {
			xys[i] = plotter.XY{X: float64(pt.T.Unix()), Y: pt.V}
		}
		var thumbs []plot.Thumbnailer
		// No line across a gap (minutes without a scrape): one line per
		// stretch of samples.
		for _, part := range stretches(xys) {
			line, err := plotter.NewLine(part)
			if err != nil {
				return nil, nil, err
			}
			line.Color = lineColour
			line.Width = vg.Points(1.5)
			pl.Add(line)
			if thumbs == nil {
				thumbs = append(thumbs, line)
			}
		}
		// A few samples (a stack minutes old) are marked one by one: a
		// single sample draws no line at all.
		if len(l.Points) <= fewPoints {
			dots, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, nil, err
			}
			dots.GlyphStyle = draw.GlyphStyle{Color: lineColour, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
			pl.Add(dots)
			thumbs = append(thumbs, dots)
		}
		pl.Legend.Add(l.Name, thumbs...)
		legend = append(legend, l.Name)
	}
	if n == 0 {
		pl.Title.Text += " (no data)"
	}
	for _, t := range p.Thresholds {
		thr := plotter.NewFunction(func(float64) float64 { return t.Value })
		thr.Color = severityColours[t.Severity]
		thr.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		thr.Width = vg.Points(1)
		pl.Add(thr)
		entry := fmt.Sprintf("%s > %s", t.Alertname, report.FormatValue(t.Value, p.Unit))
		pl.Legend.Add(entry, thr)
		legend = append(legend, entry)
		top = max(top, t.Value)
	}
	// The x axis spans the data (a stack minutes old has minutes, not the
	// whole window); one sample gets half a minute either side.
	if n == 0 {
		lo, hi = 0, 0
	}
	if hi-lo < 60 {
		lo, hi = lo-30, hi+30
	}
	pl.X.Min, pl.X.Max = lo, hi
	pl.X.Tick.Marker = TimeTicks(loc)
	if n == 0 {
		// No time to tell (not 1970).
		pl.X.Tick.Marker = plot.ConstantTicks(nil)
	}
	// Head room above the highest line, for the legend.
	if top <= 0 {
		top = 1
	}
	pl.Y.Max = top * 1.25
	pl.Y.Tick.Marker = ValueTicks(p.Unit)
	pl.Legend.Top = true
	pl.Legend.Left = true
	return pl, legend, nil
}

// stretches cuts xys where two samples are further apart than twice the
// usual (median) distance between samples.
func stretches(xys plotter.XYs) []plotter.XYs {
	if len(xys) < 3 {
		return []plotter.XYs{xys}
	}
	gaps := make([]float64, 0, len(xys)-1)
	for i := 1; i < len(xys); i++ {
		gaps = append(gaps, xys[i].X-xys[i-1].X)
	}
	slices.Sort(gaps)
	usual := gaps[len(gaps)/2]
	var out []plotter.XYs
	from := 0
	for i := 1; i < len(xys); i++ {
		if xys[i].X-xys[i-1].X > 2*usual {
			out = append(out, xys[from:i])
			from = i
		}
	}
	return append(out, xys[from:])
}

// fewPoints: lines of at most this many samples have each sample marked.
const fewPoints = 60

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
	pl.X.Label.Text = loc.String()
	pl.X.Min = float64(h.Start.Unix())
	pl.X.Max = float64(h.Start.Add(time.Duration(len(h.Firing[0])) * h.Cell).Unix())
	pl.X.Tick.Marker = TimeTicks(loc)
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

// margin is left blank around every chart, so that the longest tick
// label (an alert name on the heat strip) ends inside the image, not at
// its edge.
const margin = 0.15 * vg.Inch

func pngSized(pl *plot.Plot, w, h vg.Length) ([]byte, error) {
	img := vgimg.New(w, h)
	pl.Draw(draw.Crop(draw.New(img), margin, -margin, margin, -margin))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
