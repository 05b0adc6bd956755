package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual"
	"github.com/quantum-resonance/telemetry/ritual/historytest"
	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/ritual/report"
)

// freshMinutes are the minutes of the clock the fresh stack's data
// covers, as Prometheus samples them for availability: each minute ending
// after the first scrape, up to the report's time.
func freshMinutes() []time.Time {
	var out []time.Time
	for m := historytest.FreshStart.Truncate(time.Minute).Add(time.Minute); !m.After(historytest.FreshEnd); m = m.Add(time.Minute) {
		out = append(out, m)
	}
	return out
}

// scrapesIn are the fresh stack's answered scrapes within (from, to].
func scrapesIn(from, to time.Time) []time.Time {
	var out []time.Time
	for _, s := range historytest.FreshScrapes() {
		if s.After(from) && !s.After(to) && !historytest.FreshDown(s) {
			out = append(out, s)
		}
	}
	return out
}

// TestRitualsOnAFreshStack runs the evening broadcast and the weekly audit
// on a stack 8 minutes old: availability is over the minutes with data,
// the peak CPU of both reports is one figure, the charts cover the minutes
// there are.
func TestRitualsOnAFreshStack(t *testing.T) {
	h := historytest.RunFresh(t)
	runner := &ritual.Runner{API: h.API, Table: h.Table, Location: time.UTC}
	evening, err := runner.Run(historytest.Context(t), report.Evening, historytest.FreshEnd)
	if err != nil {
		t.Fatal(err)
	}
	weekly, err := runner.Run(historytest.Context(t), report.Weekly, historytest.FreshEnd)
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("CHART_DUMP"); dir != "" {
		for _, o := range []*ritual.Output{evening, weekly} {
			if _, err := o.WriteDir(filepath.Join(dir, "fresh")); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("availability", func(t *testing.T) {
		up := 0
		for _, m := range freshMinutes() {
			if len(scrapesIn(m.Add(-time.Minute), m)) > 0 {
				up++
			}
		}
		want := 100 * float64(up) / float64(len(freshMinutes()))
		if up == len(freshMinutes()) {
			t.Fatal("the fresh history has no minute down: the test would not tell")
		}
		a := evening.Report.Metrics["availability"]
		historytest.Within(t, "availability", a.Value, want, 0.01)
		if a.Previous != nil || a.Mean7d != nil {
			t.Errorf("availability the day before = %v, 7-day mean %v: the stack did not exist", a.Previous, a.Mean7d)
		}
		if ds := evening.Report.DataStart; ds == nil || !ds.Equal(historytest.FreshStart) {
			t.Errorf("data start = %v, want the first scrape %s", ds, historytest.FreshStart)
		}
		age := historytest.FreshEnd.Sub(historytest.FreshStart)
		phrase := fmt.Sprintf("over the %d minutes %d seconds with data", int(age/time.Minute), int(age%time.Minute/time.Second))
		row := lineWith(evening.Markdown, "| Availability")
		if !strings.Contains(row, report.FormatValue(want, "%")+" "+phrase) {
			t.Errorf("availability row %q does not say %q", row, phrase)
		}
	})

	t.Run("one CPU peak", func(t *testing.T) {
		// HighCPU's value, the median of the last five minutes, minute by
		// minute; its highest.
		peak := 0.0
		for _, m := range freshMinutes() {
			var vs []float64
			for _, s := range scrapesIn(m.Add(-5*time.Minute), m) {
				vs = append(vs, historytest.FreshCPU(s))
			}
			slices.Sort(vs)
			if len(vs) > 0 {
				peak = max(peak, 100*query.Quantile(vs, 0.5))
			}
		}
		historytest.Within(t, "evening CPU peak", evening.Report.Metrics["cpu_usage_peak"].Value, peak, 0.01)
		historytest.Within(t, "weekly CPU peak", weekly.Report.Metrics["cpu_usage_peak"].Value, peak, 0.01)
		i := slices.IndexFunc(weekly.Report.Alerts, func(a report.AlertSummary) bool { return a.Alertname == "HighCPU" })
		if i < 0 || weekly.Report.Alerts[i].Distribution == nil {
			t.Fatalf("weekly audit has no HighCPU distribution: %+v", weekly.Report.Alerts)
		}
		historytest.Within(t, "weekly audit HighCPU max", &weekly.Report.Alerts[i].Distribution.Max, *evening.Report.Metrics["cpu_usage_peak"].Value, 1e-6)
	})

	t.Run("charts over the minutes with data", func(t *testing.T) {
		var storm *report.Plot
		for i, p := range evening.Report.Plots {
			if p.Name == "error-rate" {
				storm = &evening.Report.Plots[i]
			}
		}
		if storm == nil || len(storm.Lines) != 1 {
			t.Fatalf("no error-rate line: %+v", evening.Report.Plots)
		}
		pts := storm.Lines[0].Points
		step := report.PlotStep(historytest.FreshEnd.Sub(historytest.FreshStart))
		if len(pts) < int(historytest.FreshStormEnd.Sub(historytest.FreshStormStart)/step) {
			t.Fatalf("%d points at %s: fewer than the storm's minutes hold", len(pts), step)
		}
		top := 0.0
		for _, p := range pts {
			if p.T.Before(historytest.FreshStart) || p.T.After(historytest.FreshEnd) {
				t.Errorf("point at %s outside the data (%s – %s)", p.T, historytest.FreshStart, historytest.FreshEnd)
			}
			top = max(top, p.V)
		}
		historytest.Within(t, "storm's error rate", &top, historytest.FreshErrorsPerMinute(historytest.FreshStormStart), 1)
		s := weekly.Report.Strip
		if s == nil || !slices.Equal(s.Alerts, []string{"ErrorStorm"}) {
			t.Fatalf("heat strip %+v, want ErrorStorm", s)
		}
		if s.Cell != time.Minute || !s.Start.Equal(historytest.FreshStart) || len(s.Firing[0]) != int((historytest.FreshEnd.Sub(historytest.FreshStart)+time.Minute-1)/time.Minute) {
			t.Errorf("heat strip from %s, %d cells of %s: want minutes from %s", s.Start, len(s.Firing[0]), s.Cell, historytest.FreshStart)
		}
		// ErrorStorm still fires at the end: its last cell, shorter than
		// a minute, is all fire.
		if row := s.Firing[0]; row[len(row)-1] != 1 {
			t.Errorf("ErrorStorm fires to the end, yet its last cell is %g: %v", row[len(row)-1], row)
		}
		for _, o := range []*ritual.Output{evening, weekly} {
			for _, c := range o.Charts {
				historytest.Drawn(t, c.Name, c.Data)
			}
		}
	})
}

func lineWith(text, prefix string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
