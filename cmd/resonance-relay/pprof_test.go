package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/daemon/daemontest"
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
		daemontest.CheckPprof(t, enabled, func(path string) (int, string) {
			rec := serve(h, http.MethodGet, path, "")
			return rec.Code, rec.Body.String()
		})
	}
}
