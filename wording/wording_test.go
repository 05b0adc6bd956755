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

// userFacing reports whether a tracked file (path from the repository root)
// is read by users: the README, docs, dashboards, Alertmanager configs,
// deployment files, the container stack and the rule pack's YAML. Go sources
// are not.
func userFacing(path string) bool {
	if strings.HasSuffix(path, ".go") {
		return false
	}
	switch {
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
			if seedWord.MatchString(line) {
				t.Errorf("%s:%d says seed (say plan): %s", path, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d user-facing files found", checked)
	}
}
