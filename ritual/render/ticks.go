package render

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
)

// timeSteps are the distances between labelled ticks of a time axis, each
// with the distance between its unlabelled ticks, shortest first.
var timeSteps = []struct{ major, minor time.Duration }{
	{time.Second, 0},
	{2 * time.Second, time.Second},
	{5 * time.Second, time.Second},
	{10 * time.Second, 5 * time.Second},
	{15 * time.Second, 5 * time.Second},
	{30 * time.Second, 10 * time.Second},
	{time.Minute, 15 * time.Second},
	{2 * time.Minute, time.Minute},
	{5 * time.Minute, time.Minute},
	{10 * time.Minute, 5 * time.Minute},
	{15 * time.Minute, 5 * time.Minute},
	{30 * time.Minute, 10 * time.Minute},
	{time.Hour, 15 * time.Minute},
	{2 * time.Hour, time.Hour},
	{3 * time.Hour, time.Hour},
	{6 * time.Hour, time.Hour},
	{12 * time.Hour, 3 * time.Hour},
	{24 * time.Hour, 6 * time.Hour},
	{48 * time.Hour, 24 * time.Hour},
	{7 * 24 * time.Hour, 24 * time.Hour},
}

// maxTimeSteps is how many steps between labels a time axis holds at
// most: nine labels across the chart's width.
const maxTimeSteps = 8

// TimeTicks labels a time axis of Unix seconds in loc with a step chosen
// from its span: seconds ("14:02:30") for a few minutes, minutes and hours
// ("14:05") up to a day or two, days ("Mon 23") for a week. Within a day,
// the tick at midnight is labelled with the day.
func TimeTicks(loc *time.Location) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		span := time.Duration((hi - lo) * float64(time.Second))
		step := timeSteps[len(timeSteps)-1]
		for _, s := range timeSteps {
			if span <= maxTimeSteps*s.major {
				step = s
				break
			}
		}
		var ticks []plot.Tick
		for _, t := range timesIn(lo, hi, step.major, loc) {
			ticks = append(ticks, plot.Tick{Value: float64(t.Unix()), Label: timeLabel(t, step.major)})
		}
		if step.minor > 0 {
			for _, t := range timesIn(lo, hi, step.minor, loc) {
				if !onStep(t, step.major, loc) {
					ticks = append(ticks, plot.Tick{Value: float64(t.Unix())})
				}
			}
		}
		return ticks
	})
}

// timesIn are the times within [lo, hi] on step, counted from local
// midnight (whole days: every step-th day since the Unix epoch, a week
// from Monday).
func timesIn(lo, hi float64, step time.Duration, loc *time.Location) []time.Time {
	first := time.Unix(int64(math.Floor(lo)), 0).In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	var out []time.Time
	if step >= 24*time.Hour {
		for t := day; float64(t.Unix()) <= hi; t = t.AddDate(0, 0, 1) {
			if float64(t.Unix()) >= lo && onStep(t, step, loc) {
				out = append(out, t)
			}
		}
		return out
	}
	t := day.Add(first.Sub(day).Truncate(step))
	for ; float64(t.Unix()) <= hi; t = t.Add(step) {
		if float64(t.Unix()) >= lo {
			out = append(out, t)
		}
	}
	return out
}

// onStep says whether t is one of step's times.
func onStep(t time.Time, step time.Duration, loc *time.Location) bool {
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	if step < 24*time.Hour {
		return t.Sub(day)%step == 0
	}
	if !t.Equal(day) {
		return false
	}
	days := int(step / (24 * time.Hour))
	if days == 7 {
		return t.Weekday() == time.Monday
	}
	// Days since the epoch, counted in the time zone's calendar.
	n := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
	return n%int64(days) == 0
}

func timeLabel(t time.Time, step time.Duration) string {
	midnight := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0
	switch {
	case step >= 24*time.Hour || midnight && step >= time.Hour:
		return t.Format("Mon 2")
	case step < time.Minute:
		return t.Format("15:04:05")
	}
	return t.Format("15:04")
}

// ValueTicks labels a value axis in unit with round steps and no more
// digits than the step needs: "50", "2.5", "50 %", "500 ms", or "1.5 s"
// once the axis reaches a second.
func ValueTicks(unit string) plot.Ticker {
	return plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		step := niceStep(hi - lo)
		format := func(v float64) string { return FormatTick(v, step, unit) }
		if unit == "ms" && hi >= 1000 {
			format = func(v float64) string { return FormatTick(v/1000, step/1000, "s") }
		}
		var ticks []plot.Tick
		first := math.Ceil(lo/step-1e-9) * step
		for i := 0; ; i++ {
			v := first + float64(i)*step
			if v > hi+step*1e-9 {
				break
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: format(v)})
			for j := 1; j < 5; j++ {
				if m := v + float64(j)*step/5; m <= hi {
					ticks = append(ticks, plot.Tick{Value: m})
				}
			}
		}
		return ticks
	})
}

// niceStep is a round distance (1, 2, 2.5 or 5 times a power of ten)
// that cuts span into four to ten parts.
func niceStep(span float64) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// FormatTick writes v with the decimals step needs, trailing zeros
// dropped, and unit after it.
func FormatTick(v, step float64, unit string) string {
	decimals := 0
	for d := step; decimals < 6 && math.Abs(d-math.Round(d)) > 1e-9*math.Max(1, math.Abs(d)); d *= 10 {
		decimals++
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	switch unit {
	case "", "count", "score", "boolean":
		return s
	case "count/min":
		return s + "/min"
	}
	return s + " " + unit
}
