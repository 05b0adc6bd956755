package collector

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/procfs"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/config"
)

// startApp starts a real child process standing in for the service: sleep,
// with an argument unique to the test so a cmdline regex finds it alone.
func startApp(t *testing.T, tag string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "3600."+tag)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopApp(cmd) })
	return cmd
}

// stopApp kills the child and reaps it, so no zombie keeps its pid alive.
func stopApp(cmd *exec.Cmd) {
	if cmd.ProcessState == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

func newTestProcessCollector(t *testing.T, yamlCfg string) *processCollector {
	t.Helper()
	var pc config.ProcessConfig
	if err := yaml.Unmarshal([]byte(yamlCfg), &pc); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Process = pc
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := newProcessCollector(Deps{Config: cfg, Logger: promslog.NewNopLogger()})
	if err != nil || c == nil {
		t.Fatalf("collector %v, error %v", c, err)
	}
	return c.(*processCollector)
}

// scrape collects once and returns the values by metric name (the last
// one for a name with several series).
func scrape(t *testing.T, c Collector) (map[string]float64, error) {
	t.Helper()
	ch := make(chan prometheus.Metric, 100)
	err := c.Update(ch)
	close(ch)
	values := map[string]float64{}
	for m := range ch {
		name := m.Desc().String()
		name = name[strings.Index(name, `"`)+1:]
		name = name[:strings.Index(name, `"`)]
		values[name] = testutil.ToFloat64(constCollector{m})
	}
	return values, err
}

type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }

func writePIDFile(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The service is found by its pid file, stops, and comes back with a new
// pid: up follows it, the restart is counted once, and the start time is
// the new process's.
func TestProcessCollectorFollowsARestartedProcess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	c := newTestProcessCollector(t, "pid_file: "+pidFile)
	const upAndRestarts = `
# HELP resonance_process_restarts_total Restarts of the watched service seen by the exporter: a process with a new pid or start time found after another one (or after none).
# TYPE resonance_process_restarts_total counter
resonance_process_restarts_total %d
# HELP resonance_process_up Whether the watched service's process was found (1) or not (0): no pid file, a pid that is gone, no process matching process.name or process.cmdline.
# TYPE resonance_process_up gauge
resonance_process_up %d
`
	check := func(up, restarts int) {
		t.Helper()
		if err := testutil.CollectAndCompare(collectorAdapter{c}, strings.NewReader(fmt.Sprintf(upAndRestarts, restarts, up)),
			"resonance_process_up", "resonance_process_restarts_total"); err != nil {
			t.Error(err)
		}
	}

	// Not started yet: no pid file.
	check(0, 0)

	before := time.Now().Add(-2 * time.Second)
	first := startApp(t, "1")
	writePIDFile(t, pidFile, first.Process.Pid)
	check(1, 0) // the first process seen is not a restart
	v, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	started := v["resonance_process_start_time_seconds"]
	if started < float64(before.Unix()) || started > float64(time.Now().Unix()+1) {
		t.Errorf("start time %v, want about %v", started, before.Unix())
	}
	if v["resonance_process_resident_memory_bytes"] <= 0 {
		t.Errorf("resident memory %v, want > 0", v["resonance_process_resident_memory_bytes"])
	}
	if fds, ok := v["resonance_process_open_fds"]; !ok || fds < 1 {
		t.Errorf("open fds %v (present %v), want >= 1", fds, ok)
	}
	if _, ok := v["resonance_process_cpu_seconds_total"]; !ok {
		t.Error("no cpu seconds")
	}

	// The service stops; its pid file stays behind, naming a dead pid.
	stopApp(first)
	check(0, 0)
	v, _ = scrape(t, c)
	if _, ok := v["resonance_process_start_time_seconds"]; ok {
		t.Error("a process that is gone still has a start time")
	}

	// It comes back with a new pid: one restart, and only one however
	// often it is scraped.
	second := startApp(t, "2")
	writePIDFile(t, pidFile, second.Process.Pid)
	check(1, 1)
	check(1, 1)
	v, _ = scrape(t, c)
	if v["resonance_process_start_time_seconds"] < started {
		t.Errorf("start time %v went back from %v", v["resonance_process_start_time_seconds"], started)
	}
}

