package discord

import (
	"strconv"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
)

// appendJSON appends m as encoding/json writes it (without HTML escaping),
// field by field instead of by reflection: the relay encodes a message for
// every notification.
func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if m.Content != "" {
		b = notify.AppendJSONStringField(b, "content", m.Content)
	}
	b = notify.AppendJSONArray(notify.AppendJSONField(b, "embeds"), m.Embeds, (*Embed).append)
	b = notify.AppendJSONField(b, "allowed_mentions")
	b = append(b, '{')
	b = notify.AppendJSONStrings(notify.AppendJSONField(b, "parse"), m.AllowedMentions.Parse)
	if len(m.AllowedMentions.Roles) > 0 {
		b = notify.AppendJSONStrings(notify.AppendJSONField(b, "roles"), m.AllowedMentions.Roles)
	}
	return append(b, '}', '}')
}

func (e *Embed) append(b []byte) []byte {
	b = append(b, '{')
	b = notify.AppendJSONStringField(b, "title", e.Title)
	if e.URL != "" {
		b = notify.AppendJSONStringField(b, "url", e.URL)
	}
	if e.Description != "" {
		b = notify.AppendJSONStringField(b, "description", e.Description)
	}
	b = strconv.AppendInt(notify.AppendJSONField(b, "color"), int64(e.Color), 10)
	if e.Timestamp != "" {
		b = notify.AppendJSONStringField(b, "timestamp", e.Timestamp)
	}
	if len(e.Fields) > 0 {
		b = notify.AppendJSONArray(notify.AppendJSONField(b, "fields"), e.Fields, (*Field).append)
	}
	return append(b, '}')
}

func (f *Field) append(b []byte) []byte {
	b = append(b, '{')
	b = notify.AppendJSONStringField(b, "name", f.Name)
	b = notify.AppendJSONStringField(b, "value", f.Value)
	b = strconv.AppendBool(notify.AppendJSONField(b, "inline"), f.Inline)
	return append(b, '}')
}
