package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/quantum-resonance/telemetry/localstack"
)

// TestStackBannerCommandsAreTheREADMEs: the README's "See an alert arrive"
// shows, line for line, the commands `make stack` prints on its standard
// ports with its default --dir.
func TestStackBannerCommandsAreTheREADMEs(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### See an alert arrive\n")
	if !ok {
		t.Fatal(`README.md has no "### See an alert arrive" section`)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal("README.md's See an alert arrive has no sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	s := &localstack.Stack{
		ExporterURL: localstack.StandardExporterURL, RelayURL: localstack.StandardRelayURL,
		PrometheusURL: localstack.StandardPrometheusURL, AlertmanagerURLs: []string{localstack.StandardAlertmanagerURL},
		RelayTokenFile: "/repo/.stack/relay-token",
	}
	banner := stackBanner(s, "/repo")
	_, tryIt, ok := strings.Cut(banner, "Try it from the repository root, in a second terminal:\n")
	if !ok {
		t.Fatalf("banner has no commands:\n%s", banner)
	}
	var printed []string
	for _, line := range strings.Split(strings.TrimSuffix(tryIt, "\n"), "\n") {
		printed = append(printed, strings.TrimPrefix(line, "  "))
	}
	shown := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	if strings.Join(printed, "\n") != strings.Join(shown, "\n") {
		t.Errorf("the banner prints\n%s\n\nthe README shows\n%s", strings.Join(printed, "\n"), strings.Join(shown, "\n"))
	}
	for _, want := range []string{".stack/relay-token", "docker/ingest-keys.dev", "/api/v1/logs", "send-test", ".stack/relay-deliveries.jsonl"} {
		if !strings.Contains(tryIt, want) {
			t.Errorf("banner commands lack %s", want)
		}
	}
}

// TestStackStormIsAnErrorStorm: the banner's storm pushes more than
// ErrorStorm's 20 errors a minute, for longer than its 2-minute window and
// 1-minute for.
func TestStackStormIsAnErrorStorm(t *testing.T) {
	cmds := strings.Join(stackTryCommands("http://e", "http://r", "http://p", "http://a", "t", "d"), "\n")
	m := regexp.MustCompile(`seq (\d+)\); do .*'(\{"logs".*\})'; sleep (\d+); done`).FindStringSubmatch(cmds)
	if m == nil {
		t.Fatalf("no storm loop in\n%s", cmds)
	}
	iterations, _ := strconv.Atoi(m[1])
	sleep, _ := strconv.Atoi(m[3])
	if sleep <= 0 {
		t.Fatalf("storm sleeps %q s between pushes", m[3])
	}
	errors := strings.Count(m[2], `"level":"ERROR"`)
	if perMinute := errors * 60 / sleep; perMinute <= 20 {
		t.Errorf("storm pushes %d errors a minute, not above ErrorStorm's 20", perMinute)
	}
	if seconds := iterations * sleep; seconds < 3*60 {
		t.Errorf("storm lasts %d s, shorter than ErrorStorm's 2m window plus 1m for", seconds)
	}
}

// TestStackRecipeExitsCleanlyOnCtrlC: `go run` exits 1 when the terminal's
// Ctrl-C reaches it, even after its program exits 0 (so make said "Error 1");
// the Makefile runs the built resonancetool, whose stack command ends with 0.
func TestStackRecipeExitsCleanlyOnCtrlC(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, ok := strings.Cut(string(makefile), "\nstack:")
	if !ok {
		t.Fatal("Makefile has no stack target")
	}
	lines := strings.Split(recipe, "\n")
	var commands []string
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "\t") {
			break
		}
		commands = append(commands, strings.TrimSpace(l))
	}
	if len(commands) == 0 {
		t.Fatal("the stack target has no recipe")
	}
	last := commands[len(commands)-1]
	if strings.Contains(last, " run ") || !strings.HasPrefix(last, "bin/resonancetool stack") {
		t.Errorf("the stack recipe runs %q; run the built bin/resonancetool, not go run, so Ctrl-C exits 0", last)
	}
}