// A restart that happens between two scrapes (never seen down) is counted.
func TestProcessCollectorCountsARestartBetweenScrapes(t *testing.T) {
	tag := strconv.Itoa(os.Getpid()) + "1"
	c := newTestProcessCollector(t, `cmdline: 'sleep 3600\.`+tag+`'`)
	first := startApp(t, tag)
	if v, err := scrape(t, c); err != nil || v["resonance_process_up"] != 1 {
		t.Fatalf("up %v, error %v", v["resonance_process_up"], err)
	}
	stopApp(first)
	startApp(t, tag)
	v, err := scrape(t, c)
	if err != nil || v["resonance_process_up"] != 1 || v["resonance_process_restarts_total"] != 1 {
		t.Errorf("up %v restarts %v error %v, want 1 1 nil", v["resonance_process_up"], v["resonance_process_restarts_total"], err)
	}
}

// Several processes matching is reported, never guessed: an error (the
// collector fails) and no up series, so SystemDown does not page for a
// configuration problem. None matching is a service that is down.
func TestProcessCollectorNeverGuesses(t *testing.T) {
	tag := strconv.Itoa(os.Getpid()) + "2"
	c := newTestProcessCollector(t, `cmdline: 'sleep 3600\.`+tag+`'`)
	v, err := scrape(t, c)
	if err != nil || v["resonance_process_up"] != 0 {
		t.Fatalf("no match: up %v error %v, want 0 and no error", v["resonance_process_up"], err)
	}
	a := startApp(t, tag)
	b := startApp(t, tag)
	v, err = scrape(t, c)
	if err == nil || !strings.Contains(err.Error(), "2 processes match") ||
		!strings.Contains(err.Error(), strconv.Itoa(a.Process.Pid)) || !strings.Contains(err.Error(), strconv.Itoa(b.Process.Pid)) {
		t.Errorf("two matches: error %v, want both pids named", err)
	}
	if _, ok := v["resonance_process_up"]; ok {
		t.Error("two matches still report up")
	}
}

