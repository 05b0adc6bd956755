// Package report builds the rituals' reports (morning review, evening
// broadcast, weekly threshold audit, monthly review) from the history
// Prometheus holds. A Report is the JSON contract the hub and scripts read;
// package render turns it into Markdown and charts.
package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/quantum-resonance/telemetry/grafana/dashboards"
	"github.com/quantum-resonance/telemetry/ritual/amstate"
	"github.com/quantum-resonance/telemetry/ritual/cadence"
	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/rules"
)

// The rituals.
const (
	Morning = cadence.Morning
	Evening = cadence.Evening
	Weekly  = cadence.Weekly
	Monthly = cadence.Monthly
)

// Rituals lists them in the order of the plan's cadence.
var Rituals = cadence.Rituals

// Report is one ritual's report.
type Report struct {
	Ritual string `json:"ritual"`
	Window Window `json:"window"`
	// Timezone is the zone the report's days and night are counted in.
	Timezone string `json:"timezone"`
	// Alerts summarises each alert that fired in the window (the weekly
	// audit: every alert of the table, fired or not).
	Alerts []AlertSummary `json:"alerts"`
	// Episodes lists each fire (morning).
	Episodes []Episode `json:"episodes,omitempty"`
	// FiringNow lists what still fires at the window's end (morning).
	FiringNow []Episode `json:"firing_now,omitempty"`
	// Silences are Alertmanager's active silences (morning, with
	// --alertmanager.url).
	Silences []amstate.Silence `json:"silences,omitempty"`
	// Metrics are the plan's figures keyed by the plan's metric names.
	// Morning compares with the same window a week before, evening with
	// the previous day and the mean of the 7 days before, weekly with the
	// week before.
	Metrics map[string]Metric `json:"metrics,omitempty"`
	// Tiers counts fires and firing time per severity (evening).
	Tiers map[string]Tier `json:"tiers,omitempty"`
	// SLOs is each service level objective's state, when the SLO
	// recording rules have data (evening, weekly).
	SLOs      []SLO      `json:"slos,omitempty"`
	Proposals []Proposal `json:"proposals,omitempty"`
	// Monthly review.
	NeverFired  []string      `json:"never_fired,omitempty"`
	NoData      []string      `json:"no_data,omitempty"`
	Cardinality []SeriesCount `json:"cardinality,omitempty"`
	Overflow    []SeriesCount `json:"label_overflow,omitempty"`
	EmptyPanels []string      `json:"empty_panels,omitempty"`
	RuleDrift   []string      `json:"rule_drift,omitempty"`
	// DataStart is when the data begins, when that is after the window's
	// start (a stack younger than the window): the figures, availability
	// and charts are over the time with data, from DataStart to the end.
	DataStart *time.Time `json:"data_start,omitempty"`
	// Charts names the PNG files rendered with the report.
	Charts []Chart `json:"charts,omitempty"`
	// Notes say what the report could not tell and why.
	Notes []string `json:"notes,omitempty"`

	// The data of the charts (evening: Plots, weekly: Strip).
	Plots []Plot     `json:"-"`
	Strip *HeatStrip `json:"-"`
}

// Window is the span the report covers.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Duration of the window.
func (w Window) Duration() time.Duration { return w.End.Sub(w.Start) }

// AlertSummary is what one alert did in the window.
type AlertSummary struct {
	Alertname     string  `json:"alertname"`
	Severity      string  `json:"severity"`
	Fired         int     `json:"fired"`
	FiringSeconds float64 `json:"firing_seconds"`
	// Weekly audit.
	MedianFiringSeconds float64             `json:"median_firing_seconds,omitempty"`
	Flaps               int                 `json:"flaps,omitempty"`
	ForSeconds          float64             `json:"for_seconds,omitempty"`
	Metric              string              `json:"metric,omitempty"`
	Threshold           *float64            `json:"threshold,omitempty"`
	Unit                string              `json:"unit,omitempty"`
	Distribution        *query.Distribution `json:"distribution,omitempty"`

	durations []time.Duration
}

// Episode is one fire of one alert.
type Episode struct {
	Alertname     string    `json:"alertname"`
	Severity      string    `json:"severity"`
	Instance      string    `json:"instance,omitempty"`
	Start         time.Time `json:"start"`
	FiringSeconds float64   `json:"firing_seconds"`
	Resolved      bool      `json:"resolved"`
	// StartedBefore: the alert already fired when the window began.
	StartedBefore bool `json:"started_before_window,omitempty"`
	// Suppressed says why Alertmanager holds a firing alert back:
	// silenced or inhibited (morning, with --alertmanager.url).
	Suppressed string `json:"suppressed,omitempty"`
}

