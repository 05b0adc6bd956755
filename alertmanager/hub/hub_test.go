package hub_test

import (
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/alertmanager/hub"
)

// groupKey is Alertmanager's key of the plan alert's group.
const groupKey = `{}:{alertname="ErrorRateHigh"}`

func events(t testing.TB, data *template.Data) ([]format.Message, []map[string]any) {
	t.Helper()
	return formattest.Format[map[string]any](t, formatter(t), data, groupKey)
}

func formatter(t testing.TB) *hub.Formatter {
	return formattest.New(t, hub.New, hub.Options{Defaults: formattest.Defaults})
}

func TestGolden(t *testing.T) {
	formattest.GoldenFormat(t, formatter(t), groupKey, nil)
}

// The plan's example event, field for field, then the alert's identity.
func TestSeedEvent(t *testing.T) {
	msgs, _ := events(t, formattest.PlanData())
	plan := `{"event_type":"alert.triggered","severity":"critical","timestamp":"2025-12-11T01:54:16Z","metric":"error_rate","current_value":25,"threshold":5,"message":"Error rate exceeded threshold: 25 errors/min (threshold: 5)","metadata":{"service":"quantum-resonance-api","environment":"production","region":"us-east-1"},`
	identity := `"alertname":"ErrorRateHigh","fingerprint":"c2a5d1f1a3c3a0f7","labels":{"alertname":"ErrorRateHigh","instance":"app:8080","job":"resonance","metric":"error_rate","severity":"critical"},"starts_at":"2025-12-11T01:54:16Z","generator_url":"http://prometheus:9090/graph?g0.expr=resonance%3Aerror_rate%3Aper_minute+%3E+5","silence_url":"http://alertmanager:9093/#/silences/new?filter=%7Balertname%3D%22ErrorRateHigh%22%2Cinstance%3D%22app%3A8080%22%2Cjob%3D%22resonance%22%2Cmetric%3D%22error_rate%22%2Cseverity%3D%22critical%22%7D","group_key":"{}:{alertname=\"ErrorRateHigh\"}"}`
	if got := string(msgs[0].Body); got != plan+identity {
		t.Errorf("event\n got %s\nwant %s", got, plan+identity)
	}
}

// Alerts that differ only by instance, firing at the same instant, are as
// many events, each naming its instance; and the resolutions likewise.
func TestAlertsDifferingOnlyByInstanceAreDistinctEvents(t *testing.T) {
	firing := formattest.ByInstance(30)
	for _, data := range []*template.Data{firing, formattest.Resolve(firing, formattest.PlanTime.Add(12*time.Minute))} {
		msgs, evs := events(t, data)
		if len(msgs) != 30 {
			t.Fatalf("%d events, want 30", len(msgs))
		}
		bodies, ids, instances := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i, ev := range evs {
			bodies[string(msgs[i].Body)] = true
			ids[msgs[i].Alerts[0]] = true
			instances[ev["labels"].(map[string]any)["instance"].(string)] = true
			if ev["fingerprint"] != data.Alerts[i].Fingerprint || ev["alertname"] != "ErrorRateHigh" {
				t.Errorf("event %d: fingerprint %v alertname %v", i, ev["fingerprint"], ev["alertname"])
			}
		}
		if len(bodies) != 30 || len(ids) != 30 || len(instances) != 30 {
			t.Errorf("%s: %d distinct bodies, %d identities, %d instances; want 30 each", data.Status, len(bodies), len(ids), len(instances))
		}
	}
}

func TestResolvedUsesEndsAt(t *testing.T) {
	_, ev := events(t, formattest.PlanResolved())
	if ev[0]["event_type"] != "alert.resolved" || ev[0]["timestamp"] != formattest.PlanTime.Add(5*time.Minute).Format(time.RFC3339) {
		t.Errorf("resolved event = %v", ev[0])
	}
}

func TestValues(t *testing.T) {
	for _, c := range []struct {
		annotation string
		want       any
	}{
		{"25", 25.0},
		{"85%", 85.0},
		{"0.5", 0.5},
		{"unknown", nil},
		{"", nil},
	} {
		a := formattest.PlanAlert()
		a.Annotations["current_value"] = c.annotation
		_, ev := events(t, formattest.Group(a))
		got, present := ev[0]["current_value"]
		if !present || got != c.want {
			t.Errorf("current_value %q: got %v (present %v), want %v", c.annotation, got, present, c.want)
		}
	}
}

func TestOneEventPerAlert(t *testing.T) {
	for _, n := range []int{1, 30, 300} {
		msgs, ev := events(t, formattest.Many(n))
		if len(msgs) != n {
			t.Fatalf("%d alerts gave %d events", n, len(msgs))
		}
		if ev[n-1]["severity"] != []string{"critical", "warning", "info"}[(n-1)%3] {
			t.Errorf("last event out of order: %v", ev[n-1])
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	formattest.BenchmarkFormat(b, formatter(b))
}

// Odd text reaches the hub as written; a number that is not one is null,
// a tiny one a number, and a firing alert has no ends_at.
func TestOddText(t *testing.T) {
	evs := formattest.FormatOdd[map[string]any](t, formatter(t), groupKey, `odd <text> & \"quotes\"`)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	if v, ok := evs[1]["current_value"]; !ok || v != nil {
		t.Errorf(`current_value of "n/a": %v, %v; want null`, v, ok)
	}
	if v := evs[2]["threshold"]; v != 1e-9 {
		t.Errorf("threshold of 1e-9: %v", v)
	}
	if _, ok := evs[0]["ends_at"]; ok {
		t.Errorf("firing event with ends_at: %v", evs[0])
	}
}
