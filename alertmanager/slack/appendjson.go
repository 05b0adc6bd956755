package slack

import "github.com/quantum-resonance/telemetry/alertmanager/channel"

// appendJSON appends m as encoding/json writes it (without HTML escaping),
// field by field instead of by reflection: the relay encodes a message for
// every notification.
func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "text", m.Text)
	b = channel.AppendJSONField(b, "blocks")
	if m.Blocks == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i, bl := range m.Blocks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = channel.AppendJSONStringField(b, "type", bl.Type)
		if bl.Text != nil {
			b = bl.Text.appendJSON(channel.AppendJSONField(b, "text"))
		}
		if len(bl.Fields) > 0 {
			b = channel.AppendJSONField(b, "fields")
			b = append(b, '[')
			for j := range bl.Fields {
				if j > 0 {
					b = append(b, ',')
				}
				b = bl.Fields[j].appendJSON(b)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']', '}')
}

func (t *Text) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = channel.AppendJSONStringField(b, "type", t.Type)
	b = channel.AppendJSONStringField(b, "text", t.Text)
	return append(b, '}')
}
