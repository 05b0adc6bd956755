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
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

var (
	scrapeDurationDesc = prometheus.NewDesc(
		"resonance_scrape_collector_duration_seconds",
		"Duration of a collector scrape.",
		[]string{"collector"}, nil,
	)
	scrapeSuccessDesc = prometheus.NewDesc(
		"resonance_scrape_collector_success",
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
// (probes, wallet) implements io.Closer to stop it, and starter so that a
// reload starts it only once the source it replaces has stopped.
type Factory func(Deps) (Collector, error)

// starter is a source with background work that its factory leaves to
// start: two pollers of one wallet state file must never overlap.
type starter interface {
	start()
}

// ConfigSection returns the part of the config a source is built from.
type ConfigSection func(*config.Config) any

var (
	factoriesMu sync.Mutex
	factories   = map[string]Factory{}
	sections    = map[string]ConfigSection{}
)

// reuseWhileUnchanged lets a reload keep the running source name, with its
// state (counters, last results, CPU baselines, connections), as long as
// section of the config is unchanged. Sources without it are rebuilt on
// every reload.
func reuseWhileUnchanged(name string, section ConfigSection) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	sections[name] = section
}

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
	cfg        *config.Config
	// fresh are the sources this Resonance built, as opposed to the ones
	// it kept from the previous one.
	fresh map[string]bool
}

// New builds every registered source from deps and starts them. When one
// fails to build, those already built are closed.
func New(deps Deps) (*Resonance, error) {
	r, err := build(deps, nil)
	if err != nil {
		return nil, err
	}
	r.start()
	return r, nil
}

// Next builds the sources of a reloaded config: the sources whose config
// section is unchanged are taken over from r as they are, the others are
// built but not started, which Reloadable.Swap does once r's replaced
// sources have stopped. On error nothing of r is touched.
func (r *Resonance) Next(deps Deps) (*Resonance, error) {
	return build(deps, r)
}

func build(deps Deps, prev *Resonance) (*Resonance, error) {
	factoriesMu.Lock()
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	factoriesMu.Unlock()
	sort.Strings(names)

	r := &Resonance{collectors: map[string]Collector{}, logger: deps.Logger, cfg: deps.Config, fresh: map[string]bool{}}
	for _, name := range names {
		if prev != nil && prev.cfg != nil && deps.Config != nil {
			if section, ok := sections[name]; ok && reflect.DeepEqual(section(prev.cfg), section(deps.Config)) {
				if c, ok := prev.collectors[name]; ok {
					r.collectors[name] = c
				}
				continue
			}
		}
		c, err := factories[name](Deps{Config: deps.Config, Logger: deps.Logger.With("collector", name), Store: deps.Store})
		if err != nil {
			_ = r.closeFresh() // the build error is the one to report
			return nil, fmt.Errorf("collector %s: %w", name, err)
		}
		if c != nil {
			r.collectors[name] = c
			r.fresh[name] = true
		}
	}
	return r, nil
}

// start starts the background work of the sources r built.
func (r *Resonance) start() {
	for name := range r.fresh {
		if s, ok := r.collectors[name].(starter); ok {
			s.start()
		}
	}
}

// Discard drops a Resonance built by Next that will not be swapped in: it
// closes what it built and leaves the sources it took over running.
func (r *Resonance) Discard() error { return r.closeFresh() }

// closeFresh closes the sources r built, leaving those it took over.
func (r *Resonance) closeFresh() error {
	var errs []error
	for name := range r.fresh {
		if closer, ok := r.collectors[name].(io.Closer); ok {
			errs = append(errs, closer.Close())
		}
	}
	return errors.Join(errs...)
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
		r.logger.Error("Collector failed", "collector", name, "duration_seconds", duration.Seconds(), "err", err)
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

// Swap installs next, built by Next from the current sources. The sources
// next replaces are stopped first, then next's new ones started, and only
// then do scrapes see next: a replaced wallet has committed its last page
// to the state file before its successor reads it, so no exposed counter
// goes back. Until the swap, scrapes see the previous sources' last values.
func (rl *Reloadable) Swap(next *Resonance) error {
	rl.mu.RLock()
	prev := rl.current
	rl.mu.RUnlock()
	var errs []error
	for name, c := range prev.collectors {
		if _, kept := next.collectors[name]; kept && !next.fresh[name] {
			continue
		}
		if closer, ok := c.(io.Closer); ok {
			errs = append(errs, closer.Close())
		}
	}
	next.start()
	rl.mu.Lock()
	rl.current = next
	rl.mu.Unlock()
	return errors.Join(errs...)
}

// Next builds the sources of a reloaded config from the current ones; see
// Resonance.Next.
func (rl *Reloadable) Next(deps Deps) (*Resonance, error) {
	rl.mu.RLock()
	defer rl.mu.RUnlock()
	return rl.current.Next(deps)
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
