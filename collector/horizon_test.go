package collector

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// A Horizon behind maintenance answers 503 with Retry-After (an HTTP date
// here): the next poll waits for it, as after a 429, instead of knocking
// every poll_interval.
func TestWalletHonoursRetryAfterOnServerErrors(t *testing.T) {
	f := newFakeHorizon(t)
	w, _ := newTestWallet(t, testPiConfig(t, f.URL, filepath.Join(t.TempDir(), "wallet.json")))
	at := w.horizon.now().Add(10 * time.Minute) // the wallet's clock
	f.setOverride(func(rw http.ResponseWriter, _ *http.Request) bool {
		rw.Header().Set("Retry-After", at.UTC().Format(http.TimeFormat))
		http.Error(rw, "maintenance", http.StatusServiceUnavailable)
		return true
	})
	wait := w.pollAndWait(context.Background())
	if wait != 10*time.Minute {
		t.Fatalf("next poll in %s, want Retry-After's 10m", wait)
	}
	if got := w.errors[horizonHTTP5xx]; got == 0 {
		t.Fatalf("http_5xx errors = %v, want counted", got)
	}
}
