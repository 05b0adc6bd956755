package relay

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// A text cut to the channel's limit is counted by target and payload field
// once its message is delivered, and logged at debug once per message; a
// notification that fits counts nothing, and a retry that finds the message
// delivered does not count it again. Every field a target may cut is
// exposed from 0. An annotation longer than the channel's longest text is
// cut before formatting (field annotation); the hub's bound is far above
// Discord's and Slack's.
// everyChannel is a relay with a discord, a slack and a hub target, each
// posting to a fake of its channel that knows its limits.
func everyChannel(t *testing.T) (*harness, map[string]*formattest.Sink) {
	sinks := map[string]*formattest.Sink{
		"discord": formattest.NewSink(formattest.DiscordLimits),
		"slack":   formattest.NewSink(formattest.SlackLimits),
		"hub":     formattest.NewSink(nil),
	}
	h := newHarness(t, fastDelivery+`
targets:
  - {name: discord, type: discord, url: "`+sinkServer(t, sinks["discord"]).URL+`/api/webhooks/1/token"}
  - {name: slack, type: slack, url: "`+sinkServer(t, sinks["slack"]).URL+`/services/T/B/X"}
  - {name: hub, type: hub, url: "`+sinkServer(t, sinks["hub"]).URL+`/api/alerts"}
`, nil)
	return h, sinks
}

func TestTruncationIsCountedByTargetAndField(t *testing.T) {
	h, _ := everyChannel(t)
	const cutLog = "Message text cut"
	// compare checks the counters, the fields no test case cuts at 0.
	compare := func(when string, discordAnnotations, slackBlocks, slackAnnotations int) {
		t.Helper()
		want := fmt.Sprintf(`
# HELP resonance_relay_truncated_total Texts of delivered messages cut to the channel's limits, by target and payload field; unsafe_link counts links left out because their URL is not an http(s) URL; annotation counts annotations cut to the channel's longest text before formatting.
# TYPE resonance_relay_truncated_total counter
resonance_relay_truncated_total{field="annotation",target="discord"} %d
resonance_relay_truncated_total{field="annotation",target="hub"} 0
resonance_relay_truncated_total{field="annotation",target="slack"} %d
resonance_relay_truncated_total{field="blocks",target="slack"} %d
resonance_relay_truncated_total{field="content",target="discord"} 0
resonance_relay_truncated_total{field="embed.description",target="discord"} 0
resonance_relay_truncated_total{field="embed.fields",target="discord"} 0
resonance_relay_truncated_total{field="embed.title",target="discord"} 0
resonance_relay_truncated_total{field="text",target="slack"} 0
resonance_relay_truncated_total{field="unsafe_link",target="discord"} 0
resonance_relay_truncated_total{field="unsafe_link",target="slack"} 0
`, discordAnnotations, slackAnnotations, slackBlocks)
		if err := testutil.GatherAndCompare(h.reg, strings.NewReader(want), "resonance_relay_truncated_total"); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}

	for _, target := range []string{"discord", "slack", "hub"} {
		if code, r := h.post(t, target, formattest.FiringBody); code != http.StatusOK || r.Delivered != 1 {
			t.Fatalf("%s: %d %+v", target, code, r)
		}
	}
	compare("short notification", 0, 0, 0)
	if strings.Contains(h.logs.String(), cutLog) {
		t.Errorf("a notification that fits logged a cut:\n%s", h.logs.String())
	}

	data := formattest.PlanData()
	data.Alerts[0].Annotations["description"] = strings.Repeat("ü", discord.MaxDescription+1)
	long, _ := json.Marshal(notificationOf(data, `{}:{alertname="ErrorRateHigh"}`))
	for range 2 { // the second is Alertmanager's retry: already delivered
		for _, target := range []string{"discord", "slack", "hub"} {
			if code, r := h.post(t, target, long); code != http.StatusOK || r.Delivered+r.Duplicate != 1 {
				t.Fatalf("%s: %d %+v", target, code, r)
			}
		}
	}
	compare("long description", 1, 1, 1)
	var cuts []string
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if strings.Contains(line, cutLog) {
			cuts = append(cuts, line)
		}
	}
	if len(cuts) != 2 {
		t.Fatalf("cut logged %d times, want once per delivered message (2):\n%s", len(cuts), strings.Join(cuts, "\n"))
	}
	for i, want := range [][]string{{"level=DEBUG", "target=discord", "fields=[annotation]"}, {"level=DEBUG", "target=slack", `fields="[blocks annotation]"`}} {
		for _, w := range want {
			if !strings.Contains(cuts[i], w) {
				t.Errorf("log line %q lacks %q", cuts[i], w)
			}
		}
	}
}