func TestProcessCollectorBadPIDFile(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	if err := os.WriteFile(pidFile, []byte("not a pid"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newTestProcessCollector(t, "pid_file: "+pidFile)
	if _, err := scrape(t, c); err == nil || !strings.Contains(err.Error(), `"not a pid" is not a pid`) {
		t.Errorf("error %v", err)
	}
}

// cgroup v2: memory.current and memory.max ("max" = no limit: no series).
func TestProcessCollectorCgroup(t *testing.T) {
	dir := t.TempDir()
	write := func(name, value string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("memory.current", "314572800")
	write("memory.max", "536870912")
	write("memory.stat", "anon 104857600\nfile 209715200\ninactive_file 104857600\nactive_file 104857600")
	c := newTestProcessCollector(t, "cgroup: "+dir)
	want := fmt.Sprintf(`
# HELP resonance_cgroup_memory_bytes Memory charged to the watched cgroup v2 (memory.current), page cache included, as the OOM killer counts it.
# TYPE resonance_cgroup_memory_bytes gauge
resonance_cgroup_memory_bytes{cgroup=%[1]q} 3.145728e+08
# HELP resonance_cgroup_memory_limit_bytes Memory limit of the watched cgroup v2 (memory.max); absent when the cgroup has no limit (max).
# TYPE resonance_cgroup_memory_limit_bytes gauge
resonance_cgroup_memory_limit_bytes{cgroup=%[1]q} 5.36870912e+08
# HELP resonance_cgroup_memory_working_set_bytes Working set of the watched cgroup v2: memory.current minus inactive_file of memory.stat, floored at 0, as kubelet and cAdvisor compute it.
# TYPE resonance_cgroup_memory_working_set_bytes gauge
resonance_cgroup_memory_working_set_bytes{cgroup=%[1]q} 2.097152e+08
`, dir)
	if err := testutil.CollectAndCompare(collectorAdapter{c}, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	write("memory.max", "max")
	v, err := scrape(t, c)
	if _, ok := v["resonance_cgroup_memory_limit_bytes"]; ok || err != nil {
		t.Errorf("unlimited cgroup: limit present %v, error %v", ok, err)
	}
	// Unlimited, 3 GiB of page cache (inactive) and 300 MiB of app memory.
	write("memory.current", strconv.Itoa(3<<30+300<<20))
	write("memory.stat", "anon 314572800\nfile 3221225472\ninactive_file 3221225472\n")
	if v, err := scrape(t, c); err != nil || v["resonance_cgroup_memory_working_set_bytes"] != 300<<20 {
		t.Errorf("working set %v, error %v, want 300 MiB", v["resonance_cgroup_memory_working_set_bytes"], err)
	}
	// inactive_file above memory.current (read at different moments): 0.
	write("memory.current", "1000")
	if v, err := scrape(t, c); err != nil || v["resonance_cgroup_memory_working_set_bytes"] != 0 {
		t.Errorf("working set %v, error %v, want 0", v["resonance_cgroup_memory_working_set_bytes"], err)
	}
}

func TestProcessCollectorOffByDefault(t *testing.T) {
	c, err := newProcessCollector(Deps{Config: config.Default(), Logger: promslog.NewNopLogger()})
	if c != nil || err != nil {
		t.Errorf("collector %v, error %v, want none", c, err)
	}
}

// A reload that leaves the process section as it is keeps the collector:
// restarts_total does not fall back to 0 and the running pid is not taken
// for a new process. A changed section builds a new one.
func TestProcessCollectorSurvivesAReload(t *testing.T) {
	tag := strconv.Itoa(os.Getpid()) + "9"
	cfg := config.Default()
	if err := yaml.Unmarshal([]byte(`cmdline: 'sleep 3600\.`+tag+`'`), &cfg.Process); err != nil {
		t.Fatal(err)
	}
	logger := promslog.NewNopLogger()
	first, err := New(Deps{Config: cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rl := NewReloadable(first)
	defer rl.Close()
	process := first.collectors["process"]
	app := startApp(t, tag)
	scrape(t, process)
	stopApp(app)
	startApp(t, tag)
	if v, _ := scrape(t, process); v["resonance_process_restarts_total"] != 1 {
		t.Fatalf("restarts %v before the reload, want 1", v["resonance_process_restarts_total"])
	}

	// The same section, parsed again from YAML as a reload does.
	again := config.Default()
	if err := yaml.Unmarshal([]byte(`cmdline: 'sleep 3600\.`+tag+`'`), &again.Process); err != nil {
		t.Fatal(err)
	}
	same, err := rl.Next(Deps{Config: again, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := rl.Swap(same); err != nil {
		t.Fatal(err)
	}
	if same.collectors["process"] != process {
		t.Fatal("an unchanged process section rebuilt the collector")
	}
	if v, _ := scrape(t, same.collectors["process"]); v["resonance_process_restarts_total"] != 1 {
		t.Errorf("restarts %v after the reload, want 1", v["resonance_process_restarts_total"])
	}

	changed := config.Default()
	changed.Process = again.Process
	changed.Process.PIDFile = filepath.Join(t.TempDir(), "app.pid")
	changed.Process.Cmdline = config.Regexp{}
	next, err := rl.Next(Deps{Config: changed, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if next.collectors["process"] == process {
		t.Error("a changed process section kept the old collector")
	}
}

// The start time comes from the kernel's integers: btime (/proc/stat) plus
// the start ticks of /proc/PID/stat over CLK_TCK. It is the same on every
// scrape, so a long-running process is never counted as restarted.
func TestProcessStartTimeIsStable(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	c := newTestProcessCollector(t, "pid_file: "+pidFile)
	app := startApp(t, "stable")
	writePIDFile(t, pidFile, app.Process.Pid)

	fs, err := procfs.NewDefaultFS()
	if err != nil {
		t.Fatal(err)
	}
	host, err := fs.Stat()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := fs.Proc(app.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	st, err := proc.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const clkTck = 100 // USER_HZ, what /proc reports ticks in on Linux
	want := float64(host.BootTime) + float64(st.Starttime)/clkTck

	for i := range 50 {
		v, err := scrape(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if got := v["resonance_process_start_time_seconds"]; got != want {
			t.Fatalf("scrape %d: start time %v, want %v (btime %d + %d ticks / %d)", i, got, want, host.BootTime, st.Starttime, clkTck)
		}
		if r := v["resonance_process_restarts_total"]; r != 0 {
			t.Fatalf("scrape %d: restarts %v, want 0", i, r)
		}
		if i%10 == 9 {
			time.Sleep(50 * time.Millisecond)
		}
	}
}
