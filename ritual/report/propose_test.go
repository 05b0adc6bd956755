package report

import (
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/rules"
)

func TestProposals(t *testing.T) {
	week := 7 * 24 * time.Hour
	cpu := rules.Alert{Name: "HighCPU", Metric: "cpu_usage", Op: ">", Threshold: 80, Unit: "%", For: 10 * time.Minute}
	low := rules.Alert{Name: "LowResonance", Metric: "community_resonance", Op: "<", Threshold: 40, Unit: "score", For: 15 * time.Minute}
	for _, c := range []struct {
		name     string
		alert    rules.Alert
		summary  AlertSummary
		action   string
		proposed string
		evidence string
	}{
		{
			name:  "busy above",
			alert: cpu,
			summary: AlertSummary{Fired: 2, FiringSeconds: 0.5 * week.Seconds(), durations: []time.Duration{40 * time.Hour, 44 * time.Hour},
				Distribution: &query.Distribution{P50: 83, P99: 91.2, Max: 97}},
			action: ActionRaise, proposed: "92", evidence: "fired 50% of the window (twice)",
		},
		{
			name:  "busy above, capped at 100%",
			alert: cpu,
			summary: AlertSummary{Fired: 1, FiringSeconds: week.Seconds(), durations: []time.Duration{week},
				Distribution: &query.Distribution{P50: 99, P99: 100, Max: 100}},
			action: ActionRaise, proposed: "100",
		},
		{
			name:  "busy below",
			alert: low,
			summary: AlertSummary{Fired: 3, FiringSeconds: 0.3 * week.Seconds(), durations: []time.Duration{time.Hour, 20 * time.Hour, 30 * time.Hour},
				Distribution: &query.Distribution{P1: 12.34, P50: 45}},
			action: ActionLower, proposed: "12",
		},
		{
			name:  "flapping wins over busy",
			alert: cpu,
			summary: AlertSummary{Fired: 4, Flaps: 3, FiringSeconds: 0.3 * week.Seconds(), durations: []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 50 * time.Hour},
				Distribution: &query.Distribution{P50: 85, P99: 95}},
			action: ActionLengthenFor, proposed: "20m", evidence: "with for 20m 1 of them would have fired",
		},
		{
			name:    "two flaps are not flapping",
			alert:   cpu,
			summary: AlertSummary{Fired: 2, Flaps: 2, FiringSeconds: 240, durations: []time.Duration{2 * time.Minute, 2 * time.Minute}, Distribution: &query.Distribution{P50: 40, Max: 85}},
			action:  ActionKeep, proposed: "80",
		},
		{
			name:    "no data",
			alert:   cpu,
			summary: AlertSummary{},
			action:  ActionKeep, proposed: "80", evidence: "no data for cpu_usage",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := propose(c.alert, c.summary, week)
			if p.Action != c.action || p.Proposed != c.proposed || !strings.Contains(p.Evidence, c.evidence) {
				t.Errorf("proposal = %+v, want %s to %s with evidence %q", p, c.action, c.proposed, c.evidence)
			}
		})
	}
}

func TestNightWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	for _, c := range []struct {
		at         time.Time
		start, end string
	}{
		// At 08:00 sharp the night just ended.
		{time.Date(2026, 11, 23, 8, 0, 0, 0, berlin), "2026-11-22T22:00:00+01:00", "2026-11-23T08:00:00+01:00"},
		// At 07:59 the last full night is the one before.
		{time.Date(2026, 11, 23, 7, 59, 0, 0, berlin), "2026-11-21T22:00:00+01:00", "2026-11-22T08:00:00+01:00"},
		// The night daylight saving time ends: 11 hours long.
		{time.Date(2026, 10, 25, 9, 0, 0, 0, berlin), "2026-10-24T22:00:00+02:00", "2026-10-25T08:00:00+01:00"},
	} {
		w := NightWindow(c.at, berlin, DefaultNightStart, DefaultNightEnd)
		if got := w.Start.Format(time.RFC3339); got != c.start {
			t.Errorf("at %s: start %s, want %s", c.at, got, c.start)
		}
		if got := w.End.Format(time.RFC3339); got != c.end {
			t.Errorf("at %s: end %s, want %s", c.at, got, c.end)
		}
	}
	// A night within one day (01:00-05:00).
	w := NightWindow(time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC), time.UTC, time.Hour, 5*time.Hour)
	if w.Duration() != 4*time.Hour || w.End.Hour() != 5 {
		t.Errorf("01:00-05:00 night = %v – %v", w.Start, w.End)
	}
}
