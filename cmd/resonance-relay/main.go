// Command resonance-relay receives Alertmanager's webhook notifications and
// relays them to Discord, Slack and the telemetry hub in the plan's formats,
// within each channel's limits and with retries, so that Alertmanager hears
// "delivered" only when every message arrived.
package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/daemon"
	"github.com/quantum-resonance/telemetry/ritual/schedule"
)

func main() {
	app := kingpin.New("resonance-relay", "Relays Alertmanager notifications to Discord, Slack and the telemetry hub.")
	flags := daemon.AddFlags(app, "resonance-relay", ":9862",
		"Relay configuration file. Without it every target writes to "+relay.DefaultDeliveriesFile+" in the working directory.",
		"Load and validate --config.file (and the files it names, the message store included), then exit 0 if valid or 1 with the error.")
	flags.Parse(app, os.Args[1:], checkConfig)
	setGCPercent()
	logger := flags.Logger()

	handler, reloader, err := newRelay(flags.ConfigFile, webOptions{enableLifecycle: flags.EnableLifecycle, enablePprof: flags.EnablePprof}, logger)
	if err != nil {
		logger.Error("Cannot start", "err", err)
		os.Exit(1)
	}
	srv := daemon.NewServer(handler, logger)
	if err := daemon.Run(srv, flags.Web, reloader, logger); err != nil {
		logger.Error("Server failed", "err", err)
		os.Exit(1)
	}
}

// setGCPercent lets the heap grow to 5× its live size between collections
// unless GOGC says otherwise. The relay's live heap is a few MB and each
// notification allocates its decoded alerts and rendered messages, so the
// default (2×) collects often; the price is a few MB of memory. Under a
// memory limit (GOMEMLIMIT, else 90 % of the cgroup's limit), which the GC
// keeps the heap below whatever GOGC says, so that a burst of large
// notifications cannot push the relay past its container's limit.
func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if limit, ok := cgroupMemoryLimit(os.DirFS("/")); ok {
			debug.SetMemoryLimit(limit / 10 * 9)
		}
	}
}

// cgroupMemoryLimit is the memory limit of the relay's cgroup (v2
// memory.max, else v1 memory.limit_in_bytes); none when unlimited or
// unreadable.
func cgroupMemoryLimit(root fs.FS) (int64, bool) {
	for _, path := range []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := fs.ReadFile(root, path)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		// "max", or v1's "no limit" (a page-rounded int64 maximum).
		if err != nil || v <= 0 || v >= math.MaxInt64/2 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// checkConfig loads the config as newRelay does, URL and token files
// included, and reads the message store it names.
func checkConfig(path string) error {
	cfg, _, err := loadConfig(path)
	if err != nil {
		return err
	}
	return relay.CheckMessagesFile(cfg)
}

// loadConfig reads the relay's config and the rituals: section in it, which
// the ritual scheduler decodes against the relay's targets; when it
// schedules anything, the resonancetool that runs the rituals must exist.
func loadConfig(path string) (*relay.Config, schedule.Config, error) {
	cfg, err := relay.Load(path)
	if err != nil {
		return nil, schedule.Config{}, err
	}
	rituals, err := schedule.Decode(cfg.Rituals.Node, cfg.Rituals.Dir, cfg.TargetNames())
	if err == nil && rituals.Enabled() {
		_, err = rituals.LookCommand()
	}
	if err != nil {
		return nil, schedule.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, rituals, nil
}

// webOptions are the flags that turn optional endpoints on.
type webOptions struct {
	enableLifecycle bool // --web.enable-lifecycle: POST /-/reload
	enablePprof     bool // --web.enable-pprof: /debug/pprof/
}

// newRelay loads the config and wires the relay, its metrics and the
// lifecycle endpoints into one handler.
func newRelay(configFile string, opts webOptions, logger *slog.Logger) (http.Handler, *daemon.Reloader, error) {
	cfg, ritualsCfg, err := loadConfig(configFile)
	if err != nil {
		return nil, nil, err
	}
	if configFile == "" {
		logger.Info("No --config.file given: targets discord, slack and hub write to " + relay.DefaultDeliveriesFile)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("resonance_relay"),
	)
	rl, err := relay.New(cfg, logger, reg)
	if err != nil {
		return nil, nil, err
	}
	rituals := schedule.NewDaemon(reg, schedule.Exec(configFile), rl, logger)
	if err := rituals.Apply(ritualsCfg); err != nil {
		return nil, nil, err
	}
	reloader := daemon.NewReloader("resonance_relay", func() error {
		cfg, ritualsCfg, err := loadConfig(configFile)
		if err != nil {
			return err
		}
		if err := rl.Apply(cfg); err != nil {
			return err
		}
		return rituals.Apply(ritualsCfg)
	}, logger, reg)

	mux := http.NewServeMux()
	mux.Handle("/webhook/{target}", rl)
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 10,
		Registry:            reg,
	})))
	lifecycle := daemon.Lifecycle{
		Name:        "Resonance Relay",
		Description: "Relays Alertmanager notifications to Discord, Slack and the telemetry hub",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/-/healthy", Text: "Health"},
		},
		Reloader:        reloader,
		EnableLifecycle: opts.enableLifecycle,
		EnablePprof:     opts.enablePprof,
	}
	if err := lifecycle.Register(mux); err != nil {
		return nil, nil, err
	}
	return mux, reloader, nil
}
