package relay

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/channel/channeltest"
)

// decodeWebhook reads what encoding/json reads from Alertmanager's bodies,
// and refuses what it refuses.
func TestDecodeWebhookMatchesEncodingJSON(t *testing.T) {
	generated, _ := json.Marshal(notificationOf(channeltest.Many(30), `{}:{alertname="x"}`))
	valid := map[string]string{
		"firing fixture":   string(channeltest.FiringBody),
		"resolved fixture": string(channeltest.ResolvedBody),
		"generated":        string(generated),
		"escapes, unknown fields, nulls": `{"version":"4","groupKey":"{}:{a=\"\\u00fc\"}","truncatedAlerts":2,"extra":{"x":[1,2,{"y":null}]},
			"groupLabels":null,"commonLabels":{},"alerts":[{"status":"firing","labels":{"k":"tab\there 🚨 \ud83d\udea8"},
			"annotations":null,"startsAt":"2025-12-11T01:54:16.123456789+01:00","endsAt":"0001-01-01T00:00:00Z","new":true}]}`,
	}
	for name, body := range valid {
		var want, got notification
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%s: encoding/json: %v", name, err)
		}
		if err := decodeWebhook([]byte(body), &got); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i := range want.Alerts { // the same instant, whatever the location pointer
			if want.Alerts[i].StartsAt.Equal(got.Alerts[i].StartsAt) {
				got.Alerts[i].StartsAt = want.Alerts[i].StartsAt
			}
			if want.Alerts[i].EndsAt.Equal(got.Alerts[i].EndsAt) {
				got.Alerts[i].EndsAt = want.Alerts[i].EndsAt
			}
		}
		if !reflect.DeepEqual(want, got) {
			wantJSON, _ := json.Marshal(want)
			gotJSON, _ := json.Marshal(got)
			t.Errorf("%s:\n got %s\nwant %s", name, gotJSON, wantJSON)
		}
	}
	for _, body := range []string{
		`hello`, `{"version":"4"`, `{"version":4}`, `{"alerts":"x"}`, `{"alerts":[{"labels":[]}]}`,
		`{"alerts":[{"startsAt":"yesterday"}]}`, `{"alerts":[{"labels":{"a":1}}]}`, `{"version":"4"} {}`, `[]`,
	} {
		var n notification
		if json.Unmarshal([]byte(body), &n) == nil {
			t.Fatalf("encoding/json accepts %s", body)
		}
		if err := decodeWebhook([]byte(body), &n); err == nil {
			t.Errorf("%s: accepted", body)
		}
	}
}

// FuzzDecodeWebhook: no input crashes the decoder, and what it accepts
// encoding/json accepts too.
func FuzzDecodeWebhook(f *testing.F) {
	f.Add(channeltest.FiringBody)
	f.Add(channeltest.ResolvedBody)
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"a":"\u00fc"},"startsAt":"2025-12-11T01:54:16Z"}]}`))
	f.Add([]byte(`{"alerts":[{"labels":null}],"x":[1,{"y":"z"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want notification
		if decodeWebhook(body, &got) == nil {
			if err := json.Unmarshal(body, &want); err != nil {
				t.Errorf("accepted what encoding/json refuses (%v): %q", err, body)
			}
		}
	})
}
