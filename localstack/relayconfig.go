package localstack

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/cadence"
	"github.com/quantum-resonance/telemetry/rules"
)

// Standard loopback addresses of `make stack` (Options.StandardPorts).
const (
	StandardExporterURL     = "http://127.0.0.1:9861"
	StandardRelayURL        = "http://127.0.0.1:9862"
	StandardPrometheusURL   = "http://127.0.0.1:9090"
	StandardAlertmanagerURL = "http://127.0.0.1:9093"
)

// StandardRelayConfig is the relay config `make stack` runs on: every target
// alertmanager/alertmanager.yml routes to, with no channel URL needed. The
// discord, slack and hub targets append their channel's payload to
// relay.DefaultDeliveriesFile in the stack's directory; the heartbeat target
// (the Watchdog's route) pings the relay's own /-/healthy, a local sink that
// answers 200 while the relay is up. The rituals run on the shipped schedule,
// reading the stack's Prometheus and Alertmanager and the repository's
// thresholds table under root. The relay keeps its state in
// relay-messages.json in the stack's directory.
func StandardRelayConfig(root string) string {
	var b strings.Builder
	// A local stack is no production: its messages say so.
	b.WriteString("defaults: {service: quantum-resonance-api, environment: local}\n")
	// The message ids and the rituals' last successes outlive a restart of
	// the stack, as on a server.
	b.WriteString("delivery: {messages_file: relay-messages.json}\n")
	b.WriteString("targets:\n")
	for _, f := range []string{relay.FormatDiscord, relay.FormatSlack, relay.FormatHub} {
		fmt.Fprintf(&b, "  - {name: %s, type: file, path: %s, format: %s}\n", f, relay.DefaultDeliveriesFile, f)
	}
	fmt.Fprintf(&b, "  - {name: %s, type: %s, url: %q}\n", relay.FormatHeartbeat, relay.TypeHeartbeat, StandardRelayURL+"/-/healthy")
	fmt.Fprintf(&b, "rituals:\n  prometheus_url: %s\n  alertmanager_url: %s\n  thresholds_file: %q\n  schedule:\n",
		StandardPrometheusURL, StandardAlertmanagerURL, filepath.Join(root, rules.DefaultThresholdsPath))
	targets := strings.Join([]string{relay.FormatDiscord, relay.FormatSlack, relay.FormatHub}, ", ")
	for _, e := range cadence.Shipped {
		fmt.Fprintf(&b, "    - {ritual: %s, cron: %q, targets: [%s]}\n", e.Ritual, e.Cron, targets)
	}
	return b.String()
}
