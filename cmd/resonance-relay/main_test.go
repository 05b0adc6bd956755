package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
)

const firingFixture = "../../../shared/fixtures/alertmanager/webhook-v4-firing.json"

func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	return rec
}

// The wired relay: a webhook reaches the file target, every endpoint
// answers, and a bad reload keeps the running config.
func TestRelayEndpointsAndReload(t *testing.T) {
	fixture, err := os.ReadFile(firingFixture)
	if err != nil {
		t.Skipf("Alertmanager fixture not found beside the repository: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "relay.yml")
	good := "targets:\n  - {name: hub, type: file, path: hub.jsonl, format: hub}\n"
	if err := os.WriteFile(cfgPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	h, reloader, err := newRelay(cfgPath, true, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}

	if rec := serve(h, http.MethodPost, "/webhook/hub", string(fixture)); rec.Code != http.StatusOK {
		t.Fatalf("POST /webhook/hub: %d %s", rec.Code, rec.Body)
	}
	written, err := os.ReadFile(filepath.Join(dir, "hub.jsonl"))
	if err != nil || !strings.Contains(string(written), `"event_type":"alert.triggered"`) {
		t.Fatalf("hub event not delivered to the file: %v %s", err, written)
	}
	if rec := serve(h, http.MethodPost, "/webhook/pager", string(fixture)); rec.Code != http.StatusNotFound {
		t.Errorf("unknown target: %d, want 404", rec.Code)
	}
	if rec := serve(h, http.MethodPost, "/webhook/hub", `{"hello":"world"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("not a webhook payload: %d, want 400", rec.Code)
	}
	for path, want := range map[string]string{"/-/healthy": "OK", "/-/ready": "OK", "/": "Resonance Relay", "/metrics": "resonance_relay_notifications_total"} {
		if rec := serve(h, http.MethodGet, path, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, rec.Code, want)
		}
	}

	if err := os.WriteFile(cfgPath, []byte("targets:\n  - {name: hub, type: fax}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, http.MethodPost, "/-/reload", ""); rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "fax") {
		t.Fatalf("bad reload: %d %s, want 400 without quoting the config", rec.Code, rec.Body)
	}
	if rec := serve(h, http.MethodGet, "/metrics", ""); !strings.Contains(rec.Body.String(), "resonance_relay_config_last_reload_successful 0") {
		t.Error("a failed reload must be reported")
	}
	if rec := serve(h, http.MethodPost, "/webhook/hub", strings.ReplaceAll(string(fixture), `"25"`, `"26"`)); rec.Code != http.StatusOK {
		t.Fatalf("after a bad reload the running config must keep working: %d %s", rec.Code, rec.Body)
	}
	if err := reloader.Reload(); err == nil {
		t.Fatal("SIGHUP path: the bad file must fail the reload too")
	}
}

// --config.check resolves the URL files the targets name, as the start does.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(cfg, []byte("targets:\n  - {name: discord, type: discord, url_file: discord.url}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkConfig(cfg); err == nil || !strings.Contains(err.Error(), "discord.url") {
		t.Fatalf("missing url file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "discord.url"), []byte("https://discord.com/api/webhooks/1/abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkConfig(cfg); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if err := checkConfig(""); err != nil {
		t.Fatalf("built-in defaults: %v", err)
	}
}
