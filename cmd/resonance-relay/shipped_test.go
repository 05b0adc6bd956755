package main

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/localstack"
)

const repoRoot = "../.."

// Every relay config the repository ships keeps the message store in a
// file, so that a restart (a deploy, a reboot, a crash) still edits the
// firing Discord messages on resolve and still knows the rituals' last
// successes. The server config (systemd, the chart) and compose's keep it in
// /var/lib/resonance-relay, the directory systemd's StateDirectory, the
// chart's PersistentVolumeClaim (deploy/helm/charttest) and compose's named
// volume (compose/) provide.
func TestEveryShippedConfigKeepsTheMessageStore(t *testing.T) {
	const stateDir = "/var/lib/resonance-relay"
	configs := map[string][]byte{"the stack's (localstack.StandardRelayConfig)": []byte(localstack.StandardRelayConfig("/repo"))}
	for _, name := range []string{"deploy/config/relay.yml", "docker/relay.yml", "alertmanager/relay.example.yml"} {
		data, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		configs[name] = data
	}
	for name, data := range configs {
		// The delivery section only: the configs name key files that live
		// on their machines.
		var cfg struct {
			Delivery relay.DeliveryConfig `yaml:"delivery"`
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		file := cfg.Delivery.MessagesFile
		switch {
		case file == "":
			t.Errorf("%s: no delivery.messages_file; a restart forgets every Discord message id", name)
		case (name == "deploy/config/relay.yml" || name == "docker/relay.yml") && path.Dir(file) != stateDir:
			t.Errorf("%s: delivery.messages_file %s, want it in %s", name, file, stateDir)
		}
	}

	// The systemd unit makes that directory, the only one the relay may
	// write (ProtectSystem=strict).
	unit, err := os.ReadFile(filepath.Join(repoRoot, "deploy/systemd/resonance-relay.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(?m)^StateDirectory=resonance-relay$`, `(?m)^ProtectSystem=strict$`} {
		if !regexp.MustCompile(want).Match(unit) {
			t.Errorf("resonance-relay.service lacks %s", want)
		}
	}
}
