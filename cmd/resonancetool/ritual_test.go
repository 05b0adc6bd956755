package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/historytest"
	"github.com/quantum-resonance/telemetry/rules"
)

func TestRitualBadFlags(t *testing.T) {
	repo(t)
	for _, args := range [][]string{
		{"ritual", "midday"},
		{"ritual", "evening", "--at", "yesterday"},
		{"ritual", "evening", "--timezone", "Mars/Olympus"},
		{"ritual", "morning", "--night", "22-08"},
		{"ritual", "evening", "--write-proposal", "x.yml"},
	} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		if out.Len() > 0 {
			t.Errorf("%v wrote to stdout: %s", args, out.String())
		}
	}
}

func TestRitualFromHistory(t *testing.T) {
	h := historytest.Run(t)
	repo(t)
	at := historytest.End.Format(time.RFC3339)
	dir := t.TempDir()

	var out, errs bytes.Buffer
	if code := run([]string{"ritual", "evening", "--prometheus.url", h.URL, "--at", at, "--format", "json"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var doc struct {
		Ritual  string
		Metrics map[string]struct{ Value *float64 }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || doc.Ritual != "evening" || doc.Metrics["transactions_completed"].Value == nil {
		t.Fatalf("JSON report %v: %.300s", err, out.String())
	}

	out.Reset()
	if code := run([]string{"ritual", "evening", "--prometheus.url", h.URL, "--at", at, "--out", dir}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, f := range []string{"evening.md", "evening.json", "evening-error-rate.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("--out wrote no %s: %v", f, err)
		}
	}
	// Every chart the Markdown links is a file next to it.
	md, err := os.ReadFile(filepath.Join(dir, "evening.md"))
	if err != nil {
		t.Fatal(err)
	}
	links := imageLinks(string(md))
	if len(links) == 0 {
		t.Errorf("evening.md links no chart:\n%s", md)
	}
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, l)); err != nil {
			t.Errorf("evening.md links %s, which --out did not write: %v", l, err)
		}
	}
	// On stdout the charts are not written, so not linked either.
	out.Reset()
	if code := run([]string{"ritual", "evening", "--prometheus.url", h.URL, "--at", at}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "# Evening Broadcast") || len(imageLinks(out.String())) > 0 {
		t.Errorf("stdout Markdown links charts it never wrote: %q", imageLinks(out.String()))
	}

	proposed := filepath.Join(dir, "proposed.yml")
	out.Reset()
	if code := run([]string{"ritual", "weekly", "--prometheus.url", h.URL, "--at", at, "--write-proposal", proposed}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "# Weekly Audit") {
		t.Errorf("stdout is not the weekly Markdown: %.200s", out.String())
	}
	if links := imageLinks(out.String()); len(links) > 0 {
		t.Errorf("weekly Markdown on stdout links %q, never written", links)
	}
	table, err := rules.LoadThresholds(proposed)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := table.Alert("HighCPU"); a.For != 20*time.Minute {
		t.Errorf("proposed HighCPU for = %s, want 20m", a.For)
	}
	// The proposed table generates a valid rule pack.
	if code := run([]string{"rules", "generate", "--thresholds.file", proposed, "-o", filepath.Join(dir, "r.yml")}, &out, &errs); code != 0 {
		t.Fatalf("rules generate from the proposal: exit %d: %s", code, errs.String())
	}
}

// imageLinks are the files a Markdown text shows as images: ![title](file).
func imageLinks(md string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(md, -1) {
		out = append(out, m[1])
	}
	return out
}
