package relay

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// decodeWebhook reads what encoding/json reads from Alertmanager's bodies,
// and refuses what it refuses.
func TestDecodeWebhookMatchesEncodingJSON(t *testing.T) {
	generated, _ := json.Marshal(notificationOf(formattest.Many(30), `{}:{alertname="x"}`))
	valid := map[string]string{
		"firing fixture":   string(formattest.FiringBody),
		"resolved fixture": string(formattest.ResolvedBody),
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

// FuzzDecodeWebhook: no input crashes the decoder, it accepts what
// json.Unmarshal accepts and nothing else, and reads the same.
func FuzzDecodeWebhook(f *testing.F) {
	for _, body := range []string{
		string(formattest.FiringBody), string(formattest.ResolvedBody),
		`{"version":"4","alerts":[{"status":"firing","labels":{"a":"\u00fc"},"startsAt":"2025-12-11T01:54:16Z"}]}`,
		`{"alerts":[{"labels":null}],"x":[1,{"y":"z"}]}`,
		`{"version":"4","groupKey":"{}:{a=\"\u00fc\"}","truncatedAlerts":12,"alerts":[{"status":"firing","labels":{"k":"v","e":"tab\tx"},"annotations":null,"startsAt":"2025-12-11T01:54:16.5+01:00","endsAt":null}]}`,
		` { "version" : "4" , "alerts" : [ ] , "groupLabels" : { } } `,
		`{"version":"4","version":"5"}`, `{"alerts":[{"labels":{"a":"1","a":"2"}}]}`, `{"Version":"4"}`,
		`{"truncatedAlerts":01}`, `{"truncatedAlerts":1.5}`, `{"truncatedAlerts":18446744073709551616}`,
		`{"groupKey":"\x"}`, `{"groupKey":"a` + "\x01" + `"}`, `{"version":"4"} x`, `{"version":"4"} `, `{"alerts":null}`,
		`{"alerts":[{"startsAt":"yesterday"}]}`, `{"labels":nul}`, `{"version":"\xff"}`, ``, `  `,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want notification
		err := decodeWebhook(body, &got)
		wantErr := json.Unmarshal(body, &want)
		switch {
		case err == nil && wantErr != nil:
			t.Fatalf("accepted what encoding/json refuses (%v): %q", wantErr, body)
		case err != nil && wantErr == nil:
			t.Fatalf("refused what encoding/json accepts (%v): %q", err, body)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Errorf("%q:\n got %+v\nwant %+v", body, got, want)
		}
	})
}

// The decoder's errors name the field or the byte offset.
func TestDecodeWebhookErrors(t *testing.T) {
	for body, want := range map[string]string{
		`hello`:                                 "invalid character 'h' looking for beginning of value at byte 1",
		`{"version":"4"`:                        "unexpected end of JSON input at byte 14",
		``:                                      "unexpected end of JSON input at byte 0",
		`{"version":4}`:                         `"version": number where a string belongs, at byte 12`,
		`{"alerts":"x"}`:                        `"alerts": string where an array belongs, at byte 13`,
		`{"alerts":[{"labels":[]}]}`:            `"alerts.labels": array where an object belongs, at byte 22`,
		`{"alerts":[{"startsAt":"yesterday"}]}`: `startsAt or endsAt: "yesterday" is not an RFC 3339 time`,
		`{"truncatedAlerts":-1}`:                `"truncatedAlerts": number -1 where a non-negative integer belongs, at byte 21`,
		`{"version":"4"} {}`:                    "data after the JSON object",
	} {
		var n notification
		if err := decodeWebhook([]byte(body), &n); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", body, err, want)
		}
	}
}
