package report

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/rules"
)

// Proposal actions.
const (
	ActionKeep        = "keep"
	ActionRaise       = "raise"
	ActionLower       = "lower"
	ActionLengthenFor = "lengthen_for"
)

// Tuning of the weekly audit's advice.
const (
	// An alert flaps when at least minFlaps of its fires, and at least
	// half of them, resolved within one `for`.
	minFlaps = 3
	// An alert that fired for more than busyShare of the week tells
	// nobody anything new: its threshold sits inside normal operation.
	busyShare = 0.2
)

// propose is the advice for one alert of the table from its week, with its
// evidence in one line.
func propose(a rules.Alert, s AlertSummary, window time.Duration) Proposal {
	thr := FormatNumber(a.Threshold)
	p := Proposal{Alertname: a.Name, Action: ActionKeep, Field: "threshold", Current: thr, Proposed: thr}
	d := s.Distribution
	share := s.FiringSeconds / window.Seconds()
	quantitative := a.Unit != "boolean" && a.Unit != "count"
	switch {
	case d == nil && s.Fired == 0:
		p.Evidence = fmt.Sprintf("no data for %s in the window: nothing to judge", a.Metric)

	case s.Fired >= minFlaps && s.Flaps*2 >= s.Fired:
		longer := lengthen(a.For)
		// An episode fired for as long as its condition held beyond
		// `for`; with a longer `for` only those that fired for longer
		// than the difference would have fired at all.
		kept := 0
		for _, dur := range s.durations {
			if dur > longer-a.For {
				kept++
			}
		}
		p.Action, p.Field = ActionLengthenFor, "for"
		p.Current, p.Proposed = model.Duration(a.For).String(), model.Duration(longer).String()
		p.Evidence = fmt.Sprintf("fired %s, %d resolved within its for of %s (median fire %s); with for %s %d of them would have fired",
			times(s.Fired), s.Flaps, model.Duration(a.For), shortDuration(time.Duration(s.MedianFiringSeconds*float64(time.Second))), model.Duration(longer), kept)

	case quantitative && d != nil && share >= busyShare && a.Op == ">" && d.P99 > a.Threshold:
		to := niceUp(d.P99)
		if a.Unit == "%" || a.Unit == "score" {
			to = min(to, 100)
		}
		p.Action, p.Proposed = ActionRaise, FormatNumber(to)
		p.Evidence = fmt.Sprintf("fired %.0f%% of the window (%s); %s was above %s most of the time: p50 %s, p99 %s",
			share*100, times(s.Fired), a.Metric, FormatValue(a.Threshold, a.Unit), FormatValue(d.P50, a.Unit), FormatValue(d.P99, a.Unit))

	case quantitative && d != nil && share >= busyShare && a.Op == "<" && d.P1 < a.Threshold:
		p.Action, p.Proposed = ActionLower, FormatNumber(niceDown(d.P1))
		p.Evidence = fmt.Sprintf("fired %.0f%% of the window (%s); %s was below %s most of the time: p50 %s, p1 %s",
			share*100, times(s.Fired), a.Metric, FormatValue(a.Threshold, a.Unit), FormatValue(d.P50, a.Unit), FormatValue(d.P1, a.Unit))

	case d == nil:
		p.Evidence = fmt.Sprintf("fired %s (%s) with no data for %s left in the window", times(s.Fired), shortDuration(seconds(s.FiringSeconds)), a.Metric)

	default:
		extreme, word := d.Max, "peak"
		if a.Op == "<" {
			extreme, word = d.Min, "low"
		}
		if s.Fired == 0 {
			p.Evidence = fmt.Sprintf("never fired; %s %s, p50 %s against %s", word, FormatValue(extreme, a.Unit), FormatValue(d.P50, a.Unit), FormatValue(a.Threshold, a.Unit))
		} else {
			p.Evidence = fmt.Sprintf("fired %s for %s in all, %d within its for; %s %s, p50 %s against %s",
				times(s.Fired), shortDuration(seconds(s.FiringSeconds)), s.Flaps, word, FormatValue(extreme, a.Unit), FormatValue(d.P50, a.Unit), FormatValue(a.Threshold, a.Unit))
		}
	}
	return p
}

// times reads a count of fires: "once", "twice", "6 times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// lengthen doubles a `for`, to one minute at least.
func lengthen(d time.Duration) time.Duration {
	return max(time.Minute, 2*d)
}

// niceUp rounds v up to two significant digits (2345 → 2400, 0.873 → 0.88).
func niceUp(v float64) float64 {
	if v <= 0 {
		return v
	}
	mag := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Ceil(v/mag-1e-9) * mag
}

// niceDown rounds v down to two significant digits.
func niceDown(v float64) float64 {
	if v <= 0 {
		return 0
	}
	mag := math.Pow(10, math.Floor(math.Log10(v))-1)
	return math.Floor(v/mag+1e-9) * mag
}

// FormatNumber writes a number as the thresholds table does: plain decimal,
// at most three decimals, no trailing zeros.
func FormatNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

// FormatValue writes a value in the table's unit, rounded for reading.
func FormatValue(v float64, unit string) string {
	s := strconv.FormatFloat(round3(v), 'f', -1, 64)
	switch unit {
	case "%":
		return s + "%"
	case "", "count", "score", "boolean":
		return s
	case "count/min":
		return s + "/min"
	}
	return s + " " + unit
}

// round3 keeps three significant digits, and whole numbers whole.
func round3(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 100 {
		return math.Round(v)
	}
	mag := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*mag) / mag
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// shortDuration reads like "1h5m" or "40s".
func shortDuration(d time.Duration) string {
	return model.Duration(d.Round(time.Second)).String()
}
