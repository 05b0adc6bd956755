// Package proposal writes the weekly audit's proposals into a copy of the
// thresholds table (rules/thresholds.yml). Only the proposed values change,
// each with a comment that carries its evidence; every other byte, comments
// included, stays as it was, so a review reads the change as a small diff
// and `resonancetool rules generate` applies it once the copy replaces the
// table.
package proposal

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/ritual/report"
	"github.com/quantum-resonance/telemetry/rules"
)

// Apply returns the table with every proposal other than keep applied.
// label names the audit in the comments ("weekly audit 2026-11-23"). The
// result is validated as a thresholds table; the changed alerts are listed.
func Apply(path string, table []byte, proposals []report.Proposal, label string) ([]byte, []string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(table, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	alerts := alertNodes(&doc)
	lines := bytes.Split(table, []byte("\n"))
	var changed []string
	for _, p := range proposals {
		if p.Action == report.ActionKeep {
			continue
		}
		fields, ok := alerts[p.Alertname]
		if !ok {
			return nil, nil, fmt.Errorf("%s: no alert %s to apply the proposal to", path, p.Alertname)
		}
		v, ok := fields[p.Field]
		if !ok || v.Kind != yaml.ScalarNode {
			return nil, nil, fmt.Errorf("%s: alert %s has no %s to change", path, p.Alertname, p.Field)
		}
		if v.Value != p.Current {
			return nil, nil, fmt.Errorf("%s:%d: alert %s: %s is %q, the proposal was made for %q: run the audit again",
				path, v.Line, p.Alertname, p.Field, v.Value, p.Current)
		}
		i := v.Line - 1
		line := string(lines[i])
		col := v.Column - 1
		token := line[col:]
		if !strings.HasPrefix(token, v.Value) && !strings.HasPrefix(token, `"`+v.Value+`"`) {
			return nil, nil, fmt.Errorf("%s:%d: cannot find %s's value %q on its line", path, v.Line, p.Field, v.Value)
		}
		// The rest of the line after the value is dropped: an old comment
		// there would describe the old value.
		lines[i] = fmt.Appendf(nil, "%s%s  # %s: %s %s -> %s (%s)", line[:col], p.Proposed, label, p.Action, p.Current, p.Proposed, oneLine(p.Evidence))
		changed = append(changed, p.Alertname)
	}
	out := bytes.Join(lines, []byte("\n"))
	if _, err := rules.ParseThresholds(path, out); err != nil {
		return nil, nil, fmt.Errorf("the proposed table is invalid: %w", err)
	}
	return out, changed, nil
}

// alertNodes maps each alert's name to its fields' value nodes.
func alertNodes(doc *yaml.Node) map[string]map[string]*yaml.Node {
	out := map[string]map[string]*yaml.Node{}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return out
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "alerts" || top.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, a := range top.Content[i+1].Content {
			if a.Kind != yaml.MappingNode {
				continue
			}
			fields := map[string]*yaml.Node{}
			for j := 0; j+1 < len(a.Content); j += 2 {
				fields[a.Content[j].Value] = a.Content[j+1]
			}
			if name := fields["alert"]; name != nil {
				out[name.Value] = fields
			}
		}
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
