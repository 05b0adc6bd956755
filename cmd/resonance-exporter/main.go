// Command resonance-exporter serves the Quantum Resonance metrics: host health
// through gopsutil, what the app pushes to the ingest API, HTTP probes of
// Hugging Face and the Pi Platform, and the Pi wallet read from the chain.
package main

import (
	"os"

	"github.com/alecthomas/kingpin/v2"

	"github.com/quantum-resonance/telemetry/daemon"
)

func main() {
	var (
		opts  options
		app   = kingpin.New("resonance-exporter", "Prometheus exporter and ingest API for the Quantum Resonance service.")
		flags = daemon.AddFlags(app, "resonance-exporter", ":9861",
			"Exporter configuration file. Without it the exporter runs on built-in defaults.",
			"Load and validate --config.file (and the files it names), then exit 0 if valid or 1 with the error.")
	)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&opts.metricsPath)
	app.Flag("web.disable-exporter-metrics", "Exclude the exporter's own Go and process metrics from /metrics.").BoolVar(&opts.disableExporterMetrics)
	app.Flag("web.max-requests", "Maximum number of parallel scrapes (0 = no limit).").Default("40").IntVar(&opts.maxRequests)
	flags.Parse(app, os.Args[1:], checkConfig)
	opts.configFile, opts.enableLifecycle, opts.enablePprof = flags.ConfigFile, flags.EnableLifecycle, flags.EnablePprof
	logger := flags.Logger()

	exp, err := newExporter(opts, logger)
	if err != nil {
		logger.Error("Cannot start", "err", err)
		os.Exit(1)
	}
	srv := daemon.NewServer(exp.handler, logger)
	runErr := daemon.Run(srv, flags.Web, exp.reloader, logger)
	if runErr != nil {
		logger.Error("Server failed", "err", runErr)
	}
	// On every exit path, a graceful shutdown that timed out included:
	// flush the Loki queue (bounded) and stop the sources.
	if err := exp.Close(); err != nil {
		logger.Error("Closing", "err", err)
	}
	if runErr != nil {
		os.Exit(1)
	}
}
