package daemon

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
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
	if err := (Lifecycle{Name: "test", Reloader: r}).Register(mux); err != nil {
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

	fail = errors.New(`line 3: unknown key "mountpont"`)
	rec := post()
	var body struct{ Error string }
	if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &body) != nil ||
		!strings.Contains(body.Error, `unknown key "mountpont"`) {
		t.Fatalf("bad reload: %d %s, want 400 with the reason in JSON", rec.Code, rec.Body)
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
