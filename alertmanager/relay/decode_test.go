package relay

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/notify/notifytest"
)

// decodeWebhook reads what encoding/json reads from Alertmanager's bodies,
// and refuses what it refuses.
func TestDecodeWebhookMatchesEncodingJSON(t *testing.T) {
	generated, _ := json.Marshal(notificationOf(notifytest.Many(30), `{}:{alertname="x"}`))
	valid := map[string]string{
		"firing fixture":   string(notifytest.FiringBody),
		"resolved fixture": string(notifytest.ResolvedBody),
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
	f.Add(notifytest.FiringBody)
	f.Add(notifytest.ResolvedBody)
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

// FuzzReadPlainWebhook: what the plain reader accepts, jsoniter's decoder
// accepts too and reads the same; Alertmanager's own bodies take the plain
// path.
func FuzzReadPlainWebhook(f *testing.F) {
	for _, body := range [][]byte{notifytest.FiringBody, notifytest.ResolvedBody} {
		var n notification
		if !readPlainWebhook(body, &n) {
			f.Fatalf("Alertmanager's body not read by the plain reader: %s", body)
		}
		f.Add(body)
	}
	for _, body := range []string{
		`{"version":"4","groupKey":"{}:{a=\"\u00fc\"}","truncatedAlerts":12,"alerts":[{"status":"firing","labels":{"k":"v","e":"tab\tx"},"annotations":null,"startsAt":"2025-12-11T01:54:16.5+01:00","endsAt":null}]}`,
		` { "version" : "4" , "alerts" : [ ] , "groupLabels" : { } } `,
		`{"version":"4","version":"5"}`, `{"alerts":[{"labels":{"a":"1","a":"2"}}]}`, `{"Version":"4"}`,
		`{"truncatedAlerts":01}`, `{"truncatedAlerts":1.5}`, `{"truncatedAlerts":18446744073709551616}`,
		`{"groupKey":"\x"}`, `{"groupKey":"a` + "\x01" + `"}`, `{"version":"4"} x`, `{"alerts":null}`,
		`{"alerts":[{"startsAt":"yesterday"}]}`, `{"labels":nul}`, `{"version":"\xff"}`,
	} {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var plain, iter notification
		if !readPlainWebhook(body, &plain) {
			return
		}
		if err := decodeWebhookIter(body, &iter); err != nil {
			t.Fatalf("plain reader accepted what jsoniter's refuses (%v): %q", err, body)
		}
		for i := range min(len(iter.Alerts), len(plain.Alerts)) { // the same instant, whatever the location pointer
			if iter.Alerts[i].StartsAt.Equal(plain.Alerts[i].StartsAt) {
				plain.Alerts[i].StartsAt = iter.Alerts[i].StartsAt
			}
			if iter.Alerts[i].EndsAt.Equal(plain.Alerts[i].EndsAt) {
				plain.Alerts[i].EndsAt = iter.Alerts[i].EndsAt
			}
		}
		if !reflect.DeepEqual(plain, iter) {
			t.Errorf("%q:\nplain %+v\n iter %+v", body, plain, iter)
		}
	})
}
