// Package schedule runs the rituals on their cron schedule inside the relay
// (its config's rituals: section), so no outside cron is needed, and counts
// each run for the RitualMissed alert. A run is `resonancetool ritual`, the
// same command a cron job or the chart's CronJobs run: the relay's binary
// links no Prometheus queries, charts or dashboards (see the README's
// package map), and a report that crashes cannot take the relay with it.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/configfile"
	"github.com/quantum-resonance/telemetry/ritual/cadence"
)

// Config is the relay config's rituals: section.
type Config struct {
	// PrometheusURL is where the history is read.
	PrometheusURL string `yaml:"prometheus_url"`
	// HTTPClientConfig: auth, TLS and proxy for Prometheus.
	HTTPClientConfig commonconfig.HTTPClientConfig `yaml:"http_config,omitempty"`
	// AlertmanagerURL, optional, adds silences to the morning review.
	AlertmanagerURL string `yaml:"alertmanager_url,omitempty"`
	// ThresholdsFile is the thresholds table, read at every run; relative
	// to the config file's directory.
	ThresholdsFile string `yaml:"thresholds_file"`
	// Timezone of the cron expressions, the night and the days.
	Timezone string `yaml:"timezone"`
	// Night is the morning review's night, "22:00-08:00".
	Night string `yaml:"night"`
	// Timeout bounds one run, report and delivery.
	Timeout model.Duration `yaml:"timeout"`
	// Command is the resonancetool that runs each ritual: a path (relative
	// to the config file's directory) or a name looked up on PATH. Empty:
	// the resonancetool next to the relay's executable, else on PATH.
	Command  string  `yaml:"command,omitempty"`
	Schedule []Entry `yaml:"schedule"`
}

// Entry runs one ritual on a cron expression and sends it to targets.
type Entry struct {
	Ritual  string   `yaml:"ritual"`
	Cron    string   `yaml:"cron"`
	Targets []string `yaml:"targets"`
}

// Defaults of the section, filled in by Validate.
const (
	DefaultPrometheusURL  = "http://localhost:9090"
	DefaultThresholdsFile = "rules/thresholds.yml"
	DefaultNight          = "22:00-08:00"
	DefaultTimeout        = model.Duration(5 * time.Minute)
	DefaultCommand        = "resonancetool"
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Decode reads the relay config's rituals: section (nil: none) strictly,
// resolves its paths against dir, the config file's, fills in its defaults
// and validates it against the relay's target names.
func Decode(section *yaml.Node, dir string, targets []string) (Config, error) {
	var c Config
	if section != nil {
		data, err := yaml.Marshal(section)
		if err != nil {
			return Config{}, fmt.Errorf("rituals: %w", err)
		}
		if err := configfile.Decode(data, &c); err != nil {
			return Config{}, fmt.Errorf("rituals: %w", err)
		}
	}
	c.ResolvePaths(dir)
	if err := c.Validate(targets); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Enabled is true when the section schedules anything.
func (c *Config) Enabled() bool { return c != nil && len(c.Schedule) > 0 }

// Validate fills in defaults and checks every entry against the relay's
// target names, so a typo fails at load, not at 08:00.
func (c *Config) Validate(targets []string) error {
	if !c.Enabled() {
		return nil
	}
	if c.PrometheusURL == "" {
		c.PrometheusURL = DefaultPrometheusURL
	}
	if c.ThresholdsFile == "" {
		c.ThresholdsFile = DefaultThresholdsFile
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.Night == "" {
		c.Night = DefaultNight
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	var errs []error
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("rituals.timezone: %w", err))
	}
	if _, _, err := cadence.ParseNight(c.Night); err != nil {
		errs = append(errs, fmt.Errorf("rituals.night: %w", err))
	}
	for key, u := range map[string]string{"prometheus_url": c.PrometheusURL, "alertmanager_url": c.AlertmanagerURL} {
		if err := checkURL(u); err != nil {
			errs = append(errs, fmt.Errorf("rituals.%s: %w", key, err))
		}
	}
	if err := c.HTTPClientConfig.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("rituals.http_config: %w", err))
	}
	for i, e := range c.Schedule {
		where := fmt.Sprintf("rituals.schedule[%d]", i)
		if !slices.Contains(cadence.Rituals, e.Ritual) {
			errs = append(errs, fmt.Errorf("%s: ritual %q is not one of %v", where, e.Ritual, cadence.Rituals))
		}
		if _, err := parser.Parse(e.Cron); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): cron %q: %w", where, e.Ritual, e.Cron, err))
		}
		if len(e.Targets) == 0 {
			errs = append(errs, fmt.Errorf("%s (%s): no targets", where, e.Ritual))
		}
		for _, t := range e.Targets {
			if !slices.Contains(targets, t) {
				errs = append(errs, fmt.Errorf("%s (%s): no target named %q", where, e.Ritual, t))
			}
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts "" (not set) and absolute http(s) URLs.
func checkURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL with a host", s)
	}
	return nil
}

