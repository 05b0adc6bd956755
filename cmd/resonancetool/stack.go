package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/localstack"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
	"github.com/quantum-resonance/telemetry/rules"
)

func init() { register(setupStack) }

// setupStack adds "stack": the exporter, relay, Prometheus and Alertmanager
// on loopback with the shipped configs, until Ctrl-C. `make stack` builds
// the binaries first.
func setupStack(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("stack", "Run exporter, relay, Prometheus and Alertmanager on loopback with the shipped configs.")
	bin := cmd.Flag("bin", "Directory holding the built resonance-exporter and resonance-relay.").Default("bin").String()
	tools := cmd.Flag("tools", "Directory holding the pinned prometheus and alertmanager (scripts/tools.sh).").Default(".tools/bin").String()
	dir := cmd.Flag("dir", "Working directory for rendered configs, data and logs.").Default(".stack").String()
	cmd.Action(func(*kingpin.ParseContext) error {
		root, err := localstack.FindRoot()
		if err != nil {
			return err
		}
		abs := func(p string) string {
			if filepath.IsAbs(p) {
				return p
			}
			return filepath.Join(root, p)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		s, err := localstack.Start(ctx, localstack.Options{
			Root: root, Dir: abs(*dir), Bin: abs(*bin), ToolsBin: abs(*tools),
			StandardPorts: true,
			RelayConfig:   stackRelayConfig(root),
		})
		if err != nil {
			return err
		}
		defer s.Stop()
		fmt.Fprintf(stdout, `Quantum Resonance stack is up (Ctrl-C stops it):
  exporter      %s/metrics   (push: %s/api/v1/logs)
  relay         %s
  prometheus    %s/alerts
  alertmanager  %s
Relay deliveries and ritual reports (no channel URLs configured): %s
Logs: %s
`, s.ExporterURL, s.ExporterURL, s.RelayURL, s.PrometheusURL, s.AlertmanagerURLs[0],
			filepath.Join(abs(*dir), "relay-deliveries.jsonl"), filepath.Join(abs(*dir), "logs"))
		<-ctx.Done()
		fmt.Fprintln(stdout, "Stopping the stack…")
		return nil
	})
}

// stackRelayConfig is the relay's built-in targets (each channel's payload
// appended to relay-deliveries.jsonl next to the config) plus the rituals
// on the shipped schedule, reading the stack's Prometheus on its standard
// port and the repository's thresholds table.
func stackRelayConfig(root string) string {
	var b strings.Builder
	b.WriteString("targets:\n")
	for _, f := range []string{relay.FormatDiscord, relay.FormatSlack, relay.FormatHub} {
		fmt.Fprintf(&b, "  - {name: %s, type: file, path: %s, format: %s}\n", f, relay.DefaultDeliveriesFile, f)
	}
	fmt.Fprintf(&b, "rituals:\n  prometheus_url: http://127.0.0.1:9090\n  alertmanager_url: http://127.0.0.1:9093\n  thresholds_file: %q\n  schedule:\n",
		filepath.Join(root, rules.DefaultThresholdsPath))
	for _, e := range schedule.Shipped(relay.FormatDiscord, relay.FormatSlack, relay.FormatHub) {
		fmt.Fprintf(&b, "    - {ritual: %s, cron: %q, targets: [%s]}\n", e.Ritual, e.Cron, strings.Join(e.Targets, ", "))
	}
	return b.String()
}
