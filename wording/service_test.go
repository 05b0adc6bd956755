package wording

import (
	"os"
	"regexp"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/rules"
)

// One service name everywhere the pack ships one: the exporter's default
// for logs without a service, the thresholds table the alert summaries
// name ("Error storm on <service>"), the relay's defaults, and the service
// every example pushes. A message about the example's logs then names the
// service they came from.
func TestOneServiceName(t *testing.T) {
	want := config.DefaultService
	table, err := rules.LoadThresholds("../" + rules.DefaultThresholdsPath)
	if err != nil {
		t.Fatal(err)
	}
	if table.Service != want {
		t.Errorf("rules/thresholds.yml service %q, the exporter's default %q", table.Service, want)
	}
	if got := relay.Default().Defaults.Service; got != want {
		t.Errorf("the relay's default service %q, want %q", got, want)
	}
	// A service as pushed (JSON), configured (YAML) or defaulted (Python) in
	// the shipped files.
	service := regexp.MustCompile(`"service"\s*:\s*"([^"]+)"|(?m)^\s*service:\s*([^\s#]+)|def __init__\(.*\bservice="([^"]+)"`)
	for _, path := range []string{
		"README.md", "examples/python/hub_log_stream.py",
		"deploy/config/exporter.yml", "deploy/config/relay.yml", "docker/exporter.yml", "docker/relay.yml",
		"alertmanager/relay.example.yml", "deploy/helm/resonance-telemetry/files/exporter.yml",
		"deploy/helm/resonance-telemetry/files/relay.yml", "prometheus/prometheus.yml",
	} {
		data, err := os.ReadFile("../" + path)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, m := range service.FindAllStringSubmatch(string(data), -1) {
			got := m[1] + m[2] + m[3]
			found++
			if got != want {
				t.Errorf("%s names service %q, want %q", path, got, want)
			}
		}
		if found == 0 && path != "README.md" {
			t.Errorf("%s names no service: the check no longer reads it", path)
		}
	}
}
