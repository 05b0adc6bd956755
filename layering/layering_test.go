// Package layering holds a test of the import rules between the project's
// trees: packages below never import packages above.
package layering

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/quantum-resonance/telemetry/"

// rules: a package under the key's tree imports none of the trees listed.
var rules = map[string][]string{
	"alertmanager/": {"ritual/", "ingest", "collector", "rules"},
	// A channel's package owns its quirks (Discord's edit on resolve)
	// behind its own interfaces; the relay plugs its state file in.
	"alertmanager/discord": {"alertmanager/relay"},
	// The relay's state file is a leaf below it.
	"alertmanager/relay/statefile": {"alertmanager/relay", "alertmanager/discord", "alertmanager/format"},
	"ritual/":                      {"alertmanager/relay"},
	"rules":                        {"ingest", "collector"},
	"bearer":                       {"ingest", "alertmanager/", "ritual/"},
	"buckets":                      {"ingest", "rules", "collector"},
}

// known are imports still against the rules, each with its reason (none
// today); a new one fails the test, and so does one fixed and still listed.
var known = map[string]string{
	// The rituals: section of the relay's config is the schedule's type.

}

func TestImportsRunOneWay(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "../...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := map[string]bool{}
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		from := strings.TrimPrefix(p.ImportPath, module)
		for tree, banned := range rules {
			if !under(from, tree) {
				continue
			}
			for _, imp := range p.Imports {
				to, ours := strings.CutPrefix(imp, module)
				if !ours {
					continue
				}
				for _, b := range banned {
					if !under(to, b) {
						continue
					}
					edge := from + " -> " + to
					seen[edge] = true
					if _, ok := known[edge]; !ok {
						t.Errorf("%s imports %s: %s must not import %s", from, to, tree, b)
					}
				}
			}
		}
	}
	for edge := range known {
		if !seen[edge] {
			t.Errorf("%s no longer exists: drop it from known", edge)
		}
	}
}

// under reports whether a package path is in a tree: "ingest" is ingest and
// ingest/loki, "alertmanager/" everything below alertmanager.
func under(path, tree string) bool {
	if strings.HasSuffix(tree, "/") {
		return strings.HasPrefix(path, tree)
	}
	return path == tree || strings.HasPrefix(path, tree+"/")
}

// The relay binary links what a webhook relay needs: its scheduler runs the
// rituals as resonancetool, so no plotting, dashboards or PromQL parser.
// The budget keeps it that way; `go list -deps ./cmd/resonance-relay` gives
// the figure.
const relayDepsBudget = 350

var relayBanned = []string{
	"gonum.org/",
	"github.com/grafana/",
	"github.com/prometheus/prometheus/",
	"github.com/json-iterator/",
	module + "ritual/report",
	module + "ritual/render",
	module + "ritual/query",
	module + "rules",
	module + "ingest",
	module + "collector",
}

func TestRelayBinaryLinksOnlyTheRelay(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/resonance-relay").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) > relayDepsBudget {
		t.Errorf("cmd/resonance-relay links %d packages, budget %d", len(deps), relayDepsBudget)
	}
	for _, d := range deps {
		for _, b := range relayBanned {
			if under(d, strings.TrimSuffix(b, "/")) || strings.HasPrefix(d, b) && strings.HasSuffix(b, "/") {
				t.Errorf("cmd/resonance-relay links %s (%s)", d, b)
			}
		}
	}
	t.Logf("cmd/resonance-relay links %d packages", len(deps))
}
