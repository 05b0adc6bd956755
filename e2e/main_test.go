// Package e2e drives the whole chain with real binaries: the app's pushes
// reach the exporter, Prometheus scrapes it and evaluates the shipped rule
// pack, two clustered Alertmanagers route and inhibit, and the relay
// delivers Discord, Slack and hub payloads to a local capture server.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/quantum-resonance/telemetry/localstack"
	"github.com/quantum-resonance/telemetry/tooltest"
)

// Set by TestMain: where the binaries are, or why the test must skip.
var (
	repoRoot, binDir, toolsBin string
	skipReason                 string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := localstack.FindRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = root
	toolsBin = tooltest.Dir()
	tmp, err := os.MkdirTemp("", "resonance-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	binDir = tmp
	skipReason = prepareBinaries(root, tmp)
	return m.Run()
}

// prepareBinaries builds the daemons and, when missing, the pinned
// Prometheus and Alertmanager. It returns why the test cannot run, or "".
func prepareBinaries(root, out string) string {
	build := exec.Command("go", "build", "-o", out+"/", "./cmd/resonance-exporter", "./cmd/resonance-relay")
	build.Dir = root
	if output, err := build.CombinedOutput(); err != nil {
		return fmt.Sprintf("cannot build the daemons: %v\n%s", err, output)
	}
	for _, tool := range []string{"prometheus", "alertmanager"} {
		if _, err := os.Stat(filepath.Join(toolsBin, tool)); err == nil {
			continue
		}
		install := exec.Command("bash", filepath.Join(root, "scripts", "tools.sh"))
		install.Dir = root
		if output, err := install.CombinedOutput(); err != nil {
			return fmt.Sprintf("cannot build the pinned %s with scripts/tools.sh: %v\n%s", tool, err, output)
		}
	}
	return ""
}

func requireBinaries(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip("end-to-end test skipped: " + skipReason)
	}
}
