// Package wording holds a test of the words user-facing files use.
package wording

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// seedWord is the project's internal name for the plan
// (docs/telemetry-plan.md); user-facing text says "plan".
var seedWord = regexp.MustCompile(`(?i)\bseed\b`)

// legitSeed are the lines where "seed" is not the plan: a hash seed, a
// Stellar secret seed, the fuzzers' seed corpus.
var legitSeed = regexp.MustCompile(`maphash|secret seed|seed corpus|testdata/fuzz`)

// userFacing reports whether a tracked file (path from the repository root)
// is read by users or by whoever maintains the code: the README, docs,
// dashboards, Alertmanager configs, deployment files, the container stack,
// the rule pack's YAML, the examples, scripts and benchmarks, and the Go
// sources but their tests.
func userFacing(path string) bool {
	if strings.HasSuffix(path, ".go") {
		return !strings.HasSuffix(path, "_test.go")
	}
	switch {
	case path == "Makefile", strings.HasPrefix(path, "examples/"), strings.HasPrefix(path, "bench/"),
		strings.HasPrefix(path, "scripts/"):
		return true
	case path == "README.md", path == "Dockerfile", path == "docker-compose.yml",
		strings.HasPrefix(path, "docs/"), strings.HasPrefix(path, "grafana/"),
		strings.HasPrefix(path, "deploy/"), strings.HasPrefix(path, "compose/"),
		strings.HasPrefix(path, "docker/"), strings.HasPrefix(path, "rules/"):
		return true
	case strings.HasPrefix(path, "alertmanager/") && !strings.Contains(strings.TrimPrefix(path, "alertmanager/"), "/"):
		return strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")
	}
	return false
}

func TestUserFacingFilesSayPlanNotSeed(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	checked := 0
	for _, path := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !userFacing(path) {
			continue
		}
		data, err := os.ReadFile("../" + path)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		checked++
		for i, line := range strings.Split(string(data), "\n") {
			if seedWord.MatchString(line) && !legitSeed.MatchString(line) {
				t.Errorf("%s:%d says seed (say plan): %s", path, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d user-facing files found", checked)
	}
}
