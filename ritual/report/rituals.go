package report

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/query"
)

const (
	day   = 24 * time.Hour
	week  = 7 * day
	month = 30 * day
)

// morning reviews the night: what fired, what still fires, and the key
// figures against the same night a week before.
func (b *builder) morning(ctx context.Context) (*Report, error) {
	w := NightWindow(b.At, b.Location, b.NightStart, b.NightEnd)
	r := &Report{Ritual: Morning, Window: w}
	eps, err := b.Source.Episodes(ctx, w.Start, w.End)
	if err != nil {
		return nil, err
	}
	r.Alerts, _ = b.summarise(eps)
	r.Episodes, _ = b.episodes(eps)
	// What fires now, at the report's time, which may be after the night.
	now, err := b.Source.Episodes(ctx, b.At.Add(-time.Hour), b.At)
	if err != nil {
		return nil, err
	}
	_, r.FiringNow = b.episodes(now)
	if b.Alertmanager != nil {
		// Alertmanager only adds to the review: without it the report
		// still tells the night.
		st, err := b.Alertmanager.Read(ctx)
		if err != nil {
			r.Notes = append(r.Notes, "Alertmanager not read: "+err.Error())
		} else {
			r.Silences = st.Silences
			for i := range r.FiringNow {
				r.FiringNow[i].Suppressed = st.Suppressed[r.FiringNow[i].Alertname]
			}
		}
	}
	r.Metrics, err = b.compare(ctx, r, query.NightFigures, week, false)
	return r, err
}

// evening summarises the day: every figure against the previous day and the
// 7-day mean, alert activity per tier, availability and the SLOs.
func (b *builder) evening(ctx context.Context) (*Report, error) {
	w := Window{Start: b.At.Add(-day), End: b.At}
	r := &Report{Ritual: Evening, Window: w}
	eps, err := b.Source.Episodes(ctx, w.Start, w.End)
	if err != nil {
		return nil, err
	}
	r.Alerts, _ = b.summarise(eps)
	r.Tiers = map[string]Tier{}
	for _, a := range r.Alerts {
		t := r.Tiers[a.Severity]
		t.Fired += a.Fired
		t.FiringSeconds += a.FiringSeconds
		r.Tiers[a.Severity] = t
	}
	if r.Metrics, err = b.compare(ctx, r, figureNames(), day, true); err != nil {
		return nil, err
	}
	c, ok, err := b.covered(ctx, w)
	if err != nil {
		return nil, err
	}
	if r.Plots, err = b.dayPlots(ctx, c, ok); err != nil {
		return nil, err
	}
	return r, b.slos(ctx, r, w)
}

// weekly audits every alert of the table over the week and proposes changes.
func (b *builder) weekly(ctx context.Context) (*Report, error) {
	w := Window{Start: b.At.Add(-week), End: b.At}
	r := &Report{Ritual: Weekly, Window: w}
	eps, err := b.Source.Episodes(ctx, w.Start, w.End)
	if err != nil {
		return nil, err
	}
	fired, byName := b.summarise(eps)
	flaps := map[string]int{}
	for _, e := range eps {
		if a, ok := b.Table.Alert(e.Alertname); ok && !e.Ongoing && e.Duration() <= a.For {
			flaps[e.Alertname]++
		}
	}
	for _, a := range b.Table.Alerts {
		if slices.Contains(b.Ignore, a.Name) {
			continue
		}
		s := AlertSummary{Alertname: a.Name, Severity: string(a.Severity)}
		if got := byName[a.Name]; got != nil {
			s = *got
		}
		s.Metric, s.Unit, s.Threshold = a.Metric, a.Unit, ptr(a.Threshold)
		s.ForSeconds = a.For.Seconds()
		s.Flaps = flaps[a.Name]
		s.MedianFiringSeconds = median(s.durations).Seconds()
		d, err := b.Source.Distribution(ctx, a, w.Duration(), distributionStep(w.Duration()), w.End)
		switch {
		case err == nil:
			s.Distribution = &d
		case !errors.Is(err, query.ErrNoData):
			return nil, err
		}
		r.Alerts = append(r.Alerts, s)
		r.Proposals = append(r.Proposals, propose(a, s, w.Duration()))
	}
	// Alerts outside the table (the pipeline's) still show what they did.
	for _, s := range fired {
		if _, inTable := b.Table.Alert(s.Alertname); !inTable {
			r.Alerts = append(r.Alerts, s)
		}
	}
	if r.Metrics, err = b.compare(ctx, r, figureNames(), week, false); err != nil {
		return nil, err
	}
	c, _, err := b.covered(ctx, w)
	if err != nil {
		return nil, err
	}
	r.Strip = b.heatStrip(eps, c)
	return r, b.slos(ctx, r, w)
}