// Metric is one figure with what it is compared with. A nil field had no
// data.
type Metric struct {
	Value    *float64 `json:"value"`
	Previous *float64 `json:"previous"`
	Mean7d   *float64 `json:"mean_7d,omitempty"`
	Unit     string   `json:"unit"`
	Title    string   `json:"title"`
}

// Tier is one severity's alert activity.
type Tier struct {
	Fired         int     `json:"fired"`
	FiringSeconds float64 `json:"firing_seconds"`
}

// SLO is one objective's state at the end of the window.
type SLO struct {
	Name      string   `json:"slo"`
	Objective *float64 `json:"objective,omitempty"`
	// Compliance is the share of good events in the window (1 - SLI error).
	Compliance *float64 `json:"compliance,omitempty"`
	// BudgetRemaining: 1 untouched, 0 spent, negative overspent.
	BudgetRemaining *float64 `json:"budget_remaining,omitempty"`
	// BudgetBurned is how much of the budget the window spent.
	BudgetBurned *float64 `json:"budget_burned,omitempty"`
}

// Proposal is the weekly audit's advice for one alert.
type Proposal struct {
	Alertname string `json:"alertname"`
	// Action is keep, raise, lower or lengthen_for.
	Action string `json:"action"`
	// Field is what the action changes in the table: threshold or for.
	Field    string `json:"field,omitempty"`
	Current  string `json:"current"`
	Proposed string `json:"proposed"`
	Evidence string `json:"evidence"`
}

// SeriesCount is a number of series (or folded values) of one metric.
type SeriesCount struct {
	Metric string `json:"metric"`
	Label  string `json:"label,omitempty"`
	Count  int    `json:"count"`
}

// Chart is a PNG drawn for the report.
type Chart struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	File  string `json:"file,omitempty"`
}

// Options are what every ritual reads.
type Options struct {
	Source *query.Source
	Table  *rules.Table
	// At is the end of the report; the ritual picks its window from it.
	At time.Time
	// Location is the time zone the night and the days are counted in.
	Location *time.Location
	// NightStart and NightEnd bound the morning's night, as offsets from
	// midnight (default 22:00 and 08:00).
	NightStart, NightEnd time.Duration
	// Ignore lists alerts left out of every report (Watchdog always fires).
	Ignore []string
	// Panels are the dashboards' queries the monthly review runs.
	Panels []dashboards.PanelQuery
	// Alertmanager, when set, tells the morning review the active
	// silences and which firing alerts are held back.
	Alertmanager interface {
		Read(context.Context) (*amstate.State, error)
	}
}

// Defaults for Options.
const (
	DefaultNightStart = 22 * time.Hour
	DefaultNightEnd   = 8 * time.Hour
)

// DefaultIgnore are the alerts no ritual reports: Watchdog fires all the time
// by design.
var DefaultIgnore = []string{"Watchdog"}

// Build runs one ritual.
func Build(ctx context.Context, ritual string, o Options) (*Report, error) {
	if o.Source == nil || o.Table == nil {
		return nil, errors.New("report: a source and a table are required")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.At.IsZero() {
		o.At = time.Now()
	}
	if o.NightStart == 0 && o.NightEnd == 0 {
		o.NightStart, o.NightEnd = DefaultNightStart, DefaultNightEnd
	}
	if o.Ignore == nil {
		o.Ignore = DefaultIgnore
	}
	// Whole seconds: the same --at gives the same report.
	o.At = o.At.Truncate(time.Second)
	b := &builder{Options: o}
	var build func(context.Context) (*Report, error)
	switch ritual {
	case Morning:
		build = b.morning
	case Evening:
		build = b.evening
	case Weekly:
		build = b.weekly
	case Monthly:
		build = b.monthly
	default:
		return nil, fmt.Errorf("unknown ritual %q (want one of %v)", ritual, Rituals)
	}
	r, err := build(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s report: %w", ritual, err)
	}
	r.Timezone = o.Location.String()
	r.Window.Start, r.Window.End = r.Window.Start.In(o.Location), r.Window.End.In(o.Location)
	return r, nil
}

type builder struct {
	Options
}

// NightWindow is the last night that ended at or before at: from NightStart
// of one day to NightEnd of the next (or the same day, if NightStart comes
// before NightEnd), in loc.
func NightWindow(at time.Time, loc *time.Location, nightStart, nightEnd time.Duration) Window {
	local := at.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	end := clock(midnight, nightEnd)
	if end.After(local) {
		end = clock(midnight.AddDate(0, 0, -1), nightEnd)
	}
	endDay := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, loc)
	start := clock(endDay, nightStart)
	if !start.Before(end) {
		start = clock(endDay.AddDate(0, 0, -1), nightStart)
	}
	return Window{Start: start, End: end}
}

