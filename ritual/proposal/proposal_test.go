package proposal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/report"
	"github.com/quantum-resonance/telemetry/rules"
)

func committedTable(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", rules.DefaultThresholdsPath))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestApplyChangesOnlyTheProposedValues(t *testing.T) {
	table := committedTable(t)
	proposals := []report.Proposal{
		{Alertname: "HighCPU", Action: report.ActionLengthenFor, Field: "for", Current: "10m", Proposed: "20m", Evidence: "fired 6 times, 6 resolved within its for"},
		{Alertname: "SlowAPI", Action: report.ActionRaise, Field: "threshold", Current: "2000", Proposed: "2400", Evidence: "fired 30% of the window"},
		{Alertname: "DiskUsageHigh", Action: report.ActionKeep, Field: "threshold", Current: "8", Proposed: "8", Evidence: "never fired"},
	}
	out, changed, err := Apply("thresholds.yml", table, proposals, "weekly audit 2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(changed, ",") != "HighCPU,SlowAPI" {
		t.Errorf("changed = %v, want HighCPU and SlowAPI", changed)
	}
	got, err := rules.ParseThresholds("proposed.yml", out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := rules.ParseThresholds("thresholds.yml", table)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range want.Alerts {
		b, _ := got.Alert(a.Name)
		switch a.Name {
		case "HighCPU":
			if b.For != 20*time.Minute || b.Threshold != a.Threshold {
				t.Errorf("HighCPU: for %s threshold %g, want 20m and %g", b.For, b.Threshold, a.Threshold)
			}
		case "SlowAPI":
			if b.Threshold != 2400 || b.For != a.For {
				t.Errorf("SlowAPI: threshold %g for %s, want 2400 and %s", b.Threshold, b.For, a.For)
			}
		default:
			if b.Threshold != a.Threshold || b.For != a.For {
				t.Errorf("%s changed: %+v -> %+v", a.Name, a, b)
			}
		}
	}
	// Two lines differ, nothing else: comments and layout are kept.
	before, after := bytes.Split(table, []byte("\n")), bytes.Split(out, []byte("\n"))
	if len(before) != len(after) {
		t.Fatalf("line count %d -> %d", len(before), len(after))
	}
	diff := 0
	for i := range before {
		if !bytes.Equal(before[i], after[i]) {
			diff++
			if !bytes.Contains(after[i], []byte("# weekly audit 2026-11-23: ")) {
				t.Errorf("changed line %d carries no evidence: %s", i+1, after[i])
			}
		}
	}
	if diff != 2 {
		t.Errorf("%d lines changed, want 2", diff)
	}
}

func TestApplyRefusesAStaleProposal(t *testing.T) {
	_, _, err := Apply("thresholds.yml", committedTable(t), []report.Proposal{
		{Alertname: "HighCPU", Action: report.ActionRaise, Field: "threshold", Current: "70", Proposed: "90"},
	}, "audit")
	if err == nil || !strings.Contains(err.Error(), "run the audit again") {
		t.Errorf("err = %v, want a stale-proposal error", err)
	}
	_, _, err = Apply("thresholds.yml", committedTable(t), []report.Proposal{
		{Alertname: "NoSuchAlert", Action: report.ActionRaise, Field: "threshold", Current: "1", Proposed: "2"},
	}, "audit")
	if err == nil {
		t.Error("a proposal for an unknown alert was applied")
	}
}

func TestApplyRefusesAnInvalidResult(t *testing.T) {
	_, _, err := Apply("thresholds.yml", committedTable(t), []report.Proposal{
		{Alertname: "HighCPU", Action: report.ActionRaise, Field: "threshold", Current: "80", Proposed: "180"},
	}, "audit")
	if err == nil || !strings.Contains(err.Error(), "invalid") {
		t.Errorf("err = %v, want the table's own validation error (180%% is outside 0-100)", err)
	}
}
