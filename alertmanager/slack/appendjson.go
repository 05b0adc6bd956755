package slack

import "github.com/quantum-resonance/telemetry/alertmanager/notify"

// appendJSON appends m as encoding/json writes it (without HTML escaping),
// field by field instead of by reflection: the relay encodes a message for
// every notification.
func (m *Message) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = notify.AppendJSONStringField(b, "text", m.Text)
	b = notify.AppendJSONArray(notify.AppendJSONField(b, "blocks"), m.Blocks, (*Block).append)
	return append(b, '}')
}

func (bl *Block) append(b []byte) []byte {
	b = append(b, '{')
	b = notify.AppendJSONStringField(b, "type", bl.Type)
	if bl.Text != nil {
		b = bl.Text.append(notify.AppendJSONField(b, "text"))
	}
	if len(bl.Fields) > 0 {
		b = notify.AppendJSONArray(notify.AppendJSONField(b, "fields"), bl.Fields, (*Text).append)
	}
	return append(b, '}')
}

func (t *Text) append(b []byte) []byte {
	b = append(b, '{')
	b = notify.AppendJSONStringField(b, "type", t.Type)
	b = notify.AppendJSONStringField(b, "text", t.Text)
	return append(b, '}')
}