// clock is the time of day d on the day that begins at midnight, wall-clock
// time, so a daylight saving change does not shift it.
func clock(midnight time.Time, d time.Duration) time.Time {
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(),
		int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, midnight.Location())
}

// summarise groups episodes by alert.
func (b *builder) summarise(eps []query.Episode) ([]AlertSummary, map[string]*AlertSummary) {
	byName := map[string]*AlertSummary{}
	var order []string
	for _, e := range eps {
		if slices.Contains(b.Ignore, e.Alertname) {
			continue
		}
		s := byName[e.Alertname]
		if s == nil {
			s = &AlertSummary{Alertname: e.Alertname, Severity: e.Severity}
			byName[e.Alertname] = s
			order = append(order, e.Alertname)
		}
		s.Fired++
		s.FiringSeconds += e.Duration().Seconds()
		s.durations = append(s.durations, e.Duration())
	}
	slices.Sort(order)
	out := make([]AlertSummary, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out, byName
}

func (b *builder) episodes(eps []query.Episode) (all, firing []Episode) {
	for _, e := range eps {
		if slices.Contains(b.Ignore, e.Alertname) {
			continue
		}
		ep := Episode{
			Alertname:     e.Alertname,
			Severity:      e.Severity,
			Instance:      e.Instance,
			Start:         e.Start,
			FiringSeconds: e.Duration().Seconds(),
			Resolved:      !e.Ongoing,
			StartedBefore: e.StartedBefore,
		}
		all = append(all, ep)
		if e.Ongoing {
			firing = append(firing, ep)
		}
	}
	return all, firing
}

// figure evaluates one figure, nil when it had no data; a failed query is
// an error (Prometheus down is not "no data").
func (b *builder) figure(ctx context.Context, f query.Figure, window time.Duration, end time.Time) (*float64, error) {
	v, err := b.Source.Value(ctx, f, window, end)
	if errors.Is(err, query.ErrNoData) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func ptr(v float64) *float64 { return &v }

// covered is the part of w with data (see query.Source.DataStart); ok is
// false when w holds none.
func (b *builder) covered(ctx context.Context, w Window) (c Window, ok bool, err error) {
	start, err := b.Source.DataStart(ctx, w.Duration(), w.End)
	if errors.Is(err, query.ErrNoData) {
		return w, false, nil
	}
	if err != nil {
		return w, false, err
	}
	return Window{Start: start, End: w.End}, true, nil
}

// noteCoverage records in r that its data begins after its window does.
func (r *Report) noteCoverage(c Window) {
	if !c.Start.After(r.Window.Start) {
		return
	}
	start := c.Start
	r.DataStart = &start
	r.Notes = append(r.Notes, fmt.Sprintf("Prometheus has data from %s UTC only: the figures, availability and charts are over the %s with data",
		start.UTC().Format("2006-01-02 15:04:05"), Span(c.Duration())))
}

// Span reads a duration in words: "45 seconds", "8 minutes 35 seconds",
// "25 minutes", "5 hours 12 minutes", "3 days 4 hours".
func Span(d time.Duration) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	both := func(a int, au string, b int, bu string) string {
		if b == 0 {
			return unit(a, au)
		}
		return unit(a, au) + " " + unit(b, bu)
	}
	switch {
	case d < time.Minute:
		return unit(int(d.Round(time.Second)/time.Second), "second")
	case d < 10*time.Minute:
		s := int(d.Round(time.Second) / time.Second)
		return both(s/60, "minute", s%60, "second")
	case d < time.Hour:
		return unit(int(d.Round(time.Minute)/time.Minute), "minute")
	case d < 48*time.Hour:
		m := int(d.Round(time.Minute) / time.Minute)
		return both(m/60, "hour", m%60, "minute")
	}
	h := int(d.Round(time.Hour) / time.Hour)
	return both(h/24, "day", h%24, "hour")
}
