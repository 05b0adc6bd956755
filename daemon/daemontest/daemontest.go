// Package daemontest checks, for each daemon's main, what it owes the
// daemon package's contract.
package daemontest

import (
	"net/http"
	"strings"
	"testing"
)

// Get serves a GET of path and answers its status and body.
type Get func(path string) (status int, body string)

// CheckPprof holds a daemon started with --web.enable-pprof set to enabled:
// its landing page links the heap profile and the profiles answer only
// when it is set.
func CheckPprof(t *testing.T, enabled bool, get Get) {
	t.Helper()
	if _, page := get("/"); strings.Contains(page, "debug/pprof/heap") != enabled {
		t.Errorf("pprof %t: the landing page links the heap profile: %t", enabled, !enabled)
	}
	want := http.StatusNotFound
	if enabled {
		want = http.StatusOK
	}
	for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/"} {
		if code, _ := get(path); code != want {
			t.Errorf("pprof %t: GET %s: %d, want %d", enabled, path, code, want)
		}
	}
}
