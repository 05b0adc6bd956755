package relay

import (
	"strings"
	"testing"
)

func TestRitualsSection(t *testing.T) {
	cfg, err := Parse([]byte(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  prometheus_url: http://prometheus:9090
  timezone: Europe/Berlin
  schedule:
    - {ritual: morning, cron: "0 8 * * *", targets: [discord]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Rituals.Enabled() || cfg.Rituals.Timezone != "Europe/Berlin" || cfg.Rituals.Night == "" {
		t.Errorf("rituals = %+v", cfg.Rituals)
	}
	_, err = Parse([]byte(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  schedule:
    - {ritual: morning, cron: "0 8 * * *", targets: [slack]}
`))
	if err == nil || !strings.Contains(err.Error(), `no target named "slack"`) {
		t.Errorf("err = %v, want the unknown target named", err)
	}
	_, err = Parse([]byte(`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
rituals:
  shedule: []
`))
	if err == nil || !strings.Contains(err.Error(), "shedule") {
		t.Errorf("err = %v, want the misspelt key named", err)
	}
}
