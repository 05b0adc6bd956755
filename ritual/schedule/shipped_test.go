package schedule_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

// The compose stack runs the shipped schedule (make stack builds its config
// from schedule.Shipped), to every channel.
func TestComposeRunsTheShippedSchedule(t *testing.T) {
	cfg, err := relay.Load(filepath.Join("..", "..", "docker", "relay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Rituals.Schedule
	want := schedule.Shipped("discord", "slack", "hub")
	if !slices.EqualFunc(got, want, func(a, b schedule.Entry) bool {
		return a.Ritual == b.Ritual && a.Cron == b.Cron && slices.Equal(a.Targets, b.Targets)
	}) {
		t.Errorf("docker/relay.yml schedules %+v, want %+v", got, want)
	}
	if cfg.Rituals.PrometheusURL != "http://prometheus:9090" {
		t.Errorf("prometheus_url = %q, want the compose service", cfg.Rituals.PrometheusURL)
	}
}
