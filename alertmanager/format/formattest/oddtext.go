package formattest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// CheckBody fails t unless body is a channel's message as the relay
// writes it: one JSON object and nothing after it, valid UTF-8, with
// "<", ">" and "&" written as they are (the channels read "<url|text>"
// literally), and decoded into v.
func CheckBody(t testing.TB, body []byte, v any) {
	t.Helper()
	switch {
	case !json.Valid(body) || len(body) == 0 || body[0] != '{' || body[len(body)-1] != '}':
		t.Fatalf("not one JSON object: %q", body)
	case !utf8.Valid(body):
		t.Errorf("invalid UTF-8 written: %q", body)
	case bytes.Contains(body, []byte(`\u003c`)) || bytes.Contains(body, []byte(`\u003e`)) || bytes.Contains(body, []byte(`\u0026`)):
		t.Errorf("HTML escaped: %s", body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatal(err)
	}
}

// OddText is text no alert should carry but may: HTML, quotes and
// backslashes, control characters, invalid UTF-8, the separators
// JavaScript cannot hold in a string literal.
const OddText = "odd <text> & \"quotes\"\\ \x00\x1f\x7f\t\n\b\f \xff\xe2\x82 \u2028\u2029 ✓ 🚨"

// OddAlerts are three alerts whose text every encoder must escape: the
// second resolved, with OddText in its description and instance and no
// number in current_value; the third with invalid UTF-8 in a label, a tiny
// threshold and no source link.
func OddAlerts() *template.Data {
	data := Many(3)
	data.Alerts[1].Status = "resolved"
	data.Alerts[1].EndsAt = data.Alerts[1].StartsAt.Add(90 * time.Second)
	data.Alerts[1].Annotations["current_value"] = "n/a"
	data.Alerts[1].Annotations["description"] = OddText
	data.Alerts[1].Labels["instance"] = OddText
	data.Alerts[2].Labels["instance"] = "\xfe"
	data.Alerts[2].Annotations["threshold"] = "1e-9"
	data.Alerts[2].GeneratorURL = ""
	return data
}

// FormatOdd formats OddAlerts with f and checks every message with
// CheckBody, and that the messages hold each of want as bytes (the odd
// text as the channel should read it) and each invalid byte as U+FFFD.
func FormatOdd[T any](t testing.TB, f format.Formatter, groupKey string, want ...string) []T {
	t.Helper()
	msgs, out := Format[T](t, f, OddAlerts(), groupKey)
	var all []byte
	for _, m := range msgs {
		all = append(all, m.Body...)
	}
	for _, want := range append(want, `\ufffd\ufffd\ufffd`) {
		if !bytes.Contains(all, []byte(want)) {
			t.Errorf("no %s in the messages:\n%s", want, all)
		}
	}
	return out
}
