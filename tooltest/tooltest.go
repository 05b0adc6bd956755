// Package tooltest finds the pinned tools (prometheus, promtool,
// alertmanager, amtool, helm, ...) that scripts/tools.sh builds into
// .tools/bin, and a free loopback address to run them on, for the tests
// that run them.
package tooltest

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is $RESONANCE_TOOLS_BIN (which the Makefile sets) or else the
// repository's .tools/bin, found from this file's own place in the tree so
// that it does not depend on the test's working directory.
func Dir() string {
	if dir := os.Getenv("RESONANCE_TOOLS_BIN"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", ".tools", "bin")
}

// Path is the absolute path of the named pinned tool; the test is skipped
// when it has not been built.
func Path(t testing.TB, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not found in %s: run scripts/tools.sh (make test does) or set RESONANCE_TOOLS_BIN", name, Dir())
	}
	return path
}

// FreeAddr is a loopback address nothing listens on, for a tool or server
// to listen on. The port is released before use: another process may take
// it first, which is harmless on a test machine.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
