package discord_test

import (
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/channel"
	"github.com/quantum-resonance/telemetry/alertmanager/channel/channeltest"
	"github.com/quantum-resonance/telemetry/alertmanager/discord"
)

// A message is written as encoding/json writes it (without HTML escaping):
// every field, omitempty and null as the struct tags say, odd text escaped.
// The embeds come from the formatter, so a field it starts to fill but
// appendJSON does not write fails here.
func TestMessageJSONMatchesEncodingJSON(t *testing.T) {
	data := channeltest.OddAlerts()
	f, err := discord.New(discord.Options{Defaults: channel.Defaults{GrafanaURL: "https://grafana.example"}})
	if err != nil {
		t.Fatal(err)
	}
	var embeds []discord.Embed
	for _, a := range channel.Pointers(data) {
		e, err := f.Embed(data, a)
		if err != nil {
			t.Fatal(err)
		}
		embeds = append(embeds, e)
	}
	for _, m := range []discord.Message{
		{Content: "🚨 " + channeltest.OddText, Embeds: embeds, AllowedMentions: discord.AllowedMentions{Parse: []string{}, Roles: []string{"123"}}},
		{Embeds: []discord.Embed{{Title: "bare", Color: -1, Fields: []discord.Field{}}}, AllowedMentions: discord.AllowedMentions{Parse: []string{}, Roles: []string{}}},
		{}, // nil embeds and parse: null
	} {
		if got, want := string(channel.EncodeJSON(m.AppendJSON)), channeltest.EncodingJSON(t, m); got != want {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}
