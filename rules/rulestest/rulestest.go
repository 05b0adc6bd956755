// Package rulestest loads the committed thresholds table (rules/thresholds.yml)
// for the tests of any package, whatever their working directory.
package rulestest

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/quantum-resonance/telemetry/rules"
)

// Path is the absolute path of the committed thresholds table, found from
// this file's own place in the tree (as tooltest finds .tools/bin).
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rules.DefaultThresholdsPath)
}

// Table loads and validates the committed thresholds table, failing the
// test when it does not load.
func Table(t testing.TB) *rules.Table {
	t.Helper()
	table, err := rules.LoadThresholds(Path())
	if err != nil {
		t.Fatal(err)
	}
	return table
}
