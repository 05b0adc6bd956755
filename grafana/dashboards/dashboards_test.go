package dashboards

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	promparser "github.com/prometheus/prometheus/promql/parser"

	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/rules/rulestest"
)

func buildBoards(t *testing.T) []Board {
	t.Helper()
	boards, err := Build(rulestest.Table(t))
	if err != nil {
		t.Fatal(err)
	}
	return boards
}

func TestCommittedJSONIsWhatTheGeneratorWrites(t *testing.T) {
	if err := Check(".", buildBoards(t)); err != nil {
		t.Fatal(err)
	}
}

func TestSeedViewsAreAllThere(t *testing.T) {
	want := []string{"System Health", "API Performance", "User Activity", "Pi Network", "Alert Timeline", "SLOs"}
	boards := buildBoards(t)
	if len(boards) != len(want) {
		t.Fatalf("got %d dashboards, want the plan's views and SLOs, %d", len(boards), len(want))
	}
	for i, b := range boards {
		if title := deref(b.Dashboard.Title); !strings.HasSuffix(title, want[i]) {
			t.Errorf("dashboard %d is %q, want the %s view", i, title, want[i])
		}
	}
}

// rateWindow is an odd $__rate_interval, so a rate whose range is anything
// else (a hard-coded [5m]) stands out after substitution.
const rateWindow = 1234 * time.Second

func TestEveryQueryIsPromQLWithGrafanaRateInterval(t *testing.T) {
	vars := DefaultVariables
	vars.RateInterval = rateWindow
	queries := Queries(buildBoards(t))
	if len(queries) == 0 {
		t.Fatal("no panel queries")
	}
	for _, q := range queries {
		name := q.Dashboard + " / " + q.Panel + " / " + q.RefID
		promql := q.Expand(vars)
		if strings.Contains(promql, "$") {
			t.Errorf("%s: a Grafana variable is left after substitution: %s", name, promql)
			continue
		}
		expr, err := promparser.NewParser(promparser.Options{}).ParseExpr(promql)
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, promql)
			continue
		}
		for _, r := range rateRanges(expr) {
			if r != rateWindow {
				t.Errorf("%s: rate over %v, want $__rate_interval: %s", name, r, q.Expr)
			}
		}
	}
}

// rateRanges lists the range of every rate() and irate() in expr.
func rateRanges(expr promparser.Expr) []time.Duration {
	var ranges []time.Duration
	promparser.Inspect(expr, func(node promparser.Node, _ []promparser.Node) error {
		call, ok := node.(*promparser.Call)
		if !ok || (call.Func.Name != "rate" && call.Func.Name != "irate") {
			return nil
		}
		if m, ok := call.Args[0].(*promparser.MatrixSelector); ok {
			ranges = append(ranges, m.Range)
		}
		return nil
	})
	return ranges
}

func TestEveryPanelHasAUnitAndReadsTheDatasourceVariable(t *testing.T) {
	for _, b := range buildBoards(t) {
		if !hasDatasourceVariable(b.Dashboard) {
			t.Errorf("%s: no datasource variable %q", b.File, datasourceVariable)
		}
		ids := map[uint32]bool{}
		for _, p := range panels(b.Dashboard) {
			name := b.File + " / " + deref(p.Title)
			if p.FieldConfig == nil || deref(p.FieldConfig.Defaults.Unit) == "" {
				t.Errorf("%s: no unit", name)
			}
			if p.Id == nil || ids[*p.Id] {
				t.Errorf("%s: missing or duplicate panel id", name)
			} else {
				ids[*p.Id] = true
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", name)
			}
			for _, target := range p.Targets {
				q, ok := target.(prometheus.Dataquery)
				if !ok {
					t.Errorf("%s: query of type %T, want a Prometheus query", name, target)
					continue
				}
				if q.Datasource == nil || deref(q.Datasource.Uid) != "${datasource}" {
					t.Errorf("%s / %s: datasource %+v, want ${datasource}", name, deref(q.RefId), q.Datasource)
				}
			}
		}
	}
}

