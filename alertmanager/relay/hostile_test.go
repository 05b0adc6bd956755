package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// hostileData is a notification of three alerts whose current_value and
// threshold are 80,000 digits and whose description is a megabyte: what
// one crafted alert rule or a broken template sends.
func hostileData() *template.Data {
	data := formattest.Many(3)
	for i := range data.Alerts {
		a := data.Alerts[i].Annotations
		a["current_value"] = strings.Repeat("9", 80_000)
		a["threshold"] = strings.Repeat("7", 80_000)
		a["description"] = strings.Repeat("[x](https://evil.example) ", 40_000)
	}
	return data
}

// Every annotation is cut to what the channel can show before any work is
// done on it: each channel gets messages within its limits, promptly, and
// the cut is counted once.
func TestHostileAnnotationsAreCutBeforeFormatting(t *testing.T) {
	h, sinks := everyChannel(t)
	body, _ := json.Marshal(notificationOf(hostileData(), `{}:{alertname="Hostile"}`))
	for _, target := range []string{"discord", "slack", "hub"} {
		code, r := h.post(t, target, body)
		if code != http.StatusOK || r.Failed+r.Rejected != 0 {
			t.Fatalf("%s: %d %+v", target, code, r)
		}
	}
	for name, s := range sinks {
		for i, m := range s.Accepted() {
			if len(m) > 64<<10 {
				t.Errorf("%s message %d is %d bytes: the annotations were not cut", name, i, len(m))
			}
		}
	}
	// Three annotations of three alerts, cut for every channel.
	if got := testutil.ToFloat64(h.relay.metrics.truncated.WithLabelValues("hub", "annotation")); got != 9 {
		t.Errorf("hub: %g annotations counted as cut, want 9", got)
	}
}

// BenchmarkHostileAnnotations is the relay's cost of the notification of
// hostileData, from the POST to the answer (one channel, a local sink).
func BenchmarkHostileAnnotations(b *testing.B) {
	sink := formattest.NewSink(formattest.DiscordLimits)
	h := newHarness(b, fastDelivery+`
targets:
  - {name: discord, type: discord, url: "`+sinkServer(b, sink).URL+`/api/webhooks/1/token"}
`, nil)
	data := hostileData()
	i := 0
	for b.Loop() {
		i++
		// A new group each time: no retry served from the dedup memory.
		body, _ := json.Marshal(notificationOf(data, fmt.Sprintf("Hostile-%d", i)))
		if code, r := h.post(b, "discord", body); code != http.StatusOK {
			b.Fatalf("%d %+v", code, r)
		}
	}
}
