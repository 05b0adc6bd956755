// Package schedule runs the rituals on their cron schedule inside the relay
// (its config's rituals: section), so no outside cron is needed, and counts
// each run for the RitualMissed alert.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/alertmanager/notify"
	"github.com/quantum-resonance/telemetry/configfile"
	"github.com/quantum-resonance/telemetry/ritual"
	"github.com/quantum-resonance/telemetry/ritual/amstate"
	"github.com/quantum-resonance/telemetry/ritual/report"
	"github.com/quantum-resonance/telemetry/rules"
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
	Timeout  model.Duration `yaml:"timeout"`
	Schedule []Entry        `yaml:"schedule"`
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
	if _, _, err := ritual.ParseNight(c.Night); err != nil {
		errs = append(errs, fmt.Errorf("rituals.night: %w", err))
	}
	if c.AlertmanagerURL != "" {
		if _, err := amstate.New(c.AlertmanagerURL); err != nil {
			errs = append(errs, fmt.Errorf("rituals.alertmanager_url: %w", err))
		}
	}
	if err := c.HTTPClientConfig.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("rituals.http_config: %w", err))
	}
	for i, e := range c.Schedule {
		where := fmt.Sprintf("rituals.schedule[%d]", i)
		if !slices.Contains(report.Rituals, e.Ritual) {
			errs = append(errs, fmt.Errorf("%s: ritual %q is not one of %v", where, e.Ritual, report.Rituals))
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

// ResolvePaths makes the thresholds file relative to dir, the config's.
func (c *Config) ResolvePaths(dir string) {
	if c.Enabled() {
		c.ThresholdsFile = commonconfig.JoinDir(dir, c.ThresholdsFile)
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

// SendFunc posts a report to one relay target.
type SendFunc func(ctx context.Context, target string, r *notify.Report) error

// Scheduler runs one configuration's schedule.
type Scheduler struct {
	cron      *cron.Cron
	cfg       Config
	send      SendFunc
	metrics   *Metrics
	successes Successes // nil: none kept
	logger    *slog.Logger
	api       promv1.API
	loc       *time.Location
	night     [2]time.Duration
	mu        sync.Mutex // one run at a time: they share Prometheus and the channels
	now       func() time.Time
}

// Start schedules the configuration's rituals; Stop ends them. cfg must
// have passed Validate. Each ritual's series exist from now on (see
// Metrics.expose), its last success restored from successes (nil: none
// kept) or else now; each success is recorded there.
func Start(cfg Config, send SendFunc, m *Metrics, successes Successes, logger *slog.Logger) (*Scheduler, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	ns, ne, err := ritual.ParseNight(cfg.Night)
	if err != nil {
		return nil, err
	}
	hc, err := commonconfig.NewClientFromConfig(cfg.HTTPClientConfig, "resonance-relay-rituals")
	if err != nil {
		return nil, err
	}
	client, err := api.NewClient(api.Config{Address: cfg.PrometheusURL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("rituals.prometheus_url: %w", err)
	}
	s := &Scheduler{
		cron:      cron.New(cron.WithLocation(loc), cron.WithParser(parser)),
		cfg:       cfg,
		send:      send,
		metrics:   m,
		successes: successes,
		logger:    logger,
		api:       promv1.NewAPI(client),
		loc:       loc,
		night:     [2]time.Duration{ns, ne},
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
	ctx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeout))
	defer cancel()
	began := s.now()
	err := s.run(ctx, e, began)
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

func (s *Scheduler) run(ctx context.Context, e Entry, at time.Time) error {
	table, err := rules.LoadThresholds(s.cfg.ThresholdsFile)
	if err != nil {
		return err
	}
	runner := &ritual.Runner{API: s.api, Table: table, Location: s.loc, NightStart: s.night[0], NightEnd: s.night[1]}
	if s.cfg.AlertmanagerURL != "" {
		if runner.Alertmanager, err = amstate.New(s.cfg.AlertmanagerURL); err != nil {
			return err
		}
	}
	out, err := runner.Run(ctx, e.Ritual, at)
	if err != nil {
		return err
	}
	rep := out.ChannelReport()
	var errs []error
	for _, t := range e.Targets {
		errs = append(errs, s.send(ctx, t, rep))
	}
	return errors.Join(errs...)
}

// Daemon holds the schedule of the daemon's current configuration: Apply
// replaces it on reload, a run in progress finishing first.
type Daemon struct {
	mu        sync.Mutex
	current   *Scheduler
	metrics   *Metrics
	send      SendFunc
	successes Successes
	logger    *slog.Logger
}

// NewDaemon registers the ritual metrics on reg; nothing runs until Apply.
// successes (nil: none kept) restores the rituals' last successes and
// records new ones.
func NewDaemon(reg prometheus.Registerer, send SendFunc, successes Successes, logger *slog.Logger) *Daemon {
	return &Daemon{metrics: NewMetrics(reg), send: send, successes: successes, logger: logger}
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
	s, err := Start(cfg, d.send, d.metrics, d.successes, d.logger)
	if err != nil {
		return fmt.Errorf("rituals: %w", err)
	}
	d.current = s
	return nil
}

// Shipped is the plan's cadence (ritual.Shipped) sent to targets: the
// schedule `make stack` and docker-compose run.
func Shipped(targets ...string) []Entry {
	entries := make([]Entry, len(ritual.Shipped))
	for i, e := range ritual.Shipped {
		entries[i] = Entry{Ritual: e.Ritual, Cron: e.Cron, Targets: targets}
	}
	return entries
}
