package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ingest"
)

// limitedHub is a real ingest API whose first answer is refuse's, with the
// time of each request.
func limitedHub(t *testing.T, refuse func(http.ResponseWriter)) (logsURL string, times func() []time.Time) {
	t.Helper()
	srv, _, _ := hub(t, 0)
	target, _ := url.Parse(srv.URL)
	// Rewrite without SetXForwarded: the API refuses relayed requests
	// when no API keys are configured.
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	var mu sync.Mutex
	var seen []time.Time
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			refuse(w)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL + ingest.LogsPath, func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Time(nil), seen...)
	}
}

// The ingest API answers 503 with Retry-After when it is overloaded; the
// client waits that long before its retry instead of its own backoff's
// milliseconds, which would add to the overload. (Before httpretry the
// client ignored the header.)
func TestRetryAfterIsHonoured(t *testing.T) {
	logsURL, times := limitedHub(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "0.4")
		http.Error(w, `{"error":"overloaded"}`, http.StatusServiceUnavailable)
	})
	s, _ := New(Options{URL: logsURL, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second, FlushInterval: time.Hour})
	s.Log("INFO", "x", nil)
	if err := s.Close(context.Background()); err != nil || s.Sent() != 1 {
		t.Fatalf("sent %d: %v", s.Sent(), err)
	}
	seen := times()
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2", len(seen))
	}
	if waited := seen[1].Sub(seen[0]); waited < 400*time.Millisecond {
		t.Errorf("retried after %s, the hub asked for 400ms", waited)
	}
}

// A Retry-After longer than MaxBackoff is cut to it: a batch never waits
// longer than the user allowed while entries pile up behind it.
func TestRetryAfterIsCappedAtMaxBackoff(t *testing.T) {
	logsURL, times := limitedHub(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	s, _ := New(Options{URL: logsURL, MinBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond, FlushInterval: time.Hour})
	s.Log("INFO", "x", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil || s.Sent() != 1 {
		t.Fatalf("sent %d: %v", s.Sent(), err)
	}
	if seen := times(); len(seen) != 2 || seen[1].Sub(seen[0]) < 50*time.Millisecond {
		t.Errorf("requests at %v, want a retry after MaxBackoff's 50ms", seen)
	}
}