// monthly reviews the alerting itself: what never fired, what fired most
// and longest, silent metrics, cardinality, empty panels, rule drift.
func (b *builder) monthly(ctx context.Context) (*Report, error) {
	w := Window{Start: b.At.Add(-month), End: b.At}
	r := &Report{Ritual: Monthly, Window: w}
	eps, err := b.Source.Episodes(ctx, w.Start, w.End)
	if err != nil {
		return nil, err
	}
	var byName map[string]*AlertSummary
	r.Alerts, byName = b.summarise(eps)
	// Most fired first, then longest.
	slices.SortStableFunc(r.Alerts, func(x, y AlertSummary) int {
		if x.Fired != y.Fired {
			return y.Fired - x.Fired
		}
		return int(math.Copysign(1, y.FiringSeconds-x.FiringSeconds))
	})
	for _, a := range b.Table.Alerts {
		if byName[a.Name] == nil && !slices.Contains(b.Ignore, a.Name) {
			r.NeverFired = append(r.NeverFired, a.Name)
		}
	}
	if r.NoData, err = b.Source.Silent(ctx, query.PlanSeries, w.Duration(), w.End); err != nil {
		return nil, err
	}
	counts, err := b.Source.SeriesPerMetric(ctx, w.End)
	if err != nil {
		return nil, err
	}
	r.Cardinality = seriesCounts(counts)
	overflow, err := b.Source.Overflow(ctx, w.Duration(), w.End)
	if err != nil {
		return nil, err
	}
	r.Overflow = seriesCounts(overflow)
	if len(b.Panels) > 0 {
		if r.EmptyPanels, err = b.Source.EmptyPanels(ctx, b.Panels, w.Duration(), w.End); err != nil {
			return nil, err
		}
	} else {
		r.Notes = append(r.Notes, "dashboard panels not checked: no dashboards given")
	}
	if r.RuleDrift, err = b.Source.RuleDrift(ctx, b.Table); err != nil {
		return nil, err
	}
	return r, nil
}

// compare evaluates the named figures over r's window, and over the window
// that ends prev earlier; with mean7d, also the mean over the 7 days
// before. Each window is cut to the part with data (a stack younger than
// the window): availability is then over the minutes Prometheus watched,
// not the time before the stack existed. A window without data has no
// figures.
func (b *builder) compare(ctx context.Context, r *Report, names []string, prev time.Duration, mean7d bool) (map[string]Metric, error) {
	w := r.Window
	var figures []query.Figure
	for _, n := range names {
		if f, ok := query.FigureByName(n); ok {
			figures = append(figures, f)
		}
	}
	// values evaluates every figure over the window that ends at end.
	values := func(end time.Time) (map[string]*float64, error) {
		c, ok, err := b.covered(ctx, Window{Start: end.Add(-w.Duration()), End: end})
		if err != nil || !ok {
			return nil, err
		}
		if end.Equal(w.End) {
			r.noteCoverage(c)
		}
		out := map[string]*float64{}
		for _, f := range figures {
			d := c.Duration()
			if c.Start.After(end.Add(-w.Duration())) && !f.AtStart {
				// Ranges leave out their start: this one holds the
				// first sample. (A balance "before" is read at it.)
				d += time.Millisecond
			}
			if out[f.Name], err = b.figure(ctx, f, d, end); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	now, err := values(w.End)
	if err != nil {
		return nil, err
	}
	before, err := values(w.End.Add(-prev))
	if err != nil {
		return nil, err
	}
	var days []map[string]*float64
	if mean7d {
		for k := 1; k <= 7; k++ {
			v, err := values(w.End.Add(-time.Duration(k) * day))
			if err != nil {
				return nil, err
			}
			days = append(days, v)
		}
	}
	out := map[string]Metric{}
	for _, f := range figures {
		m := Metric{Unit: f.Unit, Title: f.Title, Value: now[f.Name], Previous: before[f.Name]}
		sum, n := 0.0, 0
		for _, d := range days {
			if v := d[f.Name]; v != nil {
				sum += *v
				n++
			}
		}
		if n > 0 {
			m.Mean7d = ptr(sum / float64(n))
		}
		out[f.Name] = m
	}
	return out, nil
}

// slos adds the SLOs' state over w, or a note when the pack records none.
func (b *builder) slos(ctx context.Context, r *Report, w Window) error {
	states, err := b.Source.SLOs(ctx, w.Duration(), w.End)
	if err != nil {
		return err
	}
	if len(states) == 0 {
		r.Notes = append(r.Notes, "no SLO series (slo:sli_error:*): SLO compliance not reported")
		return nil
	}
	for name, st := range states {
		r.SLOs = append(r.SLOs, SLO{Name: name, Objective: orNil(st.Objective), Compliance: orNil(st.Compliance),
			BudgetRemaining: orNil(st.BudgetRemaining), BudgetBurned: orNil(st.BudgetBurned)})
	}
	slices.SortFunc(r.SLOs, func(x, y SLO) int { return strings.Compare(x.Name, y.Name) })
	return nil
}

func figureNames() []string {
	names := make([]string, len(query.Figures))
	for i, f := range query.Figures {
		names[i] = f.Name
	}
	return names
}

func seriesCounts(cs []query.Count) []SeriesCount {
	out := make([]SeriesCount, len(cs))
	for i, c := range cs {
		out[i] = SeriesCount{Metric: c.Metric, Label: c.Label, Count: c.Count}
	}
	return out
}

// distributionStep keeps a week at one sample a minute and longer windows
// under Prometheus's 11000 points per series.
func distributionStep(window time.Duration) time.Duration {
	return max(time.Minute, (window / 10000).Round(time.Minute))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func orNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
