package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repo runs the test from the repository root, where the tool's default
// paths point.
func repo(t *testing.T) {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
}

func TestRulesCheckPassesOnTheCommittedPack(t *testing.T) {
	repo(t)
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "check"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "22 alerts") {
		t.Errorf("output %q", out.String())
	}
}

func TestRulesGenerateThenCheck(t *testing.T) {
	repo(t)
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "r.yml")
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "generate", "-o", rulesFile}, &out, &errs); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, errs.String())
	}
	if code := run([]string{"rules", "check", "--rules.file", rulesFile}, &out, &errs); code != 0 {
		t.Fatalf("check of a fresh file: exit %d: %s", code, errs.String())
	}
	// A hand edit of the generated file fails the check.
	b, _ := os.ReadFile(rulesFile)
	if err := os.WriteFile(rulesFile, bytes.Replace(b, []byte("for: 10m"), []byte("for: 11m"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	if code := run([]string{"rules", "check", "--rules.file", rulesFile}, &out, &errs); code == 0 {
		t.Fatal("check passed on a hand-edited file")
	}
	if !strings.Contains(errs.String(), "run resonancetool rules generate") {
		t.Errorf("stderr %q does not say how to fix it", errs.String())
	}
}

func TestRulesGenerateOperatorToStdout(t *testing.T) {
	repo(t)
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "generate", "--format=operator", "--operator.namespace=monitoring"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	for _, want := range []string{"kind: PrometheusRule", "namespace: monitoring", "alert: WalletCompromised"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRulesBadTableNamesFileAndLine(t *testing.T) {
	repo(t)
	bad := filepath.Join(t.TempDir(), "bad.yml")
	b, err := os.ReadFile("rules/thresholds.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, bytes.Replace(b, []byte("severity: info"), []byte("severity: urgent"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "generate", "--thresholds.file", bad, "-o", "-"}, &out, &errs); code == 0 {
		t.Fatal("a bad table generated rules")
	}
	if !strings.Contains(errs.String(), bad+":") || !strings.Contains(errs.String(), `severity "urgent"`) {
		t.Errorf("stderr %q", errs.String())
	}
}

// The Helm chart's PrometheusRule is part of the generated files: a stale
// copy fails the check, and generate (without -o) writes it.
func TestRulesCheckCoversTheChartRule(t *testing.T) {
	repo(t)
	chart := filepath.Join(t.TempDir(), "prometheusrule.yaml")
	b, err := os.ReadFile("deploy/helm/resonance-telemetry/files/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(chart, bytes.Replace(b, []byte("for: 10m"), []byte("for: 11m"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run([]string{"rules", "check", "--chart.file", chart}, &out, &errs); code == 0 {
		t.Fatal("check passed with a stale chart rule")
	}
	if !strings.Contains(errs.String(), chart) || !strings.Contains(errs.String(), "run resonancetool rules generate") {
		t.Errorf("stderr %q", errs.String())
	}
	if err := os.WriteFile(chart, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"rules", "check", "--chart.file", chart}, &out, &errs); code != 0 {
		t.Fatalf("check of the committed chart rule: %s", errs.String())
	}
	for _, want := range []string{"kind: PrometheusRule", "alert: WalletCompromised"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("chart rule lacks %q", want)
		}
	}
}

func TestDashboardsCheckCoversTheChartCopy(t *testing.T) {
	repo(t)
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if code := run([]string{"dashboards", "generate", "--dir", filepath.Join(dir, "grafana"), "--chart.dir", filepath.Join(dir, "chart")}, &out, &errs); code != 0 {
		t.Fatalf("generate: %s", errs.String())
	}
	stale := filepath.Join(dir, "chart", "system-health.json")
	if err := os.WriteFile(stale, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"dashboards", "check", "--dir", filepath.Join(dir, "grafana"), "--chart.dir", filepath.Join(dir, "chart")}, &out, &errs); code == 0 {
		t.Fatal("check passed with a stale chart dashboard")
	}
	if !strings.Contains(errs.String(), stale) {
		t.Errorf("stderr %q does not name %s", errs.String(), stale)
	}
}
