package discord

import (
	"strconv"

	"github.com/quantum-resonance/telemetry/alertmanager/channel"
)

// appendJSON appends m as encoding/json writes it (without HTML escaping),
// field by field instead of by reflection: the relay encodes a message for
// every notification.
func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if m.Content != "" {
		b = channel.AppendJSONStringField(b, "content", m.Content)
	}
	b = channel.AppendJSONArray(channel.AppendJSONField(b, "embeds"), m.Embeds, (*Embed).append)
	b = channel.AppendJSONField(b, "allowed_mentions")
	b = append(b, '{')
	b = channel.AppendJSONStrings(channel.AppendJSONField(b, "parse"), m.AllowedMentions.Parse)
	if len(m.AllowedMentions.Roles) > 0 {
		b = channel.AppendJSONStrings(channel.AppendJSONField(b, "roles"), m.AllowedMentions.Roles)
	}
	return append(b, '}', '}')
}

func (e *Embed) append(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "title", e.Title)
	if e.URL != "" {
		b = channel.AppendJSONStringField(b, "url", e.URL)
	}
	if e.Description != "" {
		b = channel.AppendJSONStringField(b, "description", e.Description)
	}
	b = strconv.AppendInt(channel.AppendJSONField(b, "color"), int64(e.Color), 10)
	if e.Timestamp != "" {
		b = channel.AppendJSONStringField(b, "timestamp", e.Timestamp)
	}
	if len(e.Fields) > 0 {
		b = channel.AppendJSONArray(channel.AppendJSONField(b, "fields"), e.Fields, (*Field).append)
	}
	return append(b, '}')
}

func (f *Field) append(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "name", f.Name)
	b = channel.AppendJSONStringField(b, "value", f.Value)
	b = strconv.AppendBool(channel.AppendJSONField(b, "inline"), f.Inline)
	return append(b, '}')
}
