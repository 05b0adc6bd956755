package schedule_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

// The compose stack runs the shipped schedule (make stack builds its config
// from schedule.Shipped), to every channel.
func TestComposeRunsTheShippedSchedule(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docker", "relay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The relay token is a compose secret: a placeholder in its stead.
	token := filepath.Join(t.TempDir(), "relay_token")
	if err := os.WriteFile(token, []byte("placeholder-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := relay.Parse(bytes.ReplaceAll(data, []byte("/run/secrets/relay_token"), []byte(token)))
	if err != nil {
		t.Fatal(err)
	}
	rituals, err := schedule.Decode(cfg.Rituals.Node, cfg.Rituals.Dir, cfg.TargetNames())
	if err != nil {
		t.Fatal(err)
	}
	got := rituals.Schedule
	want := schedule.Shipped("discord", "slack", "hub")
	if !slices.EqualFunc(got, want, func(a, b schedule.Entry) bool {
		return a.Ritual == b.Ritual && a.Cron == b.Cron && slices.Equal(a.Targets, b.Targets)
	}) {
		t.Errorf("docker/relay.yml schedules %+v, want %+v", got, want)
	}
	if rituals.PrometheusURL != "http://prometheus:9090" {
		t.Errorf("prometheus_url = %q, want the compose service", rituals.PrometheusURL)
	}
}
