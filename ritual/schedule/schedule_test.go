package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/ritual/historytest"
	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/tooltest"
)

var discard = slog.New(slog.DiscardHandler)

func TestValidateNamesWhatIsWrong(t *testing.T) {
	cfg := Config{
		Timezone: "Mars/Olympus",
		Schedule: []Entry{
			{Ritual: "midday", Cron: "0 12 * * *", Targets: []string{"discord"}},
			{Ritual: "morning", Cron: "0 25 * * *", Targets: []string{"discord"}},
			{Ritual: "evening", Cron: "0 20 * * *", Targets: []string{"dicsord"}},
			{Ritual: "weekly", Cron: "0 9 * * 1"},
		},
	}
	err := cfg.Validate([]string{"discord", "slack"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"rituals.timezone",
		`rituals.schedule[0]: ritual "midday"`,
		`rituals.schedule[1] (morning): cron "0 25 * * *"`,
		`rituals.schedule[2] (evening): no target named "dicsord"`,
		"rituals.schedule[3] (weekly): no targets",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestValidateFillsDefaults(t *testing.T) {
	cfg := Config{Schedule: []Entry{{Ritual: "morning", Cron: "0 8 * * *", Targets: []string{"discord"}}}}
	if err := cfg.Validate([]string{"discord"}); err != nil {
		t.Fatal(err)
	}
	if cfg.PrometheusURL != DefaultPrometheusURL || cfg.Timezone != "UTC" || cfg.Night != DefaultNight || cfg.Timeout != DefaultTimeout {
		t.Errorf("defaults not filled in: %+v", cfg)
	}
	var empty Config
	if err := empty.Validate(nil); err != nil || empty.Enabled() {
		t.Errorf("an empty section: err %v, enabled %v", err, empty.Enabled())
	}
}

// closedURL is an address nothing listens on.
func closedURL(t *testing.T) string { return "http://" + tooltest.FreeAddr(t) }

func thresholdsFile(_ *testing.T) string {
	return filepath.Join("..", "..", rules.DefaultThresholdsPath)
}

// resonancetool is built once for the package's tests: the scheduler runs
// the real command.
var (
	buildOnce sync.Once
	toolPath  string
	buildErr  error
)

func resonancetool(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "resonancetool")
		if err != nil {
			buildErr = err
			return
		}
		toolPath = filepath.Join(dir, "resonancetool")
		out, err := exec.Command("go", "build", "-o", toolPath, "github.com/quantum-resonance/telemetry/cmd/resonancetool").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build resonancetool: %w: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return toolPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if toolPath != "" {
		_ = os.RemoveAll(filepath.Dir(toolPath))
	}
	os.Exit(code)
}

// relayConfig writes a relay config whose discord and hub targets append
// their payloads to files in dir, with a rituals: section reading
// prometheusURL and scheduling entries, and loads it as the relay does.
func relayConfig(t *testing.T, dir, prometheusURL string, entries ...Entry) (file string, cfg Config) {
	t.Helper()
	var b strings.Builder
	b.WriteString("targets:\n")
	for _, name := range []string{"discord", "hub"} {
		fmt.Fprintf(&b, "  - {name: %s, type: file, format: %s, path: %s.jsonl}\n", name, name, name)
	}
	fmt.Fprintf(&b, "rituals:\n  prometheus_url: %s\n  thresholds_file: %q\n  command: %q\n  timeout: 1m\n  schedule:\n",
		prometheusURL, mustAbs(t, thresholdsFile(t)), resonancetool(t))
	for _, e := range entries {
		fmt.Fprintf(&b, "    - {ritual: %s, cron: %q, targets: [%s]}\n", e.Ritual, e.Cron, strings.Join(e.Targets, ", "))
	}
	file = filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := relay.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = Decode(rc.Rituals.Node, rc.Rituals.Dir, rc.TargetNames()); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.LookCommand(); err != nil {
		t.Fatal(err)
	}
	return file, cfg
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestScheduledRunWithoutPrometheusCountsAFailure(t *testing.T) {
	dir := t.TempDir()
	file, cfg := relayConfig(t, dir, closedURL(t), Entry{Ritual: "evening", Cron: "@every 1s", Targets: []string{"hub"}})
	reg := prometheus.NewRegistry()
	d := NewDaemon(reg, Exec(file), nil, discard)
	before := time.Now()
	if err := d.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Apply(Config{}) })
	deadline := time.Now().Add(20 * time.Second)
	for testutil.ToFloat64(d.metrics.runs.WithLabelValues("evening", OutcomeFailure)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the schedule did not run within 20s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := testutil.ToFloat64(d.metrics.runs.WithLabelValues("evening", OutcomeSuccess)); n != 0 {
		t.Errorf("%g successes without Prometheus", n)
	}
	if v := testutil.ToFloat64(d.metrics.lastSuccess.WithLabelValues("evening")); v < unixSeconds(before) || v > unixSeconds(time.Now()) {
		t.Errorf("last success after failures only = %f, want the time it was scheduled (%f or a little later)", v, unixSeconds(before))
	}
	if _, err := os.Stat(filepath.Join(dir, "hub.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a report reached the hub although Prometheus could not be read (stat: %v)", err)
	}
}

// The relay runs resonancetool ritual with its own config: the report of
// the window ending at the scheduler's clock reaches every target through
// the relay's formatters; a target that cannot take it fails the run, with
// the command's own words in the error.
func TestRunSendsTheReportToEveryTarget(t *testing.T) {
	h := historytest.Run(t)
	dir := t.TempDir()
	file, cfg := relayConfig(t, dir, h.URL, Entry{Ritual: "evening", Cron: "0 20 * * *", Targets: []string{"discord", "hub"}})
	reg := prometheus.NewRegistry()
	successes := &memSuccesses{}
	s, err := Start(cfg, Exec(file), NewMetrics(reg), successes, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	// The scheduler's clock: the evening of the history.
	s.now = func() time.Time { return historytest.End }
	if err := s.Run(t.Context(), cfg.Schedule[0]); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"discord", "hub"} {
		data, err := os.ReadFile(filepath.Join(dir, target+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte("Evening")) || !bytes.Contains(data, []byte("ErrorStorm")) {
			t.Errorf("%s got no evening report: %.300s", target, data)
		}
	}
	if v := testutil.ToFloat64(s.metrics.lastSuccess.WithLabelValues("evening")); v != float64(historytest.End.Unix()) {
		t.Errorf("last success = %g, want %d", v, historytest.End.Unix())
	}
	if at, ok := successes.LastSuccess("evening"); !ok || !at.Equal(historytest.End) {
		t.Errorf("recorded success = %v, %v; want %v", at, ok, historytest.End)
	}
	// The hub's file becomes a directory: its delivery fails.
	if err := os.Remove(filepath.Join(dir, "hub.jsonl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "hub.jsonl"), 0o700); err != nil {
		t.Fatal(err)
	}
	err = s.Run(t.Context(), cfg.Schedule[0])
	if err == nil {
		t.Fatal("a run whose report did not reach the hub succeeded")
	}
	if !strings.Contains(err.Error(), "hub") {
		t.Errorf("the error does not name the failing target: %v", err)
	}
	if n := testutil.ToFloat64(s.metrics.runs.WithLabelValues("evening", OutcomeFailure)); n != 1 {
		t.Errorf("failures = %g, want 1", n)
	}
}

// A run that outlives the section's timeout is killed, and says so.
func TestRunThatHangsIsKilled(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hang")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho started the $2 report\nexec sleep 60\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	saved := killGrace
	killGrace = 100 * time.Millisecond
	t.Cleanup(func() { killGrace = saved })
	cfg := Config{Command: script, Timeout: model.Duration(200 * time.Millisecond), Schedule: []Entry{{Ritual: "morning", Cron: "0 9 1 1 *", Targets: []string{"hub"}}}}
	if err := cfg.Validate([]string{"hub"}); err != nil {
		t.Fatal(err)
	}
	s, err := Start(cfg, Exec(filepath.Join(dir, "relay.yml")), NewMetrics(prometheus.NewRegistry()), nil, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	began := time.Now()
	err = s.Run(t.Context(), cfg.Schedule[0])
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || !strings.Contains(err.Error(), "started the morning report") {
		t.Errorf("err = %v, want the deadline and the command's output", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the hanging run took %v to end", took)
	}
}

// memSuccesses is a Successes in memory.
type memSuccesses struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (m *memSuccesses) LastSuccess(ritual string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.at[ritual]
	return t, ok
}

func (m *memSuccesses) RecordSuccess(ritual string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at == nil {
		m.at = map[string]time.Time{}
	}
	m.at[ritual] = at
	return nil
}

// lastSuccesses is the exposition of the last-success gauge for values by
// ritual, as the registry sorts them.
func lastSuccesses(byRitual map[string]float64) string {
	var lines []string
	for r, v := range byRitual {
		lines = append(lines, fmt.Sprintf(`resonance_relay_ritual_last_success_timestamp_seconds{ritual="%s"} %s`, r, strconv.FormatFloat(v, 'g', -1, 64)))
	}
	slices.Sort(lines)
	return `
# HELP resonance_relay_ritual_last_success_timestamp_seconds When the ritual last ran and reached every target, as a Unix timestamp; until a success is recorded, when the relay scheduled it (its start, or the reload that added it).
# TYPE resonance_relay_ritual_last_success_timestamp_seconds gauge
` + strings.Join(lines, "\n") + "\n"
}

// Every scheduled ritual has its last success from the start, so that
// RitualMissed fires for a ritual failing since a restart: the success
// recorded in the relay's state when there is one, else the time it was
// scheduled. A reload gives an added ritual the same, keeps a kept one's
// value and deletes a removed one's series.
func TestLastSuccessExistsFromTheStart(t *testing.T) {
	schedule := func(rituals ...string) Config {
		cfg := Config{PrometheusURL: closedURL(t), ThresholdsFile: thresholdsFile(t)}
		for _, r := range rituals {
			// Never due while the test runs: 09:00 on 1 January.
			cfg.Schedule = append(cfg.Schedule, Entry{Ritual: r, Cron: "0 9 1 1 *", Targets: []string{"discord"}})
		}
		if err := cfg.Validate([]string{"discord"}); err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	noRun := func(context.Context, Config, Entry, time.Time) error { return nil }
	compare := func(when string, reg *prometheus.Registry, want map[string]float64) {
		t.Helper()
		if err := testutil.GatherAndCompare(reg, strings.NewReader(lastSuccesses(want)), "resonance_relay_ritual_last_success_timestamp_seconds"); err != nil {
			t.Errorf("%s: %v", when, err)
		}
	}
	// between checks that ritual's value is the time it was scheduled.
	between := func(d *Daemon, ritual string, from, to time.Time) float64 {
		t.Helper()
		v := testutil.ToFloat64(d.metrics.lastSuccess.WithLabelValues(ritual))
		if v < unixSeconds(from) || v > unixSeconds(to) {
			t.Errorf("%s: last success %f, want the time it was scheduled, within [%f, %f]", ritual, v, unixSeconds(from), unixSeconds(to))
		}
		return v
	}

	t.Run("no recorded success: the start time", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		d := NewDaemon(reg, noRun, nil, discard)
		before := time.Now()
		if err := d.Apply(schedule("morning", "weekly")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Apply(Config{}) })
		after := time.Now()
		compare("at start", reg, map[string]float64{
			"morning": between(d, "morning", before, after),
			"weekly":  between(d, "weekly", before, after),
		})
	})

	t.Run("recorded success restored; reload", func(t *testing.T) {
		recorded := time.Date(2026, 12, 1, 8, 0, 3, 250_000_000, time.UTC)
		successes := &memSuccesses{at: map[string]time.Time{"morning": recorded, "monthly": recorded.Add(-24 * time.Hour)}}
		reg := prometheus.NewRegistry()
		d := NewDaemon(reg, noRun, successes, discard)
		before := time.Now()
		if err := d.Apply(schedule("morning", "evening")); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Apply(Config{}) })
		after := time.Now()
		started := between(d, "evening", before, after)
		compare("at start", reg, map[string]float64{"morning": 1796112003.25, "evening": started})

		// A success recorded since must not move a kept ritual back to the
		// file's value, nor does a reload move it to the reload's time.
		d.metrics.lastSuccess.WithLabelValues("evening").Set(started + 1)
		time.Sleep(10 * time.Millisecond)
		before = time.Now()
		if err := d.Apply(schedule("evening", "weekly", "monthly")); err != nil {
			t.Fatal(err)
		}
		after = time.Now()
		compare("after a reload", reg, map[string]float64{
			"evening": started + 1,
			"weekly":  between(d, "weekly", before, after),
			"monthly": 1796025603.25,
		})
		runs := `
# HELP resonance_relay_ritual_runs_total Scheduled ritual runs by ritual and outcome (success: the report reached every target).
# TYPE resonance_relay_ritual_runs_total counter
resonance_relay_ritual_runs_total{outcome="failure",ritual="evening"} 0
resonance_relay_ritual_runs_total{outcome="failure",ritual="monthly"} 0
resonance_relay_ritual_runs_total{outcome="failure",ritual="weekly"} 0
resonance_relay_ritual_runs_total{outcome="success",ritual="evening"} 0
resonance_relay_ritual_runs_total{outcome="success",ritual="monthly"} 0
resonance_relay_ritual_runs_total{outcome="success",ritual="weekly"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(runs), "resonance_relay_ritual_runs_total"); err != nil {
			t.Errorf("run counters after the reload: %v", err)
		}

		if err := d.Apply(Config{}); err != nil {
			t.Fatal(err)
		}
		if n := testutil.CollectAndCount(d.metrics.lastSuccess) + testutil.CollectAndCount(d.metrics.runs); n != 0 {
			t.Errorf("%d ritual series left with nothing scheduled", n)
		}
	})
}
