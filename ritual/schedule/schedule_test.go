package schedule

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
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
	}, discard)
	cfg := Config{
		PrometheusURL:  closedURL(t),
		ThresholdsFile: thresholdsFile(t),
		Timeout:        DefaultTimeout,
		Schedule:       []Entry{{Ritual: "evening", Cron: "@every 1s", Targets: []string{"hub"}}},
	}
	if err := cfg.Validate([]string{"hub"}); err != nil {
		t.Fatal(err)
	}
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
	if n := testutil.CollectAndCount(d.metrics.lastSuccess); n != 0 {
		t.Errorf("a last-success time without a success (%d series)", n)
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
	s, err := Start(cfg, send, NewMetrics(reg), discard)
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
	fail["hub"] = true
	if err := s.Run(t.Context(), cfg.Schedule[0]); err == nil {
		t.Error("a run whose report did not reach the hub succeeded")
	}
	if n := testutil.ToFloat64(s.metrics.runs.WithLabelValues("evening", OutcomeFailure)); n != 1 {
		t.Errorf("failures = %g, want 1", n)
	}
}
