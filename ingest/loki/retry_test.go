package loki

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
)

// A 429 whose Retry-After asks for 300 ms (a fraction, as gateways in front
// of Loki may send) is retried after 300 ms, not after MinBackoff and not
// refused as unreadable (the forwarder once read whole seconds only).
func TestRetryAfterIsHonoured(t *testing.T) {
	var mu sync.Mutex
	var seen []time.Time
	pushed := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, time.Now())
		if len(seen) == 1 {
			w.Header().Set("Retry-After", "0.3")
			http.Error(w, "Ingestion rate limit exceeded for user tenant-1", http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		if len(seen) == 2 {
			close(pushed)
		}
	}))
	t.Cleanup(srv.Close)
	m := newMetrics()
	f := New(Options{
		URL: srv.URL, QueueSize: 10, MaxRetries: 2, Client: srv.Client(), Logger: promslog.NewNopLogger(), Metrics: m,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second,
	})
	t.Cleanup(func() { f.Close() })
	f.Enqueue(entries())
	select {
	case <-pushed:
	case <-time.After(5 * time.Second):
		t.Fatal("no retry arrived")
	}
	f.Close()
	mu.Lock()
	defer mu.Unlock()
	if waited := seen[1].Sub(seen[0]); waited < 300*time.Millisecond {
		t.Errorf("retried after %s, Loki asked for 300ms", waited)
	}
	if v := testutil.ToFloat64(m.Sent); v != 3 {
		t.Errorf("sent %v, want 3", v)
	}
}
