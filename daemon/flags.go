package daemon

import (
	"log/slog"
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"
)

// Flags are the command line both daemons share: the config file and its
// check, exporter-toolkit's web flags, the lifecycle and pprof switches,
// promslog's log flags, --version and -h.
type Flags struct {
	name            string
	ConfigFile      string
	ConfigCheck     bool
	EnableLifecycle bool
	EnablePprof     bool
	Web             *web.FlagConfig
	Log             *promslog.Config
}

// AddFlags adds the shared flags to app, the daemon name's: configHelp
// and checkHelp say what --config.file is and what --config.check reads.
func AddFlags(app *kingpin.Application, name, defaultAddress, configHelp, checkHelp string) *Flags {
	f := &Flags{name: name, Log: &promslog.Config{}, Web: kingpinflag.AddFlags(app, defaultAddress)}
	app.Flag("config.file", configHelp).StringVar(&f.ConfigFile)
	app.Flag("config.check", checkHelp).BoolVar(&f.ConfigCheck)
	// Off by default, as in Prometheus: whoever reaches the port could
	// otherwise make the daemon reload at will, and every reload restarts
	// its probes and pollers.
	app.Flag("web.enable-lifecycle", "Enable reloading the config over HTTP (POST /-/reload). SIGHUP always reloads.").Default("false").BoolVar(&f.EnableLifecycle)
	// Off by default: the profiles show the daemon's internals (and a CPU
	// profile costs CPU while it runs) to whoever reaches the port, behind
	// --web.config.file's auth when it has any.
	app.Flag("web.enable-pprof", "Serve the Go runtime's profiles under /debug/pprof/ and link them from the landing page.").Default("false").BoolVar(&f.EnablePprof)
	flag.AddFlags(app, f.Log)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')
	return f
}

// Parse parses args into app's flags; with --config.check it checks the
// config file with check and exits, 0 when valid.
func (f *Flags) Parse(app *kingpin.Application, args []string, check func(path string) error) {
	kingpin.MustParse(app.Parse(args))
	if f.ConfigCheck {
		os.Exit(CheckConfig(f.ConfigFile, check, os.Stdout, os.Stderr))
	}
}

// Logger is the daemon's logger, after it logged its start with the
// version and build context.
func (f *Flags) Logger() *slog.Logger {
	logger := promslog.New(f.Log)
	logger.Info("Starting "+f.name, "version", version.Info())
	logger.Info("Build context", "build_context", version.BuildContext())
	return logger
}
