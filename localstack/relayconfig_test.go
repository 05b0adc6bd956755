package localstack

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

func TestStandardRelayConfigRunsTheShippedSchedule(t *testing.T) {
	cfg, err := relay.Parse([]byte(StandardRelayConfig("/repo")))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, target := range cfg.Targets {
		names = append(names, target.Name)
	}
	if len(names) != 4 || names[3] != "heartbeat" || cfg.Targets[3].Type != relay.TypeHeartbeat {
		t.Errorf("targets = %v, want discord, slack, hub and the heartbeat", names)
	}
	rituals, err := schedule.Decode(cfg.Rituals.Node, cfg.Rituals.Dir, cfg.TargetNames())
	if err != nil {
		t.Fatal(err)
	}
	want := schedule.Shipped("discord", "slack", "hub")
	if len(rituals.Schedule) != len(want) {
		t.Fatalf("schedule = %+v, want %+v", rituals.Schedule, want)
	}
	for i, e := range rituals.Schedule {
		if e.Ritual != want[i].Ritual || e.Cron != want[i].Cron || len(e.Targets) != 3 {
			t.Errorf("schedule[%d] = %+v, want %+v", i, e, want[i])
		}
	}
	if cfg.Defaults.Environment != "local" {
		t.Errorf("the stack's messages say environment %q, want local", cfg.Defaults.Environment)
	}
	if rituals.ThresholdsFile != "/repo/rules/thresholds.yml" {
		t.Errorf("thresholds_file = %q", rituals.ThresholdsFile)
	}
}

// TestBuiltInRelayTargetsAreTheStandardOnes: a stack started without
// Options.RelayConfig serves the same targets as `make stack`, which the
// alertmanager package's test holds against alertmanager.yml's routes.
func TestBuiltInRelayTargetsAreTheStandardOnes(t *testing.T) {
	dir := t.TempDir()
	r := renderer{opts: Options{Dir: dir}, tokenFile: filepath.Join(dir, "relay-token")}
	if err := writeToken(r.tokenFile); err != nil {
		t.Fatal(err)
	}
	path, err := r.renderRelay()
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := relay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	standard, err := relay.Parse([]byte(StandardRelayConfig("/repo")))
	if err != nil {
		t.Fatal(err)
	}
	names := func(c *relay.Config) (n []string) {
		for _, target := range c.Targets {
			n = append(n, target.Name)
		}
		return n
	}
	if got, want := names(builtIn), names(standard); !slices.Equal(got, want) {
		t.Errorf("built-in relay targets = %v, want those of `make stack`: %v", got, want)
	}
}
