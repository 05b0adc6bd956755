package collector

import (
	"strings"
	"testing"
	"time"

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
# HELP resonance_transactions_total Pi transactions reported by the app, by status (plan: transactions_completed is status="completed").
# TYPE resonance_transactions_total counter
resonance_transactions_total{status="cancelled"} 0
resonance_transactions_total{status="completed"} 1
resonance_transactions_total{status="failed"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "resonance_transactions_total"); err != nil {
		t.Error(err)
	}
}

// The app's reports of figures the wallet and process collectors also read
// join those collectors' families with source="app"; unpushed or expired
// values are absent, the unauthorized counter is there from the start.
func TestIngestSourceExposesAppFigures(t *testing.T) {
	names := []string{"resonance_wallet_balance_pi", "resonance_wallet_unauthorized_transactions_total",
		"resonance_process_start_time_seconds", "resonance_process_resident_memory_bytes", "resonance_app_info"}
	store := ingest.NewStore(ingest.Limits{MaxLabelValues: 10, MaxSeriesPerMetric: 100, BusinessTTL: time.Hour})
	c := collectorAdapter{ingestCollector{store: store}}
	want := `
# HELP resonance_wallet_unauthorized_transactions_total Outgoing wallet transactions not to an authorized destination, by who reported them (app: ingest events; horizon: the chain).
# TYPE resonance_wallet_unauthorized_transactions_total counter
resonance_wallet_unauthorized_transactions_total{source="app"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Errorf("before any push: %v", err)
	}

	no, balance, memory, started, version := false, 12.5, 734003200.0, time.Unix(1795748400, 5e8), "1.4.2"
	store.AddEvents(&ingest.EventBatch{Events: []ingest.Event{{Type: ingest.EventTransaction, TxStatus: "completed", Authorized: &no}}})
	store.SetBusiness(&ingest.BusinessUpdate{WalletBalance: &balance, StartedAt: &started, ResidentMemoryBytes: &memory, Version: &version})
	want = `
# HELP resonance_app_info The app's version as it last reported it (PUT /api/v1/business version); a restart with a new version is a deploy.
# TYPE resonance_app_info gauge
resonance_app_info{version="1.4.2"} 1
# HELP resonance_process_resident_memory_bytes Resident memory of the watched service's process in bytes, by who reported it (proc: read by the exporter on the same host; app: pushed as resident_memory_bytes).
# TYPE resonance_process_resident_memory_bytes gauge
resonance_process_resident_memory_bytes{source="app"} 7.340032e+08
# HELP resonance_process_start_time_seconds Start time of the watched service's process, as a Unix time, by who reported it (proc: read by the exporter on the same host; app: pushed as started_at).
# TYPE resonance_process_start_time_seconds gauge
resonance_process_start_time_seconds{source="app"} 1.7957484005e+09
# HELP resonance_wallet_balance_pi Wallet balance in Pi (plan: wallet_balance), by who reported it (app: pushed business value; horizon: read from the chain).
# TYPE resonance_wallet_balance_pi gauge
resonance_wallet_balance_pi{source="app"} 12.5
# HELP resonance_wallet_unauthorized_transactions_total Outgoing wallet transactions not to an authorized destination, by who reported them (app: ingest events; horizon: the chain).
# TYPE resonance_wallet_unauthorized_transactions_total counter
resonance_wallet_unauthorized_transactions_total{source="app"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Errorf("after a push: %v", err)
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
