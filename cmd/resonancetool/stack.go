package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quantum-resonance/telemetry/localstack"
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
			RelayConfig:   localstack.StandardRelayConfig(root),
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
