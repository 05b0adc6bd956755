package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
)

// The landing page links the profiles only with --web.enable-pprof, and
// they answer only then.
func TestPprofOnlyWithTheFlag(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "relay.yml")
	if err := os.WriteFile(cfgPath, []byte("targets:\n  - {name: hub, type: file, path: "+filepath.Join(filepath.Dir(cfgPath), "hub.jsonl")+", format: hub}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, enabled := range []bool{false, true} {
		h, _, err := newRelay(cfgPath, webOptions{enablePprof: enabled}, promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		page := serve(h, http.MethodGet, "/", "").Body.String()
		if strings.Contains(page, "debug/pprof/heap") != enabled {
			t.Errorf("pprof %t: the landing page links the heap profile: %t", enabled, !enabled)
		}
		want := http.StatusNotFound
		if enabled {
			want = http.StatusOK
		}
		for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/"} {
			if rec := serve(h, http.MethodGet, path, ""); rec.Code != want {
				t.Errorf("pprof %t: GET %s: %d, want %d", enabled, path, rec.Code, want)
			}
		}
	}
}
