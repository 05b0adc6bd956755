package relay

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/channel/channeltest"
)

// A 503 with Retry-After (a channel behind maintenance, a proxy shedding
// load) is retried after the delay it names, not after the backoff's few
// milliseconds; Discord's X-RateLimit-Reset-After on a 5xx describes its
// bucket, not the outage, and is not a delay.
func TestServerErrorHonoursRetryAfter(t *testing.T) {
	for _, c := range []struct {
		name, typ, path string
		header          map[string]string
		want            time.Duration
	}{
		{"hub, Retry-After", "http", "", map[string]string{"Retry-After": "0.4"}, 400 * time.Millisecond},
		{"discord, bucket headers only", "discord", "/api/v10/webhooks/1/tok", map[string]string{"X-RateLimit-Reset-After": "3"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := channeltest.NewSink(nil)
			sink.Script(channeltest.Reply{Status: 503, Header: c.header, Body: "down for maintenance"})
			h := newHarness(t, `
delivery: {deadline: 5s, initial_backoff: 5ms, max_backoff: 20ms}
targets: [{name: t, type: `+c.typ+`, url: "`+sinkServer(t, sink).URL+c.path+`"}]
`, nil)
			start := time.Now()
			code, r := h.post(t, "t", channeltest.FiringBody)
			took := time.Since(start)
			if code != 200 || r.Delivered != 1 {
				t.Errorf("%d %+v", code, r)
			}
			if took < c.want || took > c.want+time.Second {
				t.Errorf("delivered after %s, want about %s", took, c.want)
			}
			if got := testutil.ToFloat64(h.relay.metrics.attempts.WithLabelValues("t", resultServerError)); got != 1 {
				t.Errorf("server_error attempts = %v", got)
			}
		})
	}
}
