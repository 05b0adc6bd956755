package hub

import (
	"math"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
	"github.com/quantum-resonance/telemetry/alertmanager/notify/notifytest"
)

// An event is written as encoding/json writes it (without HTML escaping):
// every field, omitempty and null as the struct tags say, labels sorted,
// odd text escaped. The events come from the formatter, so a field it
// starts to fill but appendJSON does not write fails here.
func TestEventJSONMatchesEncodingJSON(t *testing.T) {
	data := notifytest.OddAlerts()
	f := &Formatter{opts: Options{Defaults: notify.Defaults{Service: "svc", Environment: "prod", Region: "eu", GrafanaURL: "https://grafana.example"}}}
	var events []Event
	for _, a := range notify.Pointers(data) {
		ev, err := f.event(data, a, `{}:{alertname="ErrorRateHigh"}`)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	events = append(events, Event{}) // nil labels, no number, every omitempty field empty
	for _, ev := range events {
		if !ev.finite() {
			t.Fatalf("event %+v not finite", ev)
		}
		got := notify.EncodeJSON(ev.appendJSON)
		if want := notifytest.EncodingJSON(t, ev); string(got) != want {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}

	inf, nan := math.Inf(1), math.NaN()
	if (&Event{Threshold: &inf}).finite() || (&Event{CurrentValue: &nan}).finite() {
		t.Error("an event with an infinite or NaN number is finite; encoding/json refuses it")
	}
}
