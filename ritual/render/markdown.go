// Package render turns a ritual's report into what people read: Markdown
// (for files, Slack and the hub) and PNG charts (for Discord and files).
package render

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/ritual/report"
)

// Titles are the plan's names of the rituals.
var Titles = map[string]string{
	report.Morning: "Morning Resonance",
	report.Evening: "Evening Broadcast",
	report.Weekly:  "Weekly Audit",
	report.Monthly: "Monthly Review",
}

// Markdown renders the report. Charts are linked by their file name, so the
// Markdown reads right next to the PNGs written with it.
func Markdown(r *report.Report) string {
	m := &markdown{r: r, loc: location(r)}
	m.heading()
	switch r.Ritual {
	case report.Morning:
		m.morning()
	case report.Evening:
		m.evening()
	case report.Weekly:
		m.weekly()
	case report.Monthly:
		m.monthly()
	}
	m.charts()
	if len(r.Notes) > 0 {
		m.line("")
		for _, n := range r.Notes {
			m.line("_Note: " + n + "_")
		}
	}
	return m.b.String()
}

type markdown struct {
	r   *report.Report
	loc *time.Location
	b   strings.Builder
}

func location(r *report.Report) *time.Location {
	if loc, err := time.LoadLocation(r.Timezone); err == nil && r.Timezone != "" {
		return loc
	}
	return time.UTC
}

func (m *markdown) line(s string) {
	m.b.WriteString(s)
	m.b.WriteByte('\n')
}

func (m *markdown) linef(format string, args ...any) {
	m.line(fmt.Sprintf(format, args...))
}

func (m *markdown) time(t time.Time) string { return t.In(m.loc).Format("2006-01-02 15:04") }

func (m *markdown) heading() {
	w := m.r.Window
	m.linef("# %s — %s", Titles[m.r.Ritual], w.End.In(m.loc).Format("Monday 2 January 2006"))
	m.line("")
	m.linef("%s – %s (%s)", m.time(w.Start), m.time(w.End), m.loc)
}

func (m *markdown) section(title string) {
	m.line("")
	m.line("## " + title)
	m.line("")
}

// table writes a Markdown table with its columns padded to one width, so it
// also reads as plain text in a chat channel's code block.
func (m *markdown) table(header []string, rows [][]string) {
	width := make([]int, len(header))
	numeric := make([]bool, len(header))
	for i := range numeric {
		numeric[i] = i > 0
	}
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c), 3)
		}
	}
	for _, r := range rows {
		for i, c := range r {
			if first, _ := utf8.DecodeRuneInString(c); !strings.ContainsRune("0123456789+-−–=≈", first) && c != "new" {
				numeric[i] = false
			}
		}
	}
	pad := func(r []string, sep bool) string {
		cells := make([]string, len(r))
		for i, c := range r {
			fill := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case sep && numeric[i]:
				cells[i] = strings.Repeat("-", width[i]-1) + ":"
			case sep:
				cells[i] = strings.Repeat("-", width[i])
			case numeric[i]: // figures right-aligned, words left
				cells[i] = fill + c
			default:
				cells[i] = c + fill
			}
		}
		return "| " + strings.Join(cells, " | ") + " |"
	}
	m.line(pad(header, false))
	m.line(pad(header, true))
	for _, r := range rows {
		m.line(pad(r, false))
	}
}

func (m *markdown) morning() {
	m.section("Alerts overnight")
	if len(m.r.Episodes) == 0 {
		m.line("No alert fired overnight.")
	} else {
		var rows [][]string
		for _, e := range m.r.Episodes {
			state := "resolved"
			if !e.Resolved {
				state = "**still firing**"
			}
			start := m.time(e.Start)
			if e.StartedBefore {
				start = "before " + start
			}
			rows = append(rows, []string{e.Alertname, e.Severity, orDash(e.Instance), start, Duration(e.FiringSeconds), state})
		}
		m.table([]string{"Alert", "Tier", "Instance", "Started", "Fired for", "State"}, rows)
	}
	m.section("Firing now")
	if len(m.r.FiringNow) == 0 {
		m.line("Nothing is firing.")
	} else {
		for _, e := range m.r.FiringNow {
			held := ""
			if e.Suppressed != "" {
				held = " — " + e.Suppressed + " in Alertmanager"
			}
			m.linef("- **%s** (%s) on %s since %s%s", e.Alertname, e.Severity, orDash(e.Instance), m.time(e.Start), held)
		}
	}
	if len(m.r.Silences) > 0 {
		m.section("Active silences")
		for _, s := range m.r.Silences {
			m.linef("- `%s` until %s, by %s: %s", s.Matchers, m.time(s.EndsAt), orDash(s.CreatedBy), orDash(s.Comment))
		}
	}
	m.section("Key figures, against the same night a week before")
	m.figures(query.NightFigures, []string{"Figure", "Tonight", "A week before", "Change"}, false)
}

