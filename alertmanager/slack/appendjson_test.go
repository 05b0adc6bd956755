package slack_test

import (
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
	"github.com/quantum-resonance/telemetry/alertmanager/notify/notifytest"
	"github.com/quantum-resonance/telemetry/alertmanager/slack"
)

// A message is written as encoding/json writes it (without HTML escaping):
// every field, omitempty and null as the struct tags say, odd text escaped.
// The blocks come from the formatter, so a field it starts to fill but
// appendJSON does not write fails here.
func TestMessageJSONMatchesEncodingJSON(t *testing.T) {
	data := notifytest.OddAlerts()
	f, err := slack.New(slack.Options{Defaults: notify.Defaults{GrafanaURL: "https://grafana.example"}})
	if err != nil {
		t.Fatal(err)
	}
	var blocks []slack.Block
	for _, a := range notify.Pointers(data) {
		b, err := f.Blocks(data, a)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b...)
	}
	for _, m := range []slack.Message{
		{Text: notifytest.OddText, Blocks: blocks},
		{Blocks: []slack.Block{{Type: "divider", Fields: []slack.Text{}}}},
		{}, // nil blocks: null
	} {
		if got, want := string(notify.EncodeJSON(m.AppendJSON)), notifytest.EncodingJSON(t, m); got != want {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}
