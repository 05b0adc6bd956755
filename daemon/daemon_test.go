package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/tooltest"
)

func TestReloaderKeepsTheRunningConfigAndReportsIt(t *testing.T) {
	reg := prometheus.NewRegistry()
	var fail error
	applied := 0
	r := NewReloader("test", func() error {
		if fail != nil {
			return fail
		}
		applied++
		return nil
	}, promslog.NewNopLogger(), reg)
	mux := http.NewServeMux()
	if err := (Lifecycle{Name: "test", Reloader: r, EnableLifecycle: true}).Register(mux); err != nil {
		t.Fatal(err)
	}
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec
	}

	if rec := post(); rec.Code != http.StatusOK || applied != 1 {
		t.Fatalf("good reload: %d, applied %d", rec.Code, applied)
	}
	if got := testutil.ToFloat64(r.success); got != 1 {
		t.Fatalf("success gauge %v after a good reload", got)
	}

	fail = errors.New(`line 3: wallet_address "SB3K...secret" is not an account`)
	rec := post()
	var body struct{ Error string }
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error == "" {
		t.Fatalf("bad reload: %d %s, want 400 with an error in JSON", rec.Code, rec.Body)
	}
	// The caller may not be the operator: the reason, which can quote the
	// file, stays in the log.
	if strings.Contains(rec.Body.String(), "SB3K") || strings.Contains(rec.Body.String(), "line 3") {
		t.Fatalf("bad reload answer quotes the config: %s", rec.Body)
	}
	if rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("bad reload: Content-Type %q", rec.Header().Get("Content-Type"))
	}
	if applied != 1 || testutil.ToFloat64(r.success) != 0 {
		t.Fatalf("a failed reload must apply nothing and report 0")
	}
	if n, err := testutil.GatherAndCount(reg, "test_config_last_reload_successful", "test_config_last_reload_success_timestamp_seconds"); err != nil || n != 2 {
		t.Fatalf("reload metrics: %d series, %v", n, err)
	}

	get := httptest.NewRecorder()
	mux.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if get.Code != http.StatusMethodNotAllowed || get.Header().Get("Allow") == "" {
		t.Fatalf("GET /-/reload: %d, Allow %q", get.Code, get.Header().Get("Allow"))
	}
}

func TestLifecycleWithoutReloader(t *testing.T) {
	mux := http.NewServeMux()
	if err := (Lifecycle{Name: "test"}).Register(mux); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/-/healthy": 200, "/-/ready": 200, "/": 200, "/-/reload": 404} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}

func TestNewServerHasTimeouts(t *testing.T) {
	srv := NewServer(http.NotFoundHandler(), promslog.NewNopLogger())
	if srv.ReadHeaderTimeout == 0 || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes == 0 {
		t.Fatalf("server without limits: %+v", srv)
	}
}

func TestReloadOverHTTPIsOffByDefault(t *testing.T) {
	applied := 0
	r := NewReloader("test", func() error { applied++; return nil }, promslog.NewNopLogger(), prometheus.NewRegistry())
	mux := http.NewServeMux()
	if err := (Lifecycle{Name: "test", Reloader: r}).Register(mux); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, "/-/reload", nil))
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "--web.enable-lifecycle") {
			t.Errorf("%s /-/reload without --web.enable-lifecycle: %d %s, want 403 naming the flag", method, rec.Code, rec.Body)
		}
	}
	if applied != 0 {
		t.Fatalf("reload ran %d times with the lifecycle API off", applied)
	}

	// The flag itself: off unless given.
	app := kingpin.New("test", "")
	flags := AddFlags(app, "test", ":0", "", "")
	if _, err := app.Parse(nil); err != nil || flags.EnableLifecycle || flags.EnablePprof {
		t.Fatalf("--web.enable-lifecycle defaults to %v, --web.enable-pprof to %v (%v), want false", flags.EnableLifecycle, flags.EnablePprof, err)
	}
	if _, err := app.Parse([]string{"--web.enable-lifecycle"}); err != nil || !flags.EnableLifecycle {
		t.Fatalf("--web.enable-lifecycle not taken: %v", err)
	}
}

func TestReloadRefusesCrossOriginBrowserRequests(t *testing.T) {
	applied := 0
	r := NewReloader("test", func() error { applied++; return nil }, promslog.NewNopLogger(), prometheus.NewRegistry())
	mux := http.NewServeMux()
	if err := (Lifecycle{Name: "test", Reloader: r, EnableLifecycle: true}).Register(mux); err != nil {
		t.Fatal(err)
	}
	// What a form on another site posts from an operator's browser.
	for name, header := range map[string][2]string{
		"Sec-Fetch-Site": {"Sec-Fetch-Site", "cross-site"},
		"Origin":         {"Origin", "https://evil.example"},
	} {
		req := httptest.NewRequest(http.MethodPost, "http://localhost:9861/-/reload", strings.NewReader("x=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(header[0], header[1])
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("cross-origin by %s: %d, want 403", name, rec.Code)
		}
	}
	if applied != 0 {
		t.Fatalf("a cross-origin request reloaded %d times", applied)
	}
	// curl and promtool-like clients send neither header.
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusOK || applied != 1 {
		t.Fatalf("plain POST: %d, applied %d", rec.Code, applied)
	}
}

// SIGHUP reloads whether or not the lifecycle API is enabled.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	reloaded := make(chan struct{}, 1)
	r := NewReloader("test", func() error { reloaded <- struct{}{}; return nil }, promslog.NewNopLogger(), prometheus.NewRegistry())
	addr := tooltest.FreeAddr(t)
	mux := http.NewServeMux()
	if err := (Lifecycle{Name: "test", Reloader: r}).Register(mux); err != nil {
		t.Fatal(err)
	}
	srv := NewServer(mux, promslog.NewNopLogger())
	listen := []string{addr}
	systemd, webConfig := false, ""
	done := make(chan error, 1)
	go func() {
		done <- Run(srv, &web.FlagConfig{WebListenAddresses: &listen, WebSystemdSocket: &systemd, WebConfigFile: &webConfig}, r, promslog.NewNopLogger())
	}()
	// Once it serves, Run has installed its signal handlers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-reloaded:
	case <-time.After(10 * time.Second):
		t.Fatal("SIGHUP did not reload")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SIGTERM did not stop Run")
	}
}
