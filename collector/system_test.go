package collector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/expositiontest"
)

// testdataContext points gopsutil at collector/testdata/proc (cpu: stat,
// memory: meminfo).
func testdataContext() context.Context {
	return context.WithValue(context.Background(), common.EnvKey,
		common.EnvMap{common.HostProcEnvKey: "testdata/proc", common.HostSysEnvKey: "testdata/sys"})
}

// newTestSystemCollector reads the fixtures (gopsutil and procfs both from
// testdata/proc), with a fixed clock, uptime and statfs.
func newTestSystemCollector(t *testing.T, mountpoints []string, statfs func(context.Context, string) (*disk.UsageStat, error)) *systemCollector {
	t.Helper()
	cfg := config.Default()
	cfg.System.Mountpoints = mountpoints
	c, err := newSystemCollector(Deps{Config: cfg, Logger: promslog.NewNopLogger()})
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(*systemCollector)
	sc.ctx = testdataContext()
	proc, err := procfs.NewFS("testdata/proc")
	if err != nil {
		t.Fatal(err)
	}
	sc.proc, sc.procErr = proc, nil
	sc.now = func() time.Time { return time.Unix(1795700000+3600, 0) }
	sc.statfs = statfs
	sc.uptime = func(context.Context) (uint64, error) { return 3600, nil }
	return sc
}

func fixedUsage(_ context.Context, path string) (*disk.UsageStat, error) {
	return &disk.UsageStat{Path: path, Total: 10e9, Free: 4e9, Used: 5e9}, nil
}

func TestSystemCollectorExposition(t *testing.T) {
	c := newTestSystemCollector(t, []string{"/", "/data"}, fixedUsage)
	// Busy = total - idle - iowait = 951 s - 810 s over the fixture's cpu line.
	expositiontest.Compare(t, collectorAdapter{c}, "system")
}

func TestCPURatioUsesDeltasAndAMinimumWindow(t *testing.T) {
	c := newTestSystemCollector(t, nil, fixedUsage)
	clock := time.Unix(1000, 0)
	c.now = func() time.Time { return clock }

	first := cpu.TimesStat{User: 10, Idle: 90}
	if got := c.cpuRatio(first); got != 0.1 {
		t.Fatalf("first collection measures since boot: got %v, want 0.1", got)
	}
	// 10 s later: 5 busy + 5 idle seconds since the baseline.
	clock = clock.Add(10 * time.Second)
	second := cpu.TimesStat{User: 15, Idle: 95}
	if got := c.cpuRatio(second); got != 0.5 {
		t.Fatalf("delta ratio: got %v, want 0.5", got)
	}
	// A second Prometheus replica 1 ms later still measures over a full
	// window (from `first`), not over the 0.01 s since `second`, which
	// would say 1 (or 0).
	clock = clock.Add(time.Millisecond)
	third := cpu.TimesStat{User: 15.01, Idle: 95}
	if got := c.cpuRatio(third); math.Abs(got-0.5) > 0.001 {
		t.Fatalf("second scraper: got %v, want about 0.5 over the 10 s window", got)
	}
	// Both replicas again 15 s later, 1 ms apart: both over ~15 s.
	clock = clock.Add(15 * time.Second)
	fourth := cpu.TimesStat{User: 30, Idle: 95 + 15*0.8}
	if got := c.cpuRatio(fourth); math.Abs(got-15.0/(15+15*0.8)) > 0.001 {
		t.Fatalf("15 s window: got %v", got)
	}
	clock = clock.Add(time.Millisecond)
	if got := c.cpuRatio(fourth); math.Abs(got-15.0/(15+15*0.8)) > 0.001 {
		t.Fatalf("replica 1 ms later: got %v, want the same ratio over ~15 s", got)
	}
	// No tick elapsed since the baseline: the last ratio, not 0 or NaN.
	clock = clock.Add(2 * time.Second)
	last := c.cpuLast
	if got := c.cpuRatio(fourth); got != last {
		t.Fatalf("no ticks: got %v, want the last ratio %v", got, last)
	}
	if len(c.cpuBases) > maxCPUBaselines {
		t.Fatalf("%d baselines kept", len(c.cpuBases))
	}
}

