// Package daemon holds the HTTP lifecycle both resonance daemons share: the
// hardened http.Server, the landing page, health and readiness, config reload
// over HTTP and SIGHUP, and graceful shutdown on SIGTERM, served through
// exporter-toolkit so TLS and basic auth come from --web.config.file.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/exporter-toolkit/web"
)

// PprofLinks are the landing page's profiling links when pprof is served.
// The CPU profile lasts CPUProfileSeconds, well within WriteTimeout, past
// which net/http/pprof refuses a profile.
var PprofLinks = []web.LandingLinks{
	{Address: "/debug/pprof/heap", Text: "Heap profile", Description: "memory in use, pprof format"},
	{Address: fmt.Sprintf("/debug/pprof/profile?seconds=%d", CPUProfileSeconds), Text: "CPU profile", Description: fmt.Sprintf("%d seconds, pprof format", CPUProfileSeconds)},
	{Address: "/debug/pprof/", Text: "Profiles", Description: "every profile of the Go runtime"},
}

// CPUProfileSeconds is the length of the landing page's CPU profile, go
// tool pprof's default.
const CPUProfileSeconds = 30

// Server timeouts: a slow or stalled client must not hold a goroutine and its
// buffers forever. The write timeout leaves room for a slow /metrics scrape
// and for the relay's delivery deadline.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
	ShutdownTimeout   = 15 * time.Second
)

// NewServer returns an http.Server with the timeouts and header limit above.
func NewServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}

// Reloader serialises configuration reloads, whether they come from
// POST /-/reload or from SIGHUP. A failed reload keeps the running config.
// Like Prometheus, it reports the outcome of the last attempt as metrics.
type Reloader struct {
	mu     sync.Mutex
	reload func() error
	logger *slog.Logger

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

// NewReloader wraps reload, which must load, validate and apply the config
// and leave the running one untouched when it returns an error. It
// registers <prefix>_config_last_reload_successful and
// <prefix>_config_last_reload_success_timestamp_seconds with reg, counting
// the config loaded at start as the first successful load.
func NewReloader(prefix string, reload func() error, logger *slog.Logger, reg prometheus.Registerer) *Reloader {
	r := &Reloader{
		reload: reload,
		logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: prefix + "_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: prefix + "_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	reg.MustRegister(r.success, r.timestamp)
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	return r
}

// Reload runs one reload and logs and reports its outcome.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.reload(); err != nil {
		r.success.Set(0)
		r.logger.Error("Config reload failed, keeping the running config", "err", err)
		return err
	}
	r.success.Set(1)
	r.timestamp.SetToCurrentTime()
	r.logger.Info("Config reloaded")
	return nil
}

// ReloadFailedMessage is the whole answer to a rejected reload over HTTP.
// The reason goes to the log only: it may quote the config file, and the
// caller need not be the operator.
const ReloadFailedMessage = "config reload failed, the running config is kept: see the daemon's log for the reason"

// ServeHTTP answers POST /-/reload: 200 when applied, 400 when the new
// config was rejected.
func (r *Reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		WriteError(w, http.StatusMethodNotAllowed, "reload requires POST or PUT")
		return
	}
	if err := r.Reload(); err != nil {
		WriteError(w, http.StatusBadRequest, ReloadFailedMessage)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "reloaded"})
}

// Lifecycle describes the endpoints every daemon serves besides its own.
type Lifecycle struct {
	Name        string // e.g. "resonance-exporter"
	Description string
	Version     string
	Links       []web.LandingLinks
	Reloader    *Reloader // nil: /-/reload answers 404
	// EnableLifecycle (--web.enable-lifecycle) serves /-/reload; without
	// it the endpoint answers 403 and only SIGHUP reloads.
	EnableLifecycle bool
	// EnablePprof (--web.enable-pprof) serves net/http/pprof under
	// /debug/pprof/ and links its profiles from the landing page; without
	// it there are neither links nor profiles.
	EnablePprof bool
}

// Register adds /, /-/healthy, /-/ready and /-/reload to mux, and
// /debug/pprof/ when enabled.
func (l Lifecycle) Register(mux *http.ServeMux) error {
	links := slices.Clone(l.Links)
	if l.EnablePprof {
		links = append(links, PprofLinks...)
	}
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        l.Name,
		Description: l.Description,
		Version:     l.Version,
		Links:       links,
		// exporter-toolkit's own profiling links ask for a 60 s CPU
		// profile, which WriteTimeout refuses: PprofLinks replace them.
		Profiling: "false",
	})
	if err != nil {
		return fmt.Errorf("landing page: %w", err)
	}
	mux.Handle("/", landing)
	ok := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "OK")
	}
	mux.HandleFunc("/-/healthy", ok)
	mux.HandleFunc("/-/ready", ok)
	if l.EnablePprof {
		// pprof.Index also serves the named profiles (heap, goroutine,
		// allocs, block, mutex, threadcreate) under /debug/pprof/<name>.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	switch {
	case l.Reloader == nil:
	case !l.EnableLifecycle:
		mux.HandleFunc("/-/reload", func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusForbidden, "Lifecycle API is not enabled: start with --web.enable-lifecycle, or send SIGHUP")
		})
	default:
		// A web page open in an operator's browser must not be able to
		// post here: refuse cross-origin browser requests.
		csrf := http.NewCrossOriginProtection()
		csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusForbidden, "cross-origin requests to the lifecycle API are refused")
		}))
		mux.Handle("/-/reload", csrf.Handler(l.Reloader))
	}
	return nil
}

// WriteJSON writes v as a JSON body with the given status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes {"error": msg} with the given status code.
func WriteError(w http.ResponseWriter, code int, msg string) {
	WriteJSON(w, code, map[string]string{"error": msg})
}

// Run serves srv with exporter-toolkit until SIGTERM or SIGINT (graceful
// shutdown) or a serving error. SIGHUP triggers reloader, when not nil.
func Run(srv *http.Server, flags *web.FlagConfig, reloader *Reloader, logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if reloader != nil {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-hup:
					_ = reloader.Reload()
				case <-ctx.Done():
					return
				}
			}
		}()
	}

	served := make(chan error, 1)
	go func() { served <- web.ListenAndServe(srv, flags, logger) }()

	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		logger.Info("Shutting down gracefully", "timeout", ShutdownTimeout)
		shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
}
