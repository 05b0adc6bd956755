package main

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/quantum-resonance/telemetry/daemon"
)

// Basic auth from --web.config.file protects every path, /metrics and
// /-/reload included, and keyed ingest keeps working: the client sends its
// basic credentials in Authorization and the ingest key in X-Api-Key.
func TestBasicAuthAndIngestKeysCompose(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	writeFile(t, keys, "k-ingest\n")
	e, _ := newTestExporter(t, "ingest:\n  api_keys_file: "+keys+"\n")
	webConfig := filepath.Join(dir, "web.yml")
	// bcrypt of "scrape-secret" (cost 4).
	writeFile(t, webConfig, "basic_auth_users:\n  prometheus: $2a$04$3xghEDmb9bJLKE5wHYWfxe3qGZNmc9M5g2r4tPSYMEgao47Cl4MgC\n")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := daemon.NewServer(e.handler, promslog.NewNopLogger())
	listen, systemd := []string{l.Addr().String()}, false
	go web.Serve(l, srv, &web.FlagConfig{WebListenAddresses: &listen, WebSystemdSocket: &systemd, WebConfigFile: &webConfig}, promslog.NewNopLogger())
	t.Cleanup(func() { srv.Close() })
	base := "http://" + l.Addr().String()

	do := func(method, path, body string, header map[string]string, basic bool) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if basic {
			req.SetBasicAuth("prometheus", "scrape-secret")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	logs := `{"logs":[{"level":"ERROR","message":"x"}]}`
	for _, c := range []struct {
		name         string
		method, path string
		header       map[string]string
		basic        bool
		want         int
	}{
		{"metrics without credentials", "GET", "/metrics", nil, false, 401},
		{"metrics with basic auth", "GET", "/metrics", nil, true, 200},
		{"reload without credentials", "POST", "/-/reload", nil, false, 401},
		{"reload with basic auth", "POST", "/-/reload", nil, true, 200},
		{"ingest with basic auth and X-Api-Key", "POST", "/api/v1/logs", map[string]string{"X-Api-Key": "k-ingest"}, true, 202},
		{"ingest with basic auth and a wrong key", "POST", "/api/v1/logs", map[string]string{"X-Api-Key": "nope"}, true, 401},
		{"ingest with basic auth, no key", "POST", "/api/v1/logs", nil, true, 401},
		{"ingest with the key but no basic auth", "POST", "/api/v1/logs", map[string]string{"X-Api-Key": "k-ingest"}, false, 401},
	} {
		if got := do(c.method, c.path, logs, c.header, c.basic); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if !strings.Contains(scrape(t, e), `resonance_errors_total{service="quantum-resonance-api"} 1`) {
		t.Error("the keyed push with basic auth was not counted once")
	}
}