// gridWidth is the number of columns of Grafana's grid.
const gridWidth = 24

func TestPanelsFitTheGridWithoutOverlapping(t *testing.T) {
	for _, b := range buildBoards(t) {
		ps := panels(b.Dashboard)
		for i, p := range ps {
			g := p.GridPos
			if g == nil || g.W == 0 || g.H == 0 {
				t.Errorf("%s / %s: no size", b.File, deref(p.Title))
				continue
			}
			if g.X+g.W > gridWidth {
				t.Errorf("%s / %s: columns %d to %d, past the grid's %d", b.File, deref(p.Title), g.X, g.X+g.W, gridWidth)
			}
			for _, q := range ps[:i] {
				if h := q.GridPos; h != nil && g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
					t.Errorf("%s: %s overlaps %s", b.File, deref(p.Title), deref(q.Title))
				}
			}
		}
	}
}

func hasDatasourceVariable(d dashboard.Dashboard) bool {
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Name == datasourceVariable {
			return true
		}
	}
	return false
}

func TestPanelThresholdsComeFromTheTable(t *testing.T) {
	data, err := os.ReadFile(rulestest.Path())
	if err != nil {
		t.Fatal(err)
	}
	// HighCPU at 70 % instead of the plan's 80 %.
	edited := strings.Replace(string(data), "metric: cpu_usage\n    op: \">\"\n    threshold: 80", "metric: cpu_usage\n    op: \">\"\n    threshold: 70", 1)
	if edited == string(data) {
		t.Fatal("HighCPU's threshold of 80 not found in the table; update this test")
	}
	table, err := rules.ParseThresholds("edited.yml", []byte(edited))
	if err != nil {
		t.Fatal(err)
	}
	boards, err := Build(table)
	if err != nil {
		t.Fatal(err)
	}
	steps := panelSteps(t, boards, "system-health.json", "CPU usage")
	want := []float64{0.6, 0.7}
	if len(steps) != len(want)+1 {
		t.Fatalf("CPU usage steps %v, want base and %v", stepValues(steps), want)
	}
	for i, w := range want {
		if v := steps[i+1].Value; v == nil || math.Abs(*v-w) > 1e-12 {
			t.Errorf("CPU usage step %d = %v, want %v", i+1, stepValues(steps), w)
		}
	}
}

func TestBuildFailsWhenAPanelsAlertIsGone(t *testing.T) {
	table := rulestest.Table(t)
	var kept []rules.Alert
	for _, a := range table.Alerts {
		if a.Metric != "disk_usage" {
			kept = append(kept, a)
		}
	}
	table.Alerts = kept
	_, err := Build(table)
	if err == nil || !strings.Contains(err.Error(), "disk_usage") {
		t.Fatalf("Build without disk alerts: error %v, want one naming disk_usage", err)
	}
}

func panelSteps(t *testing.T, boards []Board, file, title string) []dashboard.Threshold {
	t.Helper()
	for _, b := range boards {
		if b.File != file {
			continue
		}
		for _, p := range panels(b.Dashboard) {
			if deref(p.Title) == title && p.FieldConfig != nil && p.FieldConfig.Defaults.Thresholds != nil {
				return p.FieldConfig.Defaults.Thresholds.Steps
			}
		}
	}
	t.Fatalf("%s: no panel %q with thresholds", file, title)
	return nil
}

func stepValues(steps []dashboard.Threshold) []string {
	var out []string
	for _, s := range steps {
		v := "base"
		if s.Value != nil {
			v = strconv.FormatFloat(*s.Value, 'g', -1, 64)
		}
		out = append(out, v+":"+s.Color)
	}
	return out
}

