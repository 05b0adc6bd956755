// Package collector holds the exporter's metric sources, one file a source,
// in the manner of node_exporter: each source registers a factory here, and
// Resonance runs them all on every scrape, reporting for each its duration
// and success so that one failing source never fails the scrape.
package collector

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

const namespace = "resonance"

var (
	scrapeDurationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "scrape", "collector_duration_seconds"),
		"Duration of a collector scrape.",
		[]string{"collector"}, nil,
	)
	scrapeSuccessDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, "scrape", "collector_success"),
		"Whether a collector succeeded.",
		[]string{"collector"}, nil,
	)
)

// Collector is one metric source. Update sends the source's current metrics;
// an error marks the source failed for this scrape without failing others.
type Collector interface {
	Update(ch chan<- prometheus.Metric) error
}

// Deps is what a source is built from. Long-lived state that must survive a
// config reload (the ingest store) is passed in, not built by the factory.
type Deps struct {
	Config *config.Config
	Logger *slog.Logger
	// Store holds what the app pushed to the ingest API; nil turns the
	// ingest source off.
	Store *ingest.Store
}

// Factory builds a source from the config. It returns a nil Collector when
// the config turns the source off. A source that works in the background
// (probes, wallet) implements io.Closer to stop it.
type Factory func(Deps) (Collector, error)

var (
	factoriesMu sync.Mutex
	factories   = map[string]Factory{}
)

// registerCollector is called from each source's init.
func registerCollector(name string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if _, dup := factories[name]; dup {
		panic("collector registered twice: " + name)
	}
	factories[name] = f
}

// Resonance is the prometheus.Collector that runs every enabled source.
type Resonance struct {
	collectors map[string]Collector
	logger     *slog.Logger
}

// New builds every registered source from deps. When one fails to build,
// those already built are closed.
func New(deps Deps) (*Resonance, error) {
	factoriesMu.Lock()
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	factoriesMu.Unlock()
	sort.Strings(names)

	r := &Resonance{collectors: map[string]Collector{}, logger: deps.Logger}
	for _, name := range names {
		c, err := factories[name](Deps{Config: deps.Config, Logger: deps.Logger.With("collector", name), Store: deps.Store})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		if c != nil {
			r.collectors[name] = c
		}
	}
	return r, nil
}

// Names lists the enabled sources.
func (r *Resonance) Names() []string {
	names := make([]string, 0, len(r.collectors))
	for name := range r.collectors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Close stops the sources that run in the background.
func (r *Resonance) Close() error {
	var errs []error
	for _, c := range r.collectors {
		if closer, ok := c.(io.Closer); ok {
			errs = append(errs, closer.Close())
		}
	}
	return errors.Join(errs...)
}

// Describe sends only the meta-metric descriptors: the sources' metrics are
// unchecked, as in node_exporter, because their label sets vary at run time.
func (r *Resonance) Describe(ch chan<- *prometheus.Desc) {
	ch <- scrapeDurationDesc
	ch <- scrapeSuccessDesc
}

// Collect runs all sources concurrently.
func (r *Resonance) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for name, c := range r.collectors {
		wg.Go(func() { r.execute(name, c, ch) })
	}
	wg.Wait()
}

func (r *Resonance) execute(name string, c Collector, ch chan<- prometheus.Metric) {
	begin := time.Now()
	err := c.Update(ch)
	duration := time.Since(begin)
	success := 1.0
	if err != nil {
		r.logger.Error("collector failed", "collector", name, "duration_seconds", duration.Seconds(), "err", err)
		success = 0
	}
	ch <- prometheus.MustNewConstMetric(scrapeDurationDesc, prometheus.GaugeValue, duration.Seconds(), name)
	ch <- prometheus.MustNewConstMetric(scrapeSuccessDesc, prometheus.GaugeValue, success, name)
}

// Reloadable is the collector registered once with the registry; a config
// reload swaps the Resonance behind it without re-registering.
type Reloadable struct {
	mu      sync.RWMutex
	current *Resonance
}

// NewReloadable wraps r.
func NewReloadable(r *Resonance) *Reloadable { return &Reloadable{current: r} }

// Swap installs next and closes the previous sources.
func (rl *Reloadable) Swap(next *Resonance) error {
	rl.mu.Lock()
	prev := rl.current
	rl.current = next
	rl.mu.Unlock()
	return prev.Close()
}

// Describe implements prometheus.Collector.
func (rl *Reloadable) Describe(ch chan<- *prometheus.Desc) {
	ch <- scrapeDurationDesc
	ch <- scrapeSuccessDesc
}

// Collect implements prometheus.Collector.
func (rl *Reloadable) Collect(ch chan<- prometheus.Metric) {
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	rl.current.Collect(ch)
}

// Close stops the current sources.
func (rl *Reloadable) Close() error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.current.Close()
}