// ResolvePaths makes the thresholds file and a command given as a path
// relative to dir, the config's.
func (c *Config) ResolvePaths(dir string) {
	if c.Enabled() {
		c.ThresholdsFile = commonconfig.JoinDir(dir, c.ThresholdsFile)
		c.Command = resolveCommand(dir, c.Command)
	}
	c.HTTPClientConfig.SetDirectory(dir)
}

// Outcomes of a run.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// runOutcomes is every outcome of a run: each scheduled ritual has all of
// them from the start, at 0.
var runOutcomes = [...]string{OutcomeSuccess, OutcomeFailure}

// Successes remembers each ritual's last success across restarts. The relay
// keeps them in its state file (delivery.messages_file) beside the Discord
// message ids.
type Successes interface {
	// LastSuccess is when ritual last succeeded, if it is recorded.
	LastSuccess(ritual string) (time.Time, bool)
	// RecordSuccess records a success of ritual at at.
	RecordSuccess(ritual string, at time.Time) error
}

// Metrics of the scheduled runs, registered once for the daemon's life.
type Metrics struct {
	runs        *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec

	mu        sync.Mutex
	scheduled map[string]bool // rituals whose series are exposed
}

// NewMetrics registers the ritual metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_ritual_runs_total",
			Help: "Scheduled ritual runs by ritual and outcome (success: the report reached every target).",
		}, []string{"ritual", "outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "resonance_relay_ritual_last_success_timestamp_seconds",
			Help: "When the ritual last ran and reached every target, as a Unix timestamp; until a success is recorded, when the relay scheduled it (its start, or the reload that added it).",
		}, []string{"ritual"}),
		scheduled: map[string]bool{},
	}
	reg.MustRegister(m.runs, m.lastSuccess)
	return m
}

// expose makes the series of the rituals of schedule exist, and only
// theirs: the run counters at 0, and the last success of a ritual not
// scheduled before as recorded in successes (nil: none), or else now, the
// time it is scheduled. A ritual scheduled before keeps its values; the
// series of one no longer scheduled are deleted.
func (m *Metrics) expose(schedule []Entry, successes Successes, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := map[string]bool{}
	for _, e := range schedule {
		next[e.Ritual] = true
	}
	for r := range m.scheduled {
		if !next[r] {
			m.runs.DeletePartialMatch(prometheus.Labels{"ritual": r})
			m.lastSuccess.DeleteLabelValues(r)
		}
	}
	for r := range next {
		for _, o := range runOutcomes {
			m.runs.WithLabelValues(r, o)
		}
		if m.scheduled[r] {
			continue
		}
		at := now
		if successes != nil {
			if t, ok := successes.LastSuccess(r); ok {
				at = t
			}
		}
		m.lastSuccess.WithLabelValues(r).Set(unixSeconds(at))
	}
	m.scheduled = next
}

func unixSeconds(t time.Time) float64 { return float64(t.Unix()) + float64(t.Nanosecond())/1e9 }

// RunFunc runs one entry: the report of the window ending at at, sent to
// every target of the entry. Exec is the relay's.
type RunFunc func(ctx context.Context, cfg Config, e Entry, at time.Time) error

// Scheduler runs one configuration's schedule.
type Scheduler struct {
	cron      *cron.Cron
	cfg       Config
	run       RunFunc
	metrics   *Metrics
	successes Successes // nil: none kept
	logger    *slog.Logger
	mu        sync.Mutex // one run at a time: they share Prometheus and the channels
	now       func() time.Time
}

