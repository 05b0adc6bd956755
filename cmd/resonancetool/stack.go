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
)

func init() { register(setupStack) }

// setupStack adds "stack": the exporter, relay, Prometheus and Alertmanager
// on loopback with the shipped configs, until Ctrl-C. `make stack` builds
// the binaries first.
func setupStack(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("stack", "Run exporter, relay, Prometheus and Alertmanager on loopback with the shipped configs.")
	bin := cmd.Flag("bin", "Directory holding the built resonance-exporter, resonance-relay and resonancetool (make build).").Default("bin").String()
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
		s, err := localstack.Start(ctx, stackOptions(root, abs(*dir), abs(*bin), abs(*tools)))
		if err != nil {
			if ctx.Err() != nil { // Ctrl-C while starting: what started is stopped
				fmt.Fprintln(stdout, "Stopped before the stack was up.")
				return nil
			}
			return err
		}
		defer s.Stop()
		fmt.Fprint(stdout, stackBanner(s, root))
		<-ctx.Done()
		fmt.Fprintln(stdout, "Stopping the stack…")
		return nil
	})
}

// stackOptions is what `resonancetool stack` starts: the standard ports,
// the exporter behind the dev ingest key, the relay writing to files.
func stackOptions(root, dir, bin, tools string) localstack.Options {
	return localstack.Options{
		Root: root, Dir: dir, Bin: bin, ToolsBin: tools,
		StandardPorts:  true,
		ExporterConfig: stackExporterConfig(root),
		RelayConfig:    localstack.StandardRelayConfig(root),
	}
}

// devIngestKeys is the ingest key file of the local stacks: docker compose
// mounts it as a secret, `make stack` points its exporter at it. Its one key
// is for a stack on loopback only.
const devIngestKeys = "docker/ingest-keys.dev"

// stackExporterConfig is the exporter's built-in defaults with the ingest API
// behind the dev key, as in compose, so that the banner's push commands are
// the ones an app uses anywhere else.
func stackExporterConfig(root string) string {
	return fmt.Sprintf("ingest:\n  api_keys_file: %q\n", filepath.Join(root, devIngestKeys))
}

// rel is path relative to the repository root when it lies inside it, as
// the banner's commands are run from there; otherwise path itself.
func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil || r == ".." || strings.HasPrefix(r, "../") {
		return path
	}
	return r
}

// stackBanner is what `make stack` prints once every component is ready:
// where each one listens, then commands to paste into a second terminal at
// the repository root that make an alert and a message appear (the README's
// quick start shows the same commands, a test holds them in step).
func stackBanner(s *localstack.Stack, root string) string {
	dir := filepath.Dir(s.RelayTokenFile)
	deliveries := rel(root, filepath.Join(dir, relay.DefaultDeliveriesFile))
	var b strings.Builder
	fmt.Fprintf(&b, `Quantum Resonance stack is up (Ctrl-C stops it):
  exporter      %s/metrics   (ingest API: POST %s/api/v1/logs)
  relay         %s
  prometheus    %s/alerts
  alertmanager  %s
  runbooks      %s/docs/runbooks.md   (the alerts' runbook links open here)
Relay deliveries and ritual reports (no channel URLs configured): %s
Logs: %s

Try it from the repository root, in a second terminal:
`, s.ExporterURL, s.ExporterURL, s.RelayURL, s.PrometheusURL, s.AlertmanagerURLs[0], s.DocsURL,
		deliveries, rel(root, filepath.Join(dir, "logs")))
	for _, line := range stackTryCommands(s.ExporterURL, s.RelayURL, s.PrometheusURL, s.AlertmanagerURLs[0], rel(root, s.RelayTokenFile), deliveries) {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	return b.String()
}

// stackTryCommands are the banner's copy-paste commands: an error storm
// pushed with the dev ingest key (ErrorStorm: more than 20 errors a minute
// over 2 minutes, for 1 minute), a test notification through the relay with
// the token Alertmanager sends it, and where to watch.
func stackTryCommands(exporterURL, relayURL, prometheusURL, alertmanagerURL, tokenFile, deliveries string) []string {
	return []string{
		"# An error storm: 2 errors every 2 s for 3 minutes, pushed with the stack's ingest key.",
		"# ErrorStorm fires after about 2 minutes; Alertmanager hands it to the relay 10 s later.",
		fmt.Sprintf("KEY=$(grep -v '^#' %s | head -1)", devIngestKeys),
		fmt.Sprintf(`for i in $(seq 90); do curl -fsS -o /dev/null -X POST %s/api/v1/logs -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"logs":[{"level":"ERROR","message":"demo error storm"},{"level":"ERROR","message":"demo error storm"}]}'; sleep 2; done`, exporterURL),
		"# A test notification through the relay, with the token Alertmanager sends it.",
		fmt.Sprintf("go run ./cmd/resonancetool send-test --relay %s --target slack --token-file %s", relayURL, tokenFile),
		fmt.Sprintf("# Watch the alert at %s/alerts and %s, the messages arrive here:", prometheusURL, alertmanagerURL),
		"tail -f " + deliveries,
	}
}
