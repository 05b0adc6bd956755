package collector

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

func TestIngestSourceExposesTheStore(t *testing.T) {
	store := ingest.NewStore(ingest.Limits{MaxLabelValues: 10, MaxSeriesPerMetric: 100})
	store.AddEvents(&ingest.EventBatch{Events: []ingest.Event{{Type: ingest.EventTransaction, TxStatus: "completed"}}})
	r, err := New(Deps{Config: config.Default(), Logger: promslog.NewNopLogger(), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !contains(r.Names(), "ingest") {
		t.Fatalf("sources %v lack ingest", r.Names())
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	want := `
# HELP resonance_transactions_total Pi transactions reported by the app, by status (seed: transactions_completed is status="completed").
# TYPE resonance_transactions_total counter
resonance_transactions_total{status="cancelled"} 0
resonance_transactions_total{status="completed"} 1
resonance_transactions_total{status="failed"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "resonance_transactions_total"); err != nil {
		t.Error(err)
	}
}

func TestIngestSourceOffWithoutStore(t *testing.T) {
	r, err := New(Deps{Config: config.Default(), Logger: promslog.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if contains(r.Names(), "ingest") {
		t.Errorf("ingest source enabled without a store: %v", r.Names())
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
