package schedule

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
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

func TestScheduledRunWithoutPrometheusCountsAFailure(t *testing.T) {
	reg := prometheus.NewRegistry()
	sent := make(chan string, 10)
	d := NewDaemon(reg, func(_ context.Context, target string, _ *notify.Report) error {
		sent <- target
		return nil
	}, nil, discard)
	cfg := Config{
		PrometheusURL:  closedURL(t),
		ThresholdsFile: thresholdsFile(t),
		Timeout:        DefaultTimeout,
		Schedule:       []Entry{{Ritual: "evening", Cron: "@every 1s", Targets: []string{"hub"}}},
	}
	if err := cfg.Validate([]string{"hub"}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := d.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Apply(Config{}) })
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(d.metrics.runs.WithLabelValues("evening", OutcomeFailure)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the schedule did not run within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := testutil.ToFloat64(d.metrics.runs.WithLabelValues("evening", OutcomeSuccess)); n != 0 {
		t.Errorf("%g successes without Prometheus", n)
	}
	if v := testutil.ToFloat64(d.metrics.lastSuccess.WithLabelValues("evening")); v < unixSeconds(before) || v > unixSeconds(time.Now()) {
		t.Errorf("last success after failures only = %f, want the time it was scheduled (%f or a little later)", v, unixSeconds(before))
	}
	select {
	case target := <-sent:
		t.Errorf("a report reached %s although Prometheus could not be read", target)
	default:
	}
}

func TestRunSendsTheReportToEveryTarget(t *testing.T) {
	h := historytest.Run(t)
	reg := prometheus.NewRegistry()
	var (
		mu   sync.Mutex
		got  = map[string]*notify.Report{}
		fail = map[string]bool{}
	)
	send := func(_ context.Context, target string, r *notify.Report) error {
		mu.Lock()
		defer mu.Unlock()
		got[target] = r
		if fail[target] {
			return io.ErrUnexpectedEOF
		}
		return nil
	}
	cfg := Config{PrometheusURL: h.URL, ThresholdsFile: thresholdsFile(t),
		Schedule: []Entry{{Ritual: "evening", Cron: "0 20 * * *", Targets: []string{"discord", "hub"}}}}
	if err := cfg.Validate([]string{"discord", "hub"}); err != nil {
		t.Fatal(err)
	}
	successes := &memSuccesses{}
	s, err := Start(cfg, send, NewMetrics(reg), successes, discard)
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
		r := got[target]
		if r == nil || r.Ritual != "evening" || len(r.Charts) == 0 || !strings.Contains(r.Markdown, "ErrorStorm") {
			t.Fatalf("%s got %+v", target, r)
		}
	}
	if v := testutil.ToFloat64(s.metrics.lastSuccess.WithLabelValues("evening")); v != float64(historytest.End.Unix()) {
		t.Errorf("last success = %g, want %d", v, historytest.End.Unix())
	}
	if at, ok := successes.LastSuccess("evening"); !ok || !at.Equal(historytest.End) {
		t.Errorf("recorded success = %v, %v; want %v", at, ok, historytest.End)
	}
	fail["hub"] = true
	if err := s.Run(t.Context(), cfg.Schedule[0]); err == nil {
		t.Error("a run whose report did not reach the hub succeeded")
	}
	if n := testutil.ToFloat64(s.metrics.runs.WithLabelValues("evening", OutcomeFailure)); n != 1 {
		t.Errorf("failures = %g, want 1", n)
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
	send := func(context.Context, string, *notify.Report) error { return nil }
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
		d := NewDaemon(reg, send, nil, discard)
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
		d := NewDaemon(reg, send, successes, discard)
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
