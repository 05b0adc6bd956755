package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/quantum-resonance/telemetry/bearer"
	"github.com/quantum-resonance/telemetry/collector"
	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/daemon"
	"github.com/quantum-resonance/telemetry/ingest"
)

type options struct {
	configFile             string
	metricsPath            string
	disableExporterMetrics bool
	maxRequests            int
	enableLifecycle        bool
	enablePprof            bool
}

// exporter is the wired daemon: config, sources, registries and routes.
type exporter struct {
	opts     options
	logger   *slog.Logger
	handler  http.Handler
	reloader *daemon.Reloader

	sources *collector.Reloadable

	// The ingest store and API live as long as the process; a reload
	// changes their settings and keys, never what was pushed.
	store  *ingest.Store
	ingest *ingest.API
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// checkConfig loads the config as newExporter does (--config.check),
// including the ingest keys file the daemon reads at start.
func checkConfig(path string) error {
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	if cfg.Ingest.APIKeysFile != "" {
		if _, err := bearer.Load(cfg.Ingest.APIKeysFile); err != nil {
			return fmt.Errorf("%s: ingest.api_keys_file: %w", path, err)
		}
	}
	return nil
}

func newExporter(opts options, logger *slog.Logger) (*exporter, error) {
	cfg, err := loadConfig(opts.configFile)
	if err != nil {
		return nil, err
	}
	if opts.configFile == "" {
		logger.Info("No --config.file given: running on built-in defaults")
	}
	store := ingest.NewStore(ingest.Limits{})
	ingestAPI := ingest.NewAPI(store, logger.With("component", "ingest"))
	if err := ingestAPI.ApplyConfig(cfg.Ingest, cfg.Service); err != nil {
		return nil, err
	}
	sources, err := collector.New(collector.Deps{Config: cfg, Logger: logger, Store: store})
	if err != nil {
		ingestAPI.Close()
		return nil, err
	}
	logger.Info("Enabled collectors", "collectors", sources.Names())

	e := &exporter{
		opts:    opts,
		logger:  logger,
		sources: collector.NewReloadable(sources),
		store:   store,
		ingest:  ingestAPI,
	}

	// The exporter's own health lives in its own registry, as in
	// node_exporter, so its Go and process metrics can be left out.
	exporterRegistry := prometheus.NewRegistry()
	e.reloader = daemon.NewReloader("resonance_exporter", e.reload, logger, exporterRegistry)
	if !opts.disableExporterMetrics {
		exporterRegistry.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	resonanceRegistry := prometheus.NewRegistry()
	resonanceRegistry.MustRegister(versioncollector.NewCollector("resonance_exporter"), e.sources)

	metrics := promhttp.HandlerFor(
		prometheus.Gatherers{exporterRegistry, resonanceRegistry},
		promhttp.HandlerOpts{
			ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
			ErrorHandling:       promhttp.ContinueOnError,
			MaxRequestsInFlight: opts.maxRequests,
			Registry:            exporterRegistry,
		},
	)
	metrics = promhttp.InstrumentMetricHandler(exporterRegistry, metrics)

	mux := http.NewServeMux()
	mux.Handle(opts.metricsPath, metrics)
	ingestAPI.Register(mux)
	lifecycle := daemon.Lifecycle{
		Name:        "Resonance Exporter",
		Description: "Prometheus exporter and ingest API for the Quantum Resonance service",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: opts.metricsPath, Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
		},
		Reloader:        e.reloader,
		EnableLifecycle: opts.enableLifecycle,
		EnablePprof:     opts.enablePprof,
	}
	if err := lifecycle.Register(mux); err != nil {
		return nil, err
	}
	e.handler = mux
	return e, nil
}

// reload loads the config file again and swaps the sources; on any error the
// running config and sources stay.
func (e *exporter) reload() error {
	cfg, err := loadConfig(e.opts.configFile)
	if err != nil {
		return err
	}
	// Sources whose config is unchanged are kept, with their state.
	sources, err := e.sources.Next(collector.Deps{Config: cfg, Logger: e.logger, Store: e.store})
	if err != nil {
		return err
	}
	// Re-reads the API keys file; on error nothing of the ingest API changed.
	if err := e.ingest.ApplyConfig(cfg.Ingest, cfg.Service); err != nil {
		_ = sources.Discard() // the ingest error is the one to report
		return err
	}
	if err := e.sources.Swap(sources); err != nil {
		return fmt.Errorf("stopping the previous collectors: %w", err)
	}
	return nil
}

// Close stops the background sources.
func (e *exporter) Close() error {
	return errors.Join(e.sources.Close(), e.ingest.Close())
}
