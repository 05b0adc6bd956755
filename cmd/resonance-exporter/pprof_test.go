package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/promslog"
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
		page := serve(e, http.MethodGet, "/").Body.String()
		if strings.Contains(page, "debug/pprof/heap") != enabled {
			t.Errorf("pprof %t: the landing page links the heap profile: %t", enabled, !enabled)
		}
		want := http.StatusNotFound
		if enabled {
			want = http.StatusOK
		}
		for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/"} {
			if rec := serve(e, http.MethodGet, path); rec.Code != want {
				t.Errorf("pprof %t: GET %s: %d, want %d", enabled, path, rec.Code, want)
			}
		}
	}
}