// The kernel's iowait can go backwards (proc(5)): the exposed counter must
// not.
func TestCPUSecondsNeverDecrease(t *testing.T) {
	c := newTestSystemCollector(t, nil, fixedUsage)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.ctx = context.WithValue(context.Background(), common.EnvKey,
		common.EnvMap{common.HostProcEnvKey: filepath.Join(dir, "proc"), common.HostSysEnvKey: "testdata/sys"})
	iowait := func(jiffies int) float64 {
		t.Helper()
		stat := fmt.Sprintf("cpu  10000 500 3000 80000 %d 200 300 100 0 0\n", jiffies)
		if err := os.WriteFile(filepath.Join(dir, "proc", "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := testutil.CollectAndFormat(collectorAdapter{c}, expfmt.TypeTextPlain, "resonance_cpu_seconds_total")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(line, `resonance_cpu_seconds_total{mode="iowait"} `); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		t.Fatalf("no iowait series in\n%s", out)
		return 0
	}
	if got := iowait(1000); got != 10 {
		t.Fatalf("iowait %v, want 10", got)
	}
	if got := iowait(990); got != 10 {
		t.Fatalf("iowait went back to %v, want it held at 10", got)
	}
	if got := iowait(1200); got != 12 {
		t.Fatalf("iowait %v, want 12 once the kernel's count is past it", got)
	}
}

func TestDiskStatfsTimeoutDoesNotPileUp(t *testing.T) {
	release := make(chan struct{})
	calls := make(chan string, 10)
	hanging := func(_ context.Context, path string) (*disk.UsageStat, error) {
		calls <- path
		if path == "/nfs" {
			<-release
		}
		return fixedUsage(context.Background(), path)
	}
	c := newTestSystemCollector(t, []string{"/", "/nfs"}, hanging)
	c.diskTimeout = 20 * time.Millisecond

	for scrape := range 3 {
		ch := make(chan prometheus.Metric, 100)
		err := c.updateDisks(ch)
		close(ch)
		if err == nil || !strings.Contains(err.Error(), "/nfs") {
			t.Fatalf("scrape %d: want an error naming /nfs, got %v", scrape, err)
		}
		var roots int
		for m := range ch {
			if strings.Contains(m.Desc().String(), "disk") {
				roots++
			}
		}
		if roots != 3 {
			t.Fatalf("scrape %d: want 3 series for / despite the stuck mount, got %d", scrape, roots)
		}
	}
	nfsCalls := 0
	for len(calls) > 0 {
		if <-calls == "/nfs" {
			nfsCalls++
		}
	}
	if nfsCalls != 1 {
		t.Fatalf("a stuck mount must not be statted again until it returns: %d calls", nfsCalls)
	}
	close(release)
}

func TestSystemCollectorFailureIsReported(t *testing.T) {
	failing := func(context.Context, string) (*disk.UsageStat, error) {
		return nil, errors.New("permission denied")
	}
	c := newTestSystemCollector(t, []string{"/"}, failing)
	ch := make(chan prometheus.Metric, 100)
	err := c.Update(ch)
	if err == nil || !strings.Contains(err.Error(), "disk /: permission denied") {
		t.Fatalf("want disk error, got %v", err)
	}
	if len(ch) == 0 {
		t.Fatal("cpu, memory and uptime must still be sent when the disk fails")
	}
}

// collectorAdapter lets testutil collect one source.
type collectorAdapter struct{ Collector }

func (a collectorAdapter) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(a, ch) }
func (a collectorAdapter) Collect(ch chan<- prometheus.Metric) { _ = a.Update(ch) }

// An unreadable /proc/stat costs only the boot time, reported as an error;
// the other figures are still sent.
func TestBootTimeAbsentWhenProcStatUnreadable(t *testing.T) {
	c := newTestSystemCollector(t, []string{"/"}, fixedUsage)
	proc, err := procfs.NewFS(t.TempDir()) // no stat in it
	if err != nil {
		t.Fatal(err)
	}
	c.proc = proc
	ch := make(chan prometheus.Metric, 100)
	err = c.Update(ch)
	close(ch)
	if err == nil || !strings.Contains(err.Error(), "boot time:") {
		t.Fatalf("want a boot time error, got %v", err)
	}
	var uptime bool
	for m := range ch {
		switch m.Desc() {
		case bootTimeDesc:
			t.Fatal("boot time sent although /proc/stat could not be read")
		case uptimeDesc:
			uptime = true
		}
	}
	if !uptime {
		t.Fatal("the uptime must still be sent")
	}

	// /proc itself missing (HOST_PROC wrong): the same error every scrape.
	t.Setenv("HOST_PROC", filepath.Join(t.TempDir(), "nowhere"))
	d, err := newSystemCollector(Deps{Config: config.Default(), Logger: promslog.NewNopLogger()})
	if err != nil {
		t.Fatalf("a missing /proc must not stop the system collector: %v", err)
	}
	if err := d.(*systemCollector).updateBootTime(make(chan prometheus.Metric, 1)); err == nil || !strings.Contains(err.Error(), "boot time:") {
		t.Fatalf("want a boot time error, got %v", err)
	}
}
