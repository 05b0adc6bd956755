package collector

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

// waitForBackground blocks until every probe has recorded a run and the
// wallet has polled once, read from the state their scrapes read. The
// deadline only turns a hang into a failure.
func waitForBackground(t *testing.T, r *Resonance) {
	t.Helper()
	probers := r.collectors["probes"].(*probeCollector).probers
	wallet := r.collectors["wallet"].(*walletCollector)
	finished := func() bool {
		for _, p := range probers {
			p.mu.Lock()
			ran := p.last != nil
			p.mu.Unlock()
			if !ran {
				return false
			}
		}
		wallet.mu.Lock()
		defer wallet.mu.Unlock()
		return wallet.polled
	}
	deadline := time.Now().Add(time.Minute)
	for !finished() {
		if time.Now().After(deadline) {
			t.Fatal("background sources did not finish their first run")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The exporter's whole path for probes and the wallet: a config file
// pointing at httptest servers (Hugging Face loading a model, the Pi
// Platform API behind a Key, Horizon), collector.New, the first background
// runs, and the exposition; then a reload, after which the counters resume
// instead of doubling or resetting.
func TestResonanceProbesAndWalletEndToEnd(t *testing.T) {
	huggingface := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer hf_test_token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(readFixtureNoT("huggingface/model_loading.json"))
	}))
	defer huggingface.Close()
	piPlatform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Key pi_server_key" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"incomplete_server_payments":[]}`)
	}))
	defer piPlatform.Close()
	horizon := newFakeHorizon(t)

	dir := t.TempDir()
	for name, content := range map[string]string{"hf.token": "hf_test_token\n", "pi.key": "pi_server_key\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	configFile := filepath.Join(dir, "exporter.yml")
	doc := `
probes:
  - name: huggingface
    url: ` + huggingface.URL + `/v1/chat/completions
    method: POST
    body: '{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":"ping"}],"max_tokens":1}'
    headers: {Content-Type: application/json}
    interval: 1h
    http_config: {bearer_token_file: hf.token}
  - name: pi_platform
    url: ` + piPlatform.URL + `/v2/payments/incomplete_server_payments
    interval: 1h
    http_config:
      authorization: {type: Key, credentials_file: pi.key}
pi:
  horizon_url: ` + horizon.URL + `
  wallet_address: ` + testWallet + `
  authorized_destinations: [` + testAuthorized + `]
  state_file: wallet-state.json
  start_cursor: "0"
  poll_interval: 1h
`
	if err := os.WriteFile(configFile, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newTestLogger()
	// The app pushes a balance too: the family then holds both sources, and
	// the registry must merge them (same HELP and type) without an error.
	store := ingest.NewStore(ingest.Limits{Service: "app", MaxLabelValues: 10, BusinessTTL: time.Hour})
	balance := 12.5
	store.SetBusiness(&ingest.BusinessUpdate{WalletBalance: &balance})
	first, err := New(Deps{Config: cfg, Logger: logger, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	waitForBackground(t, first)

	want := `
# HELP resonance_probe_failures_total Probe runs that failed, by reason: timeout, network (no HTTP answer), http_429, http_4xx, http_5xx, model_loading (Hugging Face 503 with estimated_time), unexpected_status (any other status not in expected_status).
# TYPE resonance_probe_failures_total counter
resonance_probe_failures_total{probe="huggingface",reason="http_429"} 0
resonance_probe_failures_total{probe="huggingface",reason="http_4xx"} 0
resonance_probe_failures_total{probe="huggingface",reason="http_5xx"} 0
resonance_probe_failures_total{probe="huggingface",reason="model_loading"} 1
resonance_probe_failures_total{probe="huggingface",reason="network"} 0
resonance_probe_failures_total{probe="huggingface",reason="timeout"} 0
resonance_probe_failures_total{probe="huggingface",reason="unexpected_status"} 0
resonance_probe_failures_total{probe="pi_platform",reason="http_429"} 0
resonance_probe_failures_total{probe="pi_platform",reason="http_4xx"} 0
resonance_probe_failures_total{probe="pi_platform",reason="http_5xx"} 0
resonance_probe_failures_total{probe="pi_platform",reason="model_loading"} 0
resonance_probe_failures_total{probe="pi_platform",reason="network"} 0
resonance_probe_failures_total{probe="pi_platform",reason="timeout"} 0
resonance_probe_failures_total{probe="pi_platform",reason="unexpected_status"} 0
# HELP resonance_probe_model_loading_estimated_seconds Hugging Face's estimated_time from the 503 "model is loading" answer of the probe's last run; absent when the last run got any other answer.
# TYPE resonance_probe_model_loading_estimated_seconds gauge
resonance_probe_model_loading_estimated_seconds{probe="huggingface"} 20
# HELP resonance_probe_success Whether the last run of the probe got an expected status (1) or not (0).
# TYPE resonance_probe_success gauge
resonance_probe_success{probe="huggingface"} 0
resonance_probe_success{probe="pi_platform"} 1
# HELP resonance_wallet_balance_pi Wallet balance in Pi (plan: wallet_balance), by who reported it (app: pushed business value; horizon: read from the chain).
# TYPE resonance_wallet_balance_pi gauge
resonance_wallet_balance_pi{source="app"} 12.5
resonance_wallet_balance_pi{source="horizon"} 9997.6802725
# HELP resonance_wallet_payments_total Successful Pi (native) payments of the wallet read from the chain, by direction (incoming, outgoing); create_account and account_merge count as payments.
# TYPE resonance_wallet_payments_total counter
resonance_wallet_payments_total{direction="incoming"} 2
resonance_wallet_payments_total{direction="outgoing"} 4
# HELP resonance_wallet_unauthorized_transactions_total Outgoing wallet transactions not to an authorized destination, by who reported them (app: ingest events; horizon: the chain).
# TYPE resonance_wallet_unauthorized_transactions_total counter
resonance_wallet_unauthorized_transactions_total{source="app"} 0
resonance_wallet_unauthorized_transactions_total{source="horizon"} 3
# HELP resonance_wallet_up Whether the last poll of Horizon read the balance and the new payments (1) or not (0).
# TYPE resonance_wallet_up gauge
resonance_wallet_up 1
`
	deterministic := []string{
		"resonance_probe_failures_total", "resonance_probe_model_loading_estimated_seconds", "resonance_probe_success",
		"resonance_wallet_balance_pi", "resonance_wallet_payments_total",
		"resonance_wallet_unauthorized_transactions_total", "resonance_wallet_up",
	}
	// A plain registry, as the exporter's /metrics uses: the sources' metrics
	// are unchecked, which a pedantic registry (CollectAndCompare) refuses.
	firstReg := prometheus.NewRegistry()
	firstReg.MustRegister(first)
	if err := testutil.GatherAndCompare(firstReg, strings.NewReader(want), deterministic...); err != nil {
		t.Fatal(err)
	}
	// Times are real here: only check that they are there.
	for name, series := range map[string]int{
		"resonance_probe_duration_seconds":           2,
		"resonance_probe_last_run_timestamp_seconds": 2,
		"resonance_wallet_balance_timestamp_seconds": 1,
		"resonance_scrape_collector_success":         len(first.Names()),
		"resonance_wallet_horizon_errors_total":      len(horizonErrorReasons),
	} {
		if n, err := testutil.GatherAndCount(firstReg, name); err != nil || n != series {
			t.Errorf("%s: %d series (%v), want %d", name, n, err, series)
		}
	}

	// A reload with the same config keeps every source as it is: probe
	// results, failure counters and the balance stay, with no new run.
	rl := NewReloadable(first)
	defer rl.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(rl)
	same, err := rl.Next(Deps{Config: cfg, Logger: logger, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.Swap(same); err != nil {
		t.Fatal(err)
	}
	for name, c := range first.collectors {
		if same.collectors[name] != c {
			t.Errorf("source %s rebuilt by a reload that did not change its config", name)
		}
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), deterministic...); err != nil {
		t.Fatal(err)
	}

	// A reload that changes the pi section replaces the wallet only. The
	// new wallet reads the state file when it is built; the old one then
	// commits one more page (its loop does not know a reload is coming).
	// The exposed counters must not go back to what the new one read.
	horizon.addRecord(nativePayment(500000000000000001, testWallet, testStranger))
	changed := *cfg
	changed.Pi.Timeout *= 2
	next, err := rl.Next(Deps{Config: &changed, Logger: logger, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if next.collectors["wallet"] == same.collectors["wallet"] || next.collectors["probes"] != same.collectors["probes"] {
		t.Fatal("a pi change must rebuild the wallet and keep the probes")
	}
	first.collectors["wallet"].(*walletCollector).poll(context.Background())
	// Horizon is down for the new wallet: what it shows is what it took
	// over, not what it fetched.
	horizon.setOverride(func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	if err := rl.Swap(next); err != nil {
		t.Fatal(err)
	}
	wantAfterReload := `
# HELP resonance_wallet_payments_total Successful Pi (native) payments of the wallet read from the chain, by direction (incoming, outgoing); create_account and account_merge count as payments.
# TYPE resonance_wallet_payments_total counter
resonance_wallet_payments_total{direction="incoming"} 2
resonance_wallet_payments_total{direction="outgoing"} 5
# HELP resonance_wallet_unauthorized_transactions_total Outgoing wallet transactions not to an authorized destination, by who reported them (app: ingest events; horizon: the chain).
# TYPE resonance_wallet_unauthorized_transactions_total counter
resonance_wallet_unauthorized_transactions_total{source="app"} 0
resonance_wallet_unauthorized_transactions_total{source="horizon"} 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantAfterReload),
		"resonance_wallet_payments_total", "resonance_wallet_unauthorized_transactions_total"); err != nil {
		t.Fatal(err)
	}

	for _, secret := range []string{"hf_test_token", "pi_server_key"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("secret %q in the log:\n%s", secret, logs)
		}
	}
}
