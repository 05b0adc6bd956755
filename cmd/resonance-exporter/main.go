// Command resonance-exporter serves the Quantum Resonance metrics: host health
// through gopsutil, what the app pushes to the ingest API, HTTP probes of
// Hugging Face and the Pi Platform, and the Pi wallet read from the chain.
package main

import (
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/quantum-resonance/telemetry/daemon"
)

func main() {
	var (
		opts    options
		app     = kingpin.New("resonance-exporter", "Prometheus exporter and ingest API for the Quantum Resonance service.")
		logCfg  = &promslog.Config{}
		webFlag = kingpinflag.AddFlags(app, ":9861")
	)
	app.Flag("config.file", "Exporter configuration file. Without it the exporter runs on built-in defaults.").StringVar(&opts.configFile)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&opts.metricsPath)
	app.Flag("web.disable-exporter-metrics", "Exclude the exporter's own Go and process metrics from /metrics.").BoolVar(&opts.disableExporterMetrics)
	configCheck := app.Flag("config.check", "Load and validate --config.file (and the files it names), then exit 0 if valid or 1 with the error.").Bool()
	app.Flag("web.max-requests", "Maximum number of parallel scrapes (0 = no limit).").Default("40").IntVar(&opts.maxRequests)
	enableLifecycle := daemon.AddLifecycleFlag(app)
	enablePprof := daemon.AddPprofFlag(app)
	flag.AddFlags(app, logCfg)
	app.Version(version.Print("resonance-exporter"))
	app.HelpFlag.Short('h')
	kingpin.MustParse(app.Parse(os.Args[1:]))
	if *configCheck {
		os.Exit(daemon.CheckConfig(opts.configFile, checkConfig, os.Stdout, os.Stderr))
	}
	opts.enableLifecycle = *enableLifecycle
	opts.enablePprof = *enablePprof

	logger := promslog.New(logCfg)
	logger.Info("Starting resonance-exporter", "version", version.Info())
	logger.Info("Build context", "build_context", version.BuildContext())

	exp, err := newExporter(opts, logger)
	if err != nil {
		logger.Error("Cannot start", "err", err)
		os.Exit(1)
	}
	srv := daemon.NewServer(exp.handler, logger)
	runErr := daemon.Run(srv, webFlag, exp.reloader, logger)
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
