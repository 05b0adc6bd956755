// Package expositiontest compares what a collector exposes with a reviewed
// expected-output file (testdata/<name>.prom), as node_exporter compares its
// collectors with collector/fixtures/e2e-output.txt. Running the tests with
// -update rewrites the files from the current output, so a change to the
// exposition shows in the diff for review. Its own test checks that every
// family of the tree is described once, under its full name.
package expositiontest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/quantum-resonance/telemetry/golden"
)

// Compare checks that c exposes exactly testdata/<name>.prom: the families
// named in metricNames, or all of c's families when none are named. With
// -update it first writes the file from c's current output.
func Compare(t testing.TB, c prometheus.Collector, name string, metricNames ...string) {
	t.Helper()
	path := filepath.Join("testdata", name+".prom")
	if golden.Updating() {
		if err := os.WriteFile(path, expose(t, c, metricNames), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	// CollectAndCompare registers c with a pedantic registry: an
	// inconsistent family fails here, never silently in the file.
	if err := testutil.CollectAndCompare(c, bytes.NewReader(want), metricNames...); err != nil {
		t.Errorf("%s: %v", path, err)
	}
}

// expose is c's text exposition, only the named families when any are.
func expose(t testing.TB, c prometheus.Collector, metricNames []string) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range families {
		if len(metricNames) > 0 && !slices.Contains(metricNames, mf.GetName()) {
			continue
		}
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}
