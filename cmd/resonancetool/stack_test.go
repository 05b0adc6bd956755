package main

import (
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

func TestStackRelayRunsTheShippedSchedule(t *testing.T) {
	cfg, err := relay.Parse([]byte(stackRelayConfig("/repo")))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != 3 {
		t.Errorf("targets = %+v, want discord, slack and hub", cfg.Targets)
	}
	want := schedule.Shipped("discord", "slack", "hub")
	if len(cfg.Rituals.Schedule) != len(want) {
		t.Fatalf("schedule = %+v, want %+v", cfg.Rituals.Schedule, want)
	}
	for i, e := range cfg.Rituals.Schedule {
		if e.Ritual != want[i].Ritual || e.Cron != want[i].Cron || len(e.Targets) != 3 {
			t.Errorf("schedule[%d] = %+v, want %+v", i, e, want[i])
		}
	}
	if cfg.Rituals.ThresholdsFile != "/repo/rules/thresholds.yml" {
		t.Errorf("thresholds_file = %q", cfg.Rituals.ThresholdsFile)
	}
}
