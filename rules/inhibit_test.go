package rules_test

import (
	"path/filepath"
	"testing"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

// inhibitRule is the part of an Alertmanager inhibit rule this test applies.
// (Loading the file with alertmanager/config would pull modules go.mod does
// not have; amtool check-config validates the whole file.)
type inhibitRule struct {
	Source, Target amlabels.Matchers
	Equal          []string
}

func loadInhibitRules(t *testing.T, path string) []inhibitRule {
	t.Helper()
	var cfg struct {
		InhibitRules []struct {
			SourceMatchers []string `yaml:"source_matchers"`
			TargetMatchers []string `yaml:"target_matchers"`
			Equal          []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
	}
	if err := yaml.Unmarshal(mustRead(t, path), &cfg); err != nil {
		t.Fatal(err)
	}
	parse := func(ss []string) amlabels.Matchers {
		var ms amlabels.Matchers
		for _, s := range ss {
			m, err := amlabels.ParseMatchers(s)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, s, err)
			}
			ms = append(ms, m...)
		}
		return ms
	}
	var rules []inhibitRule
	for _, r := range cfg.InhibitRules {
		rules = append(rules, inhibitRule{Source: parse(r.SourceMatchers), Target: parse(r.TargetMatchers), Equal: r.Equal})
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no inhibit_rules", path)
	}
	return rules
}

// The alerts' labels and alertmanager.yml's inhibitions fit together: a graver
// alert mutes a milder one of the same metric on the same target, never the
// reverse, never another target's, never another metric's. amtool cannot
// test inhibitions, so this applies the loaded rules to the table's alerts.
func TestInhibitionsMatchTheTable(t *testing.T) {
	inhibitRules := loadInhibitRules(t, filepath.Join("..", "alertmanager", "alertmanager.yml"))
	rank := map[rules.Severity]int{rules.Critical: 3, rules.Warning: 2, rules.Info: 1}
	labelsOf := func(a rules.Alert, instance string) model.LabelSet {
		return model.LabelSet{
			"alertname": model.LabelValue(a.Name), "severity": model.LabelValue(a.Severity),
			"metric": model.LabelValue(a.Metric), "instance": model.LabelValue(instance), "job": "resonance",
		}
	}
	mutes := func(src, tgt model.LabelSet) bool { return mutedBy(inhibitRules, src, tgt) }
	tbl := rulestest.Table(t)
	pairs := 0
	for _, src := range tbl.Alerts {
		for _, tgt := range tbl.Alerts {
			if src.Name == tgt.Name {
				continue
			}
			want := src.Metric == tgt.Metric && rank[src.Severity] > rank[tgt.Severity]
			if want {
				pairs++
			}
			if got := mutes(labelsOf(src, "a:9861"), labelsOf(tgt, "a:9861")); got != want {
				t.Errorf("%s mutes %s: %v, want %v", src.Name, tgt.Name, got, want)
			}
			if mutes(labelsOf(src, "a:9861"), labelsOf(tgt, "b:9861")) {
				t.Errorf("%s on one target mutes %s on another", src.Name, tgt.Name)
			}
		}
	}
	// ErrorStorm>ErrorRateHigh, OutOfMemory>HighMemory, OutOfMemory>MemoryAboveLimit,
	// APIFailure>APIErrorRateHigh, HighCPU>ModerateCPU, HuggingFaceLatencyHigh>SlowInference,
	// CommunityResonanceLow>LowResonance.
	if pairs != 7 {
		t.Errorf("%d muting pairs in the table, want 7", pairs)
	}
}

// mutedBy tells whether one of the inhibit rules mutes tgt while src fires.
func mutedBy(rules []inhibitRule, src, tgt model.LabelSet) bool {
	for _, r := range rules {
		if !r.Source.Matches(src) || !r.Target.Matches(tgt) {
			continue
		}
		equal := true
		for _, l := range r.Equal {
			equal = equal && src[model.LabelName(l)] == tgt[model.LabelName(l)]
		}
		if equal {
			return true
		}
	}
	return false
}