// Start schedules the configuration's rituals, each run by run; Stop ends
// them. cfg must have passed Validate. Each ritual's series exist from now
// on (see Metrics.expose), its last success restored from successes (nil:
// none kept) or else now; each success is recorded there.
func Start(cfg Config, run RunFunc, m *Metrics, successes Successes, logger *slog.Logger) (*Scheduler, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		cron:      cron.New(cron.WithLocation(loc), cron.WithParser(parser)),
		cfg:       cfg,
		run:       run,
		metrics:   m,
		successes: successes,
		logger:    logger,
		now:       time.Now,
	}
	for _, e := range cfg.Schedule {
		if _, err := s.cron.AddFunc(e.Cron, func() { _ = s.Run(context.Background(), e) }); err != nil {
			return nil, err
		}
		logger.Info("Ritual scheduled", "ritual", e.Ritual, "cron", e.Cron, "timezone", cfg.Timezone, "targets", e.Targets)
	}
	// Before the first run can start: a ritual that never ran shows as
	// such, and one failing since the start is late once its period has
	// passed since then.
	m.expose(cfg.Schedule, successes, s.now())
	s.cron.Start()
	return s, nil
}

// Stop ends the schedule and waits for a run in progress.
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
}

// Run runs one entry now: the report for the window ending now, sent to
// every target. It succeeds only when every target got the report.
func (s *Scheduler) Run(ctx context.Context, e Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The run bounds itself by the timeout (resonancetool's --timeout);
	// the grace lets it say so before it is killed.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeout)+killGrace)
	defer cancel()
	began := s.now()
	err := s.run(ctx, s.cfg, e, began)
	if err != nil {
		s.metrics.runs.WithLabelValues(e.Ritual, OutcomeFailure).Inc()
		s.logger.Error("Ritual failed", "ritual", e.Ritual, "err", err)
		return err
	}
	s.metrics.runs.WithLabelValues(e.Ritual, OutcomeSuccess).Inc()
	at := s.now()
	s.metrics.lastSuccess.WithLabelValues(e.Ritual).Set(unixSeconds(at))
	if s.successes != nil {
		if err := s.successes.RecordSuccess(e.Ritual, at); err != nil {
			s.logger.Error("Cannot save the ritual's success; after a restart its last success will be the start time", "ritual", e.Ritual, "err", err)
		}
	}
	s.logger.Info("Ritual sent", "ritual", e.Ritual, "targets", e.Targets, "took", s.now().Sub(began).Round(time.Millisecond))
	return nil
}

// Daemon holds the schedule of the daemon's current configuration: Apply
// replaces it on reload, a run in progress finishing first.
type Daemon struct {
	mu        sync.Mutex
	current   *Scheduler
	metrics   *Metrics
	run       RunFunc
	successes Successes
	logger    *slog.Logger
}

// NewDaemon registers the ritual metrics on reg; nothing runs until Apply.
// Each run is run (Exec for the relay). successes (nil: none kept)
// restores the rituals' last successes and records new ones.
func NewDaemon(reg prometheus.Registerer, run RunFunc, successes Successes, logger *slog.Logger) *Daemon {
	return &Daemon{metrics: NewMetrics(reg), run: run, successes: successes, logger: logger}
}

// Apply stops the running schedule and starts cfg's (none when cfg
// schedules nothing). The series of rituals cfg no longer schedules go.
func (d *Daemon) Apply(cfg Config) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current != nil {
		d.current.Stop()
		d.current = nil
	}
	if !cfg.Enabled() {
		d.metrics.expose(nil, nil, time.Time{})
		return nil
	}
	s, err := Start(cfg, d.run, d.metrics, d.successes, d.logger)
	if err != nil {
		return fmt.Errorf("rituals: %w", err)
	}
	d.current = s
	return nil
}

// Shipped is the plan's cadence (cadence.Shipped) sent to targets: the
// schedule `make stack` and docker-compose run.
func Shipped(targets ...string) []Entry {
	entries := make([]Entry, len(cadence.Shipped))
	for i, e := range cadence.Shipped {
		entries[i] = Entry{Ritual: e.Ritual, Cron: e.Cron, Targets: targets}
	}
	return entries
}
