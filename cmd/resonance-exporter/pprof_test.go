package main

import (
	"net/http"
	"testing"

	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/daemon/daemontest"
)

// The landing page links the profiles only with --web.enable-pprof, and
// they answer only then.
func TestPprofOnlyWithTheFlag(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		e, err := newExporter(options{metricsPath: "/metrics", maxRequests: 40, enablePprof: enabled}, promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		daemontest.CheckPprof(t, enabled, func(path string) (int, string) {
			rec := serve(e, http.MethodGet, path)
			return rec.Code, rec.Body.String()
		})
	}
}
