package heartbeat

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// A real Watchdog notification from Alertmanager becomes one ping, and the
// next repeat of the same group a different one (not a duplicate).
func TestOnePingPerNotification(t *testing.T) {
	var data template.Data
	raw, err := os.ReadFile("testdata/watchdog.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	f := &Formatter{now: func() time.Time { return at }}
	msgs, err := f.Format(t.Context(), &data, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || len(msgs[0].Alerts) != 1 {
		t.Fatalf("got %d messages (%+v), want one ping for one alert", len(msgs), msgs)
	}
	if want := `{"status":"firing","alerts":1,"receiver":"heartbeat","sent_at":"2026-11-27T04:00:00Z"}`; string(msgs[0].Body) != want {
		t.Errorf("body %s, want %s", msgs[0].Body, want)
	}
	at = at.Add(time.Minute)
	again, _ := f.Format(t.Context(), &data, "")
	if again[0].Alerts[0] == msgs[0].Alerts[0] {
		t.Error("the repeat a minute later has the same identity: the relay would drop it as already delivered")
	}
}
