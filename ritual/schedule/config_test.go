package schedule_test

import (
	"strings"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

// decode reads a relay config and its rituals: section, as the relay
// binary does.
func decode(yaml string) (schedule.Config, error) {
	cfg, err := relay.Parse([]byte(yaml))
	if err != nil {
		return schedule.Config{}, err
	}
	return schedule.Decode(cfg.Rituals.Node, cfg.Rituals.Dir, cfg.TargetNames())
}

func TestRitualsSection(t *testing.T) {
	cfg, err := decode(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  prometheus_url: http://prometheus:9090
  timezone: Europe/Berlin
  schedule:
    - {ritual: morning, cron: "0 8 * * *", targets: [discord]}
`)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled() || cfg.Timezone != "Europe/Berlin" || cfg.Night == "" {
		t.Errorf("rituals = %+v", cfg)
	}
	_, err = decode(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  schedule:
    - {ritual: morning, cron: "0 8 * * *", targets: [slack]}
`)
	if err == nil || !strings.Contains(err.Error(), `no target named "slack"`) {
		t.Errorf("err = %v, want the unknown target named", err)
	}
	_, err = decode(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  shedule: []
`)
	if err == nil || !strings.Contains(err.Error(), "shedule") {
		t.Errorf("err = %v, want the misspelt key named", err)
	}
}