func (m *markdown) evening() {
	m.section("The day in figures")
	m.figures(nil, []string{"Figure", "Today", "Yesterday", "7-day mean", "Change"}, true)
	m.section("Alerts")
	if len(m.r.Alerts) == 0 {
		m.line("No alert fired today.")
	} else {
		var rows [][]string
		for _, tier := range []string{"critical", "warning", "info"} {
			if t, ok := m.r.Tiers[tier]; ok {
				rows = append(rows, []string{tier, fmt.Sprint(t.Fired), Duration(t.FiringSeconds)})
			}
		}
		m.table([]string{"Tier", "Fires", "Firing time"}, rows)
		m.line("")
		m.alertTable(m.r.Alerts)
	}
	m.slos()
}

func (m *markdown) weekly() {
	m.section("Threshold audit")
	var rows [][]string
	for _, a := range m.r.Alerts {
		if a.Threshold == nil {
			continue
		}
		dist := []string{"–", "–", "–", "–"}
		if d := a.Distribution; d != nil {
			dist = []string{report.FormatValue(d.P50, a.Unit), report.FormatValue(d.P90, a.Unit), report.FormatValue(d.P99, a.Unit), report.FormatValue(d.Max, a.Unit)}
		}
		rows = append(rows, append([]string{a.Alertname, fmt.Sprint(a.Fired), Duration(a.FiringSeconds), Duration(a.MedianFiringSeconds), fmt.Sprint(a.Flaps)},
			append(dist, report.FormatValue(*a.Threshold, a.Unit))...))
	}
	m.table([]string{"Alert", "Fires", "Firing time", "Median", "Within for", "p50", "p90", "p99", "Max", "Threshold"}, rows)
	m.section("Proposals")
	changes := 0
	for _, p := range m.r.Proposals {
		if p.Action == report.ActionKeep {
			continue
		}
		changes++
		m.linef("- **%s**: %s `%s` %s → %s. %s.", p.Alertname, actionText(p.Action), p.Field, p.Current, p.Proposed, p.Evidence)
	}
	if changes == 0 {
		m.line("Every threshold holds: no change proposed.")
	}
	kept := 0
	for _, p := range m.r.Proposals {
		if p.Action == report.ActionKeep {
			kept++
		}
	}
	if kept > 0 {
		m.line("")
		m.linef("<details><summary>%d kept</summary>", kept)
		m.line("")
		for _, p := range m.r.Proposals {
			if p.Action == report.ActionKeep {
				m.linef("- %s: %s", p.Alertname, p.Evidence)
			}
		}
		m.line("")
		m.line("</details>")
	}
	m.section("Trends, week over week")
	m.figures(nil, []string{"Figure", "This week", "Last week", "Change"}, false)
	m.slos()
}

func actionText(action string) string {
	switch action {
	case report.ActionLengthenFor:
		return "lengthen"
	case report.ActionRaise:
		return "raise"
	case report.ActionLower:
		return "lower"
	}
	return action
}

func (m *markdown) monthly() {
	m.section("Alerts that never fired in 30 days")
	m.list(m.r.NeverFired, "Every alert fired at least once.")
	m.section("Fired most")
	top := slices.Clone(m.r.Alerts)
	m.alertTable(top[:min(5, len(top))])
	m.section("Fired longest")
	slices.SortStableFunc(top, func(a, b report.AlertSummary) int { return int(math.Copysign(1, b.FiringSeconds-a.FiringSeconds)) })
	m.alertTable(top[:min(5, len(top))])
	m.section("Metrics with no data")
	m.list(m.r.NoData, "Every metric of the plan had data.")
	m.section("Cardinality")
	var rows [][]string
	for _, c := range m.r.Cardinality[:min(10, len(m.r.Cardinality))] {
		rows = append(rows, []string{"`" + c.Metric + "`", fmt.Sprint(c.Count)})
	}
	if len(rows) == 0 {
		m.line("No series.")
	} else {
		m.table([]string{"Metric", "Series"}, rows)
	}
	if len(m.r.Overflow) > 0 {
		m.line("")
		rows = nil
		for _, c := range m.r.Overflow {
			rows = append(rows, []string{"`" + c.Metric + "`", c.Label, fmt.Sprint(c.Count)})
		}
		m.table([]string{"Metric", "Label", "Values folded into \"other\""}, rows)
	} else {
		m.line("")
		m.line("No label value was folded into \"other\".")
	}
	m.section("Dashboard panels with no data")
	m.list(m.r.EmptyPanels, "Every panel showed data.")
	m.section("Rule drift")
	m.list(m.r.RuleDrift, "Prometheus runs the committed rule pack.")
}

