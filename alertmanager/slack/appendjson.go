package slack

import "github.com/quantum-resonance/telemetry/alertmanager/channel"

// appendJSON appends m as encoding/json writes it (without HTML escaping),
// field by field instead of by reflection: the relay encodes a message for
// every notification.
func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "text", m.Text)
	b = channel.AppendJSONArray(channel.AppendJSONField(b, "blocks"), m.Blocks, (*Block).append)
	return append(b, '}')
}

func (bl *Block) append(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "type", bl.Type)
	if bl.Text != nil {
		b = bl.Text.append(channel.AppendJSONField(b, "text"))
	}
	if len(bl.Fields) > 0 {
		b = channel.AppendJSONArray(channel.AppendJSONField(b, "fields"), bl.Fields, (*Text).append)
	}
	return append(b, '}')
}

func (t *Text) append(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "type", t.Type)
	b = channel.AppendJSONStringField(b, "text", t.Text)
	return append(b, '}')
}
