package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/tooltest"
)

func newTestExporter(t *testing.T, configYAML string) (*exporter, string) {
	t.Helper()
	opts := options{metricsPath: "/metrics", maxRequests: 40, enableLifecycle: true}
	if configYAML != "" {
		opts.configFile = filepath.Join(t.TempDir(), "exporter.yml")
		writeFile(t, opts.configFile, configYAML)
	}
	e, err := newExporter(opts, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, opts.configFile
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func serve(e *exporter, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func scrape(t *testing.T, e *exporter) string {
	t.Helper()
	rec := serve(e, http.MethodGet, "/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestRunsOnBuiltInDefaults(t *testing.T) {
	e, _ := newTestExporter(t, "")
	body := scrape(t, e)
	for _, want := range []string{
		"resonance_cpu_usage_ratio ",
		"resonance_memory_used_bytes ",
		`resonance_disk_used_bytes{mountpoint="/"} `,
		"resonance_uptime_seconds ",
		`resonance_scrape_collector_success{collector="system"} 1`,
		"resonance_exporter_build_info{",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestExporterMetricsCanBeDisabled(t *testing.T) {
	e, err := newExporter(options{metricsPath: "/metrics", disableExporterMetrics: true}, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	body := scrape(t, e)
	if strings.Contains(body, "go_goroutines") || !strings.Contains(body, "resonance_uptime_seconds") {
		t.Fatal("--web.disable-exporter-metrics must drop Go/process metrics only")
	}
}

func TestLifecycleEndpoints(t *testing.T) {
	e, _ := newTestExporter(t, "")
	for _, path := range []string{"/-/healthy", "/-/ready"} {
		if rec := serve(e, http.MethodGet, path); rec.Code != http.StatusOK || rec.Body.String() != "OK\n" {
			t.Errorf("%s: %d %q", path, rec.Code, rec.Body)
		}
	}
	rec := serve(e, http.MethodGet, "/")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `href="/metrics"`) {
		t.Errorf("landing page: %d, no link to /metrics", rec.Code)
	}
	if rec := serve(e, http.MethodGet, "/-/reload"); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", rec.Code)
	}
	if rec := serve(e, http.MethodGet, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", rec.Code)
	}
}

func TestReloadAppliesAGoodFileAndKeepsTheOldOnABadOne(t *testing.T) {
	root := t.TempDir()
	e, path := newTestExporter(t, "system:\n  mountpoints: [\"/\"]\n")
	if body := scrape(t, e); !strings.Contains(body, `mountpoint="/"`) {
		t.Fatal("initial config not applied")
	}

	writeFile(t, path, "system:\n  mountpoints: [\""+root+"\"]\n")
	rec := serve(e, http.MethodPost, "/-/reload")
	if rec.Code != http.StatusOK {
		t.Fatalf("good reload: %d %s", rec.Code, rec.Body)
	}
	body := scrape(t, e)
	if !strings.Contains(body, `mountpoint="`+root+`"`) || strings.Contains(body, `mountpoint="/"`) {
		t.Fatal("reloaded config not applied")
	}
	if !strings.Contains(body, "resonance_exporter_config_last_reload_successful 1") {
		t.Fatal("reload success not reported")
	}

	writeFile(t, path, "system:\n  mountpoints: [\"/\"]\n  mountpont: 1\n")
	rec = serve(e, http.MethodPost, "/-/reload")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("bad reload: %d, want 400", rec.Code)
	}
	var reply struct{ Error string }
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.Error == "" {
		t.Fatalf("bad reload must answer a JSON error: %s", rec.Body)
	}
	if strings.Contains(reply.Error, "mountpont") {
		t.Fatalf("bad reload answer quotes the config: %s", rec.Body)
	}
	body = scrape(t, e)
	if !strings.Contains(body, `mountpoint="`+root+`"`) {
		t.Fatal("a bad reload must keep the running config")
	}
	if !strings.Contains(body, "resonance_exporter_config_last_reload_successful 0") {
		t.Fatal("reload failure not reported")
	}
}

func TestReloadOverHTTPNeedsTheLifecycleFlag(t *testing.T) {
	e, err := newExporter(options{metricsPath: "/metrics"}, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		if rec := serve(e, method, "/-/reload"); rec.Code != http.StatusForbidden {
			t.Errorf("%s /-/reload without --web.enable-lifecycle: %d, want 403", method, rec.Code)
		}
	}
	if !strings.Contains(scrape(t, e), "resonance_exporter_config_last_reload_success_timestamp_seconds") {
		t.Fatal("reload metrics missing")
	}
}

func TestStartFailsOnABadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exporter.yml")
	writeFile(t, path, "ingest:\n  max_body_bytes: -1\n")
	_, err := newExporter(options{configFile: path, metricsPath: "/metrics"}, promslog.NewNopLogger())
	if err == nil || !strings.Contains(err.Error(), "ingest.max_body_bytes") {
		t.Fatalf("got %v", err)
	}
}

// TestPromtoolCheckMetrics runs the pinned promtool's linter over the real
// exposition.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := tooltest.Path(t, "promtool")
	e, _ := newTestExporter(t, "")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape(t, e))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out.String())
	}
}

// --config.check reads what the daemon reads at start: the file and the
// ingest keys file it names.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfg, "service: quantum-resonance-api\ningest:\n  api_keys_file: ingest-keys\n")
	if err := checkConfig(cfg); err == nil || !strings.Contains(err.Error(), "ingest.api_keys_file") {
		t.Fatalf("missing keys file: %v", err)
	}
	writeFile(t, filepath.Join(dir, "ingest-keys"), "a-key-of-at-least-sixteen-characters\n")
	if err := checkConfig(cfg); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	writeFile(t, cfg, "service: quantum-resonance-api\nbogus: 1\n")
	if err := checkConfig(cfg); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown key: %v", err)
	}
	if err := checkConfig(""); err != nil {
		t.Fatalf("built-in defaults: %v", err)
	}
}
