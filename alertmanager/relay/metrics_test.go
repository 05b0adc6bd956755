package relay

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// The outcome values are the contract of the alert rules
// (RelayDeliveryFailing matches them by name): pinned here, not derived
// from notificationOutcomes.
var wantOutcomes = []string{"delivered", "failed", "rejected", "format_error"}

const notificationsHeader = `
# HELP resonance_relay_notifications_total Alertmanager notifications handled, by target and outcome (delivered, failed, rejected, format_error); every target has every outcome from the start.
# TYPE resonance_relay_notifications_total counter
`

// notificationsWant is the exposition of resonance_relay_notifications_total
// for counts by target and outcome, every outcome of every target listed
// (0 when absent from counts), sorted as the registry sorts them.
func notificationsWant(counts map[string]map[string]int) string {
	var lines []string
	for target, byOutcome := range counts {
		for _, o := range wantOutcomes {
			lines = append(lines, fmt.Sprintf(`resonance_relay_notifications_total{outcome="%s",target="%s"} %d`, o, target, byOutcome[o]))
		}
	}
	slices.Sort(lines)
	return notificationsHeader + strings.Join(lines, "\n") + "\n"
}

func TestNotificationOutcomesAreTheDocumentedOnes(t *testing.T) {
	if !slices.Equal(notificationOutcomes[:], wantOutcomes) {
		t.Errorf("notificationOutcomes = %v, want %v (the alert rules, README and runbooks name them)", notificationOutcomes, wantOutcomes)
	}
}

// Right after the start, before any notification, every configured target
// has every outcome at 0, so that increase() sees the first failure after
// a restart; the first notification then counts 1, not an unseen series.
func TestNotificationCountersExistFromTheStart(t *testing.T) {
	h := newHarness(t, fastDelivery+`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
  - {name: hub, type: file, path: out.jsonl, format: hub}
`, nil)
	want := notificationsWant(map[string]map[string]int{"discord": {}, "hub": {}})
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(want), "resonance_relay_notifications_total"); err != nil {
		t.Errorf("at start: %v", err)
	}
	if code, r := h.post(t, "hub", formattest.FiringBody); code != http.StatusOK {
		t.Fatalf("POST /webhook/hub: %d %+v", code, r)
	}
	want = notificationsWant(map[string]map[string]int{"discord": {}, "hub": {"delivered": 1}})
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(want), "resonance_relay_notifications_total"); err != nil {
		t.Errorf("after one delivery: %v", err)
	}
}

// A reload deletes every series of a removed target, exposes an added one
// at 0 for every outcome, and keeps the counts of the targets it keeps.
func TestReloadDropsRemovedTargetsAndZeroesAddedOnes(t *testing.T) {
	h := newHarness(t, fastDelivery+`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
  - {name: hub, type: file, path: out.jsonl, format: hub}
`, nil)
	for _, target := range []string{"discord", "hub"} {
		if code, r := h.post(t, target, formattest.FiringBody); code != http.StatusOK {
			t.Fatalf("POST /webhook/%s: %d %+v", target, code, r)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(path, []byte(fastDelivery+`
targets:
  - {name: hub, type: file, path: out.jsonl, format: hub}
  - {name: slack, type: file, path: out.jsonl, format: slack}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.relay.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	want := notificationsWant(map[string]map[string]int{"hub": {"delivered": 1}, "slack": {}})
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(want), "resonance_relay_notifications_total"); err != nil {
		t.Errorf("after the reload: %v", err)
	}
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "target" && l.GetValue() == "discord" {
					t.Errorf("%s still has a series of the removed target discord", mf.GetName())
				}
			}
		}
	}
}
