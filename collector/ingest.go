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

// ingestCollector exposes what the app pushed to the ingest API: the store's
// own families, and the app's reports of figures other sources also read
// (ingest.AppFigures) in those sources' families. The store is built once by
// the daemon and handed in through Deps, so its counters survive config
// reloads.
type ingestCollector struct {
	store *ingest.Store
}

func newIngestCollector(d Deps) (Collector, error) {
	if d.Store == nil {
		return nil, nil
	}
	return ingestCollector{store: d.Store}, nil
}

// sourceApp is the source label of what the app reported of a family the
// exporter also reads elsewhere (see ingest.AppFigures).
const sourceApp = "app"

func (c ingestCollector) Update(ch chan<- prometheus.Metric) error {
	c.store.Collect(ch)
	f := c.store.AppFigures()
	ch <- prometheus.MustNewConstMetric(walletUnauthorizedDesc, prometheus.CounterValue, f.UnauthorizedTransactions, sourceApp)
	for _, r := range []struct {
		desc *prometheus.Desc
		ingest.Reported
	}{
		{walletBalanceDesc, f.WalletBalance},
		{processStartTimeDesc, f.ProcessStartTime},
		{processResidentMemoryDesc, f.ProcessResidentMemory},
	} {
		if r.Fresh {
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, r.Value, sourceApp)
		}
	}
	return nil
}
