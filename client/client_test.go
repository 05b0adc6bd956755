package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

// hub is a real ingest API behind an optional fault injector.
func hub(t *testing.T, failFirst int) (*httptest.Server, *ingest.Store, *atomic.Int32) {
	t.Helper()
	store := ingest.NewStore(ingest.Limits{})
	api := ingest.NewAPI(store, promslog.NewNopLogger())
	cfg := config.Default().Ingest
	if err := api.ApplyConfig(cfg, "svc"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(requests.Add(1)) <= failFirst {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, store, &requests
}

func TestBatchesOf100AndCloseFlushes(t *testing.T) {
	srv, store, requests := hub(t, 0)
	s, err := New(Options{URL: srv.URL + ingest.LogsPath, Service: "quantum-resonance", Source: "go-app", FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 249 {
		s.Log("INFO", "hello", map[string]any{"k": 1})
	}
	s.Log("ERROR", "boom", nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != 3 {
		t.Errorf("%d requests, want 3 (100, 100, 50)", got)
	}
	want := `
# HELP resonance_log_entries_total Log entries pushed to the ingest API, by service and level.
# TYPE resonance_log_entries_total counter
resonance_log_entries_total{level="error",service="quantum-resonance"} 1
resonance_log_entries_total{level="info",service="quantum-resonance"} 249
resonance_log_entries_total{level="critical",service="svc"} 0
resonance_log_entries_total{level="debug",service="svc"} 0
resonance_log_entries_total{level="error",service="svc"} 0
resonance_log_entries_total{level="info",service="svc"} 0
resonance_log_entries_total{level="warning",service="svc"} 0
`
	if err := testutil.CollectAndCompare(store, strings.NewReader(want), "resonance_log_entries_total"); err != nil {
		t.Error(err)
	}
	if s.Sent() != 250 || s.Dropped() != 0 {
		t.Errorf("sent %d dropped %d", s.Sent(), s.Dropped())
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	srv, store, _ := hub(t, 2)
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, MinBackoff: time.Millisecond, FlushInterval: time.Hour})
	s.Log("WARN", "x", nil)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The entry counts once, however often its batch was retried (the
	// configured service "svc" has its levels pre-initialised at 0).
	want := `
# HELP resonance_log_entries_total Log entries pushed to the ingest API, by service and level.
# TYPE resonance_log_entries_total counter
resonance_log_entries_total{level="critical",service="svc"} 0
resonance_log_entries_total{level="debug",service="svc"} 0
resonance_log_entries_total{level="error",service="svc"} 0
resonance_log_entries_total{level="info",service="svc"} 0
resonance_log_entries_total{level="warning",service="svc"} 1
`
	if err := testutil.CollectAndCompare(store, strings.NewReader(want), "resonance_log_entries_total"); err != nil {
		t.Error(err)
	}
}

func TestRefusalIsNotRetried(t *testing.T) {
	srv, _, requests := hub(t, 0)
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, MinBackoff: time.Millisecond, FlushInterval: time.Hour})
	s.Log("LOUD", "x", nil)
	err := s.Close(context.Background())
	var perm *PermanentError
	if !asPermanent(err, &perm) || perm.Status != http.StatusBadRequest {
		t.Fatalf("err %v, want a 400 PermanentError", err)
	}
	if requests.Load() != 1 || s.Dropped() != 1 {
		t.Errorf("requests %d dropped %d, want 1 and 1", requests.Load(), s.Dropped())
	}
}

func TestBufferIsBounded(t *testing.T) {
	// Nothing listens here: every send fails.
	s, _ := New(Options{URL: "http://127.0.0.1:1/api/v1/logs", MaxBuffered: 50, BatchSize: 1000, FlushInterval: time.Hour, MaxRetries: 1, MinBackoff: time.Millisecond})
	for range 80 {
		s.Log("INFO", "x", nil)
	}
	if d := s.Dropped(); d != 30 {
		t.Errorf("dropped %d while buffering, want 30", d)
	}
	if err := s.Close(context.Background()); err == nil {
		t.Error("Close reported success with the hub down")
	}
	if d := s.Dropped(); d != 80 {
		t.Errorf("dropped %d after Close, want 80", d)
	}
}

func TestFlushOnInterval(t *testing.T) {
	srv, store, _ := hub(t, 0)
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, FlushInterval: 10 * time.Millisecond})
	defer s.Close(context.Background())
	s.Log("INFO", "x", nil)
	deadline := time.Now().Add(5 * time.Second)
	for testutil.CollectAndCount(store, "resonance_log_entries_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not flushed on the interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func asPermanent(err error, target **PermanentError) bool { return errors.As(err, target) }
