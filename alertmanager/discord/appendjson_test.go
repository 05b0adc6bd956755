package discord_test

import (
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/notify"
	"github.com/quantum-resonance/telemetry/alertmanager/notify/notifytest"
)

// A message is written as encoding/json writes it (without HTML escaping):
// every field, omitempty and null as the struct tags say, odd text escaped.
// The embeds come from the formatter, so a field it starts to fill but
// appendJSON does not write fails here.
func TestMessageJSONMatchesEncodingJSON(t *testing.T) {
	data := notifytest.OddAlerts()
	f, err := discord.New(discord.Options{Defaults: notify.Defaults{GrafanaURL: "https://grafana.example"}})
	if err != nil {
		t.Fatal(err)
	}
	var embeds []discord.Embed
	for _, a := range notify.Pointers(data) {
		e, err := f.Embed(data, a)
		if err != nil {
			t.Fatal(err)
		}
		embeds = append(embeds, e)
	}
	for _, m := range []discord.Message{
		{Content: "🚨 " + notifytest.OddText, Embeds: embeds, AllowedMentions: discord.AllowedMentions{Parse: []string{}, Roles: []string{"123"}}},
		{Embeds: []discord.Embed{{Title: "bare", Color: -1, Fields: []discord.Field{}}}, AllowedMentions: discord.AllowedMentions{Parse: []string{}, Roles: []string{}}},
		{}, // nil embeds and parse: null
	} {
		if got, want := string(notify.EncodeJSON(m.AppendJSON)), notifytest.EncodingJSON(t, m); got != want {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}
