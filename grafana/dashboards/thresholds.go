package dashboards

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/quantum-resonance/telemetry/rules"
)

// Colours of a threshold step: the severity of the alert that fires past it.
const colorOK = "green"

var severityColors = map[rules.Severity]string{
	rules.Critical: "red",
	rules.Warning:  "orange",
	rules.Info:     "yellow",
}

// thresholds draws the alerts of one plan metric as a panel's threshold
// steps, in the unit of the panel's series (the alerts' base unit). Only the
// alerts whose threshold is written in one of planUnits are drawn:
// memory_usage has alerts in % and in MB, and a panel shows one of the two.
//
// It fails when no alert matches, so that renaming a metric or a unit in
// rules/thresholds.yml cannot silently leave a dashboard without its lines.
func thresholds(t *rules.Table, metric string, planUnits ...string) (*dashboard.ThresholdsConfigBuilder, error) {
	var alerts []rules.Alert
	for _, a := range t.Alerts {
		if a.Metric == metric && slices.Contains(planUnits, a.Unit) {
			alerts = append(alerts, a)
		}
	}
	if len(alerts) == 0 {
		return nil, fmt.Errorf("%s: no alert on metric %s in unit %s", t.Path, metric, strings.Join(planUnits, " or "))
	}
	steps, err := thresholdSteps(alerts)
	if err != nil {
		return nil, fmt.Errorf("%s: metric %s: %w", t.Path, metric, err)
	}
	return dashboard.NewThresholdsConfigBuilder().
		Mode(dashboard.ThresholdsModeAbsolute).
		Steps(steps), nil
}

// thresholdSteps turns alerts on one series into Grafana steps. A Grafana
// step colours every value at or above it, up to the next step; the first
// step has no value and colours everything below.
func thresholdSteps(alerts []rules.Alert) ([]dashboard.Threshold, error) {
	op := alerts[0].Op
	for _, a := range alerts[1:] {
		if a.Op != op {
			return nil, fmt.Errorf("alerts %s and %s compare in opposite directions (%s, %s): one panel cannot draw both", alerts[0].Name, a.Name, op, a.Op)
		}
	}
	sorted := slices.Clone(alerts)
	slices.SortFunc(sorted, func(a, b rules.Alert) int { return cmp.Compare(a.BaseThreshold, b.BaseThreshold) })

	switch op {
	case ">":
		return aboveSteps(sorted), nil
	case "<":
		return belowSteps(sorted), nil
	case "==":
		if len(sorted) != 1 || sorted[0].Unit != "boolean" {
			return nil, fmt.Errorf(`only one "==" alert on a boolean can be drawn, have %d`, len(sorted))
		}
		return booleanSteps(sorted[0]), nil
	}
	return nil, fmt.Errorf("alert %s: unknown op %q", alerts[0].Name, op)
}

// aboveSteps: green up to the lowest threshold, then each alert's colour from
// its own threshold up.
func aboveSteps(ascending []rules.Alert) []dashboard.Threshold {
	steps := []dashboard.Threshold{{Color: colorOK}}
	for _, a := range ascending {
		steps = append(steps, step(firstFiringValue(a), severityColors[a.Severity]))
	}
	return steps
}

// belowSteps: the lowest threshold's colour below it, each higher alert's
// colour from the threshold beneath it, green from the highest threshold up.
func belowSteps(ascending []rules.Alert) []dashboard.Threshold {
	steps := []dashboard.Threshold{{Color: severityColors[ascending[0].Severity]}}
	for i, a := range ascending {
		color := colorOK
		if i+1 < len(ascending) {
			color = severityColors[ascending[i+1].Severity]
		}
		steps = append(steps, step(a.BaseThreshold, color))
	}
	return steps
}

// booleanSteps colours the alerting one of the two values 0 and 1.
func booleanSteps(a rules.Alert) []dashboard.Threshold {
	alerting := severityColors[a.Severity]
	if a.BaseThreshold == 0 {
		return []dashboard.Threshold{{Color: alerting}, step(1, colorOK)}
	}
	return []dashboard.Threshold{{Color: colorOK}, step(1, alerting)}
}

// firstFiringValue is where a ">" alert's colour starts. Grafana colours a
// value equal to the step, the alert does not fire on it: for a continuous
// series the difference is invisible, but a count of 0 against "> 0" must
// stay green, so discrete series start at the next representable value.
func firstFiringValue(a rules.Alert) float64 {
	if a.Unit == "count" || a.Unit == "boolean" {
		return math.Nextafter(a.BaseThreshold, math.Inf(1))
	}
	return a.BaseThreshold
}

func step(value float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Value: &value, Color: color}
}
