package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

func init() {
	registerCollector("ingest", newIngestCollector)
	// The store outlives reloads; ApplyConfig hands it the new limits.
	reuseWhileUnchanged("ingest", func(*config.Config) any { return nil })
}

// ingestCollector exposes what the app pushed to the ingest API. The store
// is built once by the daemon and handed in through Deps, so its counters
// survive config reloads.
type ingestCollector struct {
	store *ingest.Store
}

func newIngestCollector(d Deps) (Collector, error) {
	if d.Store == nil {
		return nil, nil
	}
	return ingestCollector{store: d.Store}, nil
}

func (c ingestCollector) Update(ch chan<- prometheus.Metric) error {
	c.store.Collect(ch)
	return nil
}