func TestThresholdSteps(t *testing.T) {
	alert := func(name string, sev rules.Severity, op string, base float64, unit string) rules.Alert {
		return rules.Alert{Name: name, Severity: sev, Op: op, BaseThreshold: base, Unit: unit}
	}
	tests := []struct {
		name   string
		alerts []rules.Alert
		want   string // stepValues joined
	}{
		{
			name:   "above: green, then each severity from its threshold",
			alerts: []rules.Alert{alert("HighCPU", rules.Warning, ">", 0.8, "%"), alert("ModerateCPU", rules.Info, ">", 0.6, "%")},
			want:   "base:green 0.6:yellow 0.8:orange",
		},
		{
			name:   "below: the lowest threshold's severity, green from the highest up",
			alerts: []rules.Alert{alert("LowResonance", rules.Info, "<", 40, "score"), alert("CommunityResonanceLow", rules.Warning, "<", 20, "score")},
			want:   "base:orange 20:yellow 40:green",
		},
		{
			name:   "boolean false alerts: 0 coloured, 1 green",
			alerts: []rules.Alert{alert("MiningBoostInactive", rules.Warning, "==", 0, "boolean")},
			want:   "base:orange 1:green",
		},
		{
			name:   "a count of 0 against > 0 stays green",
			alerts: []rules.Alert{alert("WalletCompromised", rules.Critical, ">", 0, "count")},
			want:   "base:green 5e-324:red",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, err := thresholdSteps(tt.alerts)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(stepValues(steps), " "); got != tt.want {
				t.Errorf("steps %s, want %s", got, tt.want)
			}
		})
	}

	if _, err := thresholdSteps([]rules.Alert{alert("A", rules.Warning, ">", 1, "%"), alert("B", rules.Info, "<", 2, "%")}); err == nil {
		t.Error("alerts in opposite directions on one panel: no error")
	}
}

func TestCheckNamesEveryDriftAndWriteRepairsIt(t *testing.T) {
	boards := buildBoards(t)
	dir := t.TempDir()
	if err := Write(dir, boards); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir, boards); err != nil {
		t.Fatalf("right after Write: %v", err)
	}

	edited, missing := filepath.Join(dir, boards[0].File), filepath.Join(dir, boards[1].File)
	stale := filepath.Join(dir, "hand-made.json")
	must(t, os.WriteFile(edited, []byte("{}\n"), 0o644))
	must(t, os.Remove(missing))
	must(t, os.WriteFile(stale, []byte("{}\n"), 0o644))

	err := Check(dir, boards)
	if err == nil {
		t.Fatal("Check passed on an edited, a missing and a stale file")
	}
	for _, want := range []string{edited + ": differs", missing + ": missing", stale + ": no dashboard generates it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check error does not say %q:\n%v", want, err)
		}
	}

	if err := Write(dir, boards); err != nil {
		t.Fatal(err)
	}
	if err := Check(dir, boards); err != nil {
		t.Errorf("after a second Write: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExpandSubstitutesGrafanaVariables(t *testing.T) {
	q := PanelQuery{Expr: `sum(increase(x{job=~"$job", instance=~"$instance"}[$__range])) / sum(rate(x{job=~"${job}", instance=~"${instance}"}[$__rate_interval])) + avg_over_time(y[$__interval])`}
	got := q.Expand(Variables{RateInterval: 2 * time.Minute, Interval: 30 * time.Second, Range: 6 * time.Hour, Job: "resonance", Instance: "a|b"})
	want := `sum(increase(x{job=~"resonance", instance=~"a|b"}[6h])) / sum(rate(x{job=~"resonance", instance=~"a|b"}[2m])) + avg_over_time(y[30s])`
	if got != want {
		t.Errorf("Expand:\n got %s\nwant %s", got, want)
	}
	// Without Job and Instance, "All", as Grafana's allValue.
	got = PanelQuery{Expr: `x{job=~"$job", instance=~"$instance"}`}.Expand(Variables{})
	if want := `x{job=~".+", instance=~".+"}`; got != want {
		t.Errorf("Expand without job and instance: %s, want %s", got, want)
	}
}
