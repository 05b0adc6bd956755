package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest"
)

// hub is a real ingest API behind an optional fault injector.
func hub(t *testing.T, failFirst int) (*httptest.Server, *ingest.Store, *atomic.Int32) {
	t.Helper()
	return hubWith(t, failFirst, nil)
}

func hubWith(t *testing.T, failFirst int, edit func(*config.IngestConfig)) (*httptest.Server, *ingest.Store, *atomic.Int32) {
	t.Helper()
	store := ingest.NewStore(ingest.Limits{})
	api := ingest.NewAPI(store, promslog.NewNopLogger())
	cfg := config.Default().Ingest
	if edit != nil {
		edit(&cfg)
	}
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
	wantLogEntries(t, store, `
resonance_log_entries_total{level="error",service="quantum-resonance"} 1
resonance_log_entries_total{level="info",service="quantum-resonance"} 249
resonance_log_entries_total{level="critical",service="svc"} 0
resonance_log_entries_total{level="debug",service="svc"} 0
resonance_log_entries_total{level="error",service="svc"} 0
resonance_log_entries_total{level="info",service="svc"} 0
resonance_log_entries_total{level="warning",service="svc"} 0
`)
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
	wantLogEntries(t, store, `
resonance_log_entries_total{level="critical",service="svc"} 0
resonance_log_entries_total{level="debug",service="svc"} 0
resonance_log_entries_total{level="error",service="svc"} 0
resonance_log_entries_total{level="info",service="svc"} 0
resonance_log_entries_total{level="warning",service="svc"} 1
`)
}

func TestLogRefusesWhatTheAPIWould(t *testing.T) {
	srv, _, requests := hub(t, 0)
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, MinBackoff: time.Millisecond, FlushInterval: time.Hour})
	for _, bad := range []func() error{
		func() error { return s.Log("LOUD", "x", nil) },
		func() error { return s.Log("INFO", strings.Repeat("m", 64<<10+1), nil) },
		func() error { return s.Log("INFO", "x", map[string]any{"f": func() {}}) },
	} {
		if err := bad(); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("Log: %v, want ErrInvalidEntry", err)
		}
	}
	if err := s.Log("info", "fine", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if requests.Load() != 1 || s.Sent() != 1 || s.Rejected() != 3 || s.Dropped() != 3 {
		t.Errorf("requests %d sent %d rejected %d dropped %d, want 1 1 3 3", requests.Load(), s.Sent(), s.Rejected(), s.Dropped())
	}
}

// A 400 names the entry it refused: only that one is dropped, the other 98
// of the batch are sent again. The real API answers; a proxy in front of
// it spoils one entry the client let through.
func TestRefusedEntryIsDroppedAlone(t *testing.T) {
	srv, store, requests := hub(t, 0)
	spoiler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		body = bytes.Replace(body, []byte(`"level":"INFO","message":"poison"`), []byte(`"level":"LOUD","message":"poison"`), 1)
		req, _ := http.NewRequest(r.Method, srv.URL+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer spoiler.Close()
	// One batch, sent by Close, which returns its error.
	s, _ := New(Options{URL: spoiler.URL + ingest.LogsPath, BatchSize: 100, MinBackoff: time.Millisecond, FlushInterval: time.Hour})
	for i := range 99 {
		msg := "ok"
		if i == 37 {
			msg = "poison"
		}
		s.Log("INFO", msg, nil)
	}
	err := s.Close(context.Background())
	var perm *PermanentError
	if !asPermanent(err, &perm) || perm.Status != http.StatusBadRequest || perm.Index != 37 {
		t.Fatalf("err %v, want the 400 naming entry 37", err)
	}
	if s.Sent() != 98 || s.Rejected() != 1 || s.Dropped() != 1 || requests.Load() != 2 {
		t.Fatalf("sent %d rejected %d dropped %d requests %d, want 98 1 1 2", s.Sent(), s.Rejected(), s.Dropped(), requests.Load())
	}
	wantLogEntries(t, store, `
resonance_log_entries_total{level="critical",service="svc"} 0
resonance_log_entries_total{level="debug",service="svc"} 0
resonance_log_entries_total{level="error",service="svc"} 0
resonance_log_entries_total{level="info",service="svc"} 98
resonance_log_entries_total{level="warning",service="svc"} 0
`)
}

// A 413 splits the batch until the halves fit.
func TestTooLargeBatchIsSplit(t *testing.T) {
	srv, _, requests := hubWith(t, 0, func(c *config.IngestConfig) { c.MaxBodyBytes = 4 << 10 })
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, MinBackoff: time.Millisecond, FlushInterval: time.Hour})
	for range 100 {
		s.Log("INFO", strings.Repeat("x", 100), nil)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Sent() != 100 || s.Dropped() != 0 {
		t.Fatalf("sent %d dropped %d after %d requests, want all 100 sent", s.Sent(), s.Dropped(), requests.Load())
	}
}

// Batches are cut by bytes too, so that a batch of large entries stays
// under the API's body limit in the first place.
func TestBatchesAreBoundedInBytes(t *testing.T) {
	srv, _, requests := hubWith(t, 0, func(c *config.IngestConfig) { c.MaxBodyBytes = 64 << 10 })
	s, _ := New(Options{URL: srv.URL + ingest.LogsPath, MaxBatchBytes: 60 << 10, FlushInterval: time.Hour})
	for range 10 {
		if err := s.Log("INFO", strings.Repeat("x", 20<<10), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.Sent() != 10 || requests.Load() != 5 {
		t.Fatalf("sent %d in %d requests, want 10 in 5 (two 20 KiB entries a batch)", s.Sent(), requests.Load())
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

// wantLogEntries compares the store's resonance_log_entries_total series
// with the given exposition lines.
func wantLogEntries(t *testing.T, store prometheus.Collector, series string) {
	t.Helper()
	const header = "# HELP resonance_log_entries_total Log entries pushed to the ingest API, by service and level.\n" +
		"# TYPE resonance_log_entries_total counter\n"
	if err := testutil.CollectAndCompare(store, strings.NewReader(header+strings.TrimPrefix(series, "\n")), "resonance_log_entries_total"); err != nil {
		t.Error(err)
	}
}