func (m *markdown) list(items []string, none string) {
	if len(items) == 0 {
		m.line(none)
		return
	}
	for _, it := range items {
		m.line("- " + it)
	}
}

func (m *markdown) alertTable(alerts []report.AlertSummary) {
	if len(alerts) == 0 {
		m.line("No alert fired.")
		return
	}
	var rows [][]string
	for _, a := range alerts {
		rows = append(rows, []string{a.Alertname, a.Severity, fmt.Sprint(a.Fired), Duration(a.FiringSeconds)})
	}
	m.table([]string{"Alert", "Tier", "Fires", "Firing time"}, rows)
}

// figures writes the report's metrics in the order of query.Figures (or
// of names), with the columns given.
func (m *markdown) figures(names []string, header []string, mean7d bool) {
	if names == nil {
		for _, f := range query.Figures {
			names = append(names, f.Name)
		}
	}
	var rows [][]string
	for _, n := range names {
		v, ok := m.r.Metrics[n]
		if !ok {
			continue
		}
		now := value(v.Value, v.Unit)
		if n == "availability" && v.Value != nil && m.r.DataStart != nil {
			// Not the window's share: Prometheus watched only part of it.
			now += " over the " + report.Span(m.r.Window.End.Sub(*m.r.DataStart)) + " with data"
		}
		row := []string{v.Title, now, value(v.Previous, v.Unit)}
		if mean7d {
			row = append(row, value(v.Mean7d, v.Unit))
		}
		row = append(row, Change(v.Value, v.Previous))
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		m.line("No figures: Prometheus holds no data for the window.")
		return
	}
	m.table(header, rows)
}

func (m *markdown) slos() {
	if len(m.r.SLOs) == 0 {
		return
	}
	m.section("Service level objectives")
	var rows [][]string
	for _, s := range m.r.SLOs {
		rows = append(rows, []string{s.Name, percent(s.Objective), percent(s.Compliance), percent(s.BudgetRemaining), percent(s.BudgetBurned)})
	}
	m.table([]string{"SLO", "Objective", "Compliance", "Budget left", "Budget burned"}, rows)
}

func (m *markdown) charts() {
	if len(m.r.Charts) == 0 {
		return
	}
	m.section("Charts")
	for _, c := range m.r.Charts {
		if c.File != "" {
			m.linef("![%s](%s)", c.Title, c.File)
		}
	}
}

func value(v *float64, unit string) string {
	if v == nil {
		return "–"
	}
	return report.FormatValue(*v, unit)
}

func percent(v *float64) string {
	if v == nil {
		return "–"
	}
	return report.FormatValue(*v*100, "%")
}

// Change is the relative change from previous to value: "+12%", "−3%",
// "=" when equal, "new" from zero, "–" without both.
func Change(v, previous *float64) string {
	switch {
	case v == nil || previous == nil:
		return "–"
	case *v == *previous:
		return "="
	case *previous == 0:
		return "new"
	}
	c := (*v - *previous) / math.Abs(*previous) * 100
	switch {
	case math.Abs(c) < 0.5:
		return "≈"
	case c > 0:
		return fmt.Sprintf("+%.0f%%", c)
	}
	return fmt.Sprintf("−%.0f%%", -c)
}

// Duration reads like "58m", "1h55m" or "45s".
func Duration(seconds float64) string {
	d := time.Duration(math.Round(seconds)) * time.Second
	if d == 0 {
		return "0"
	}
	h, mnt, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if mnt > 0 {
		fmt.Fprintf(&b, "%dm", mnt)
	}
	if s > 0 && h == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
