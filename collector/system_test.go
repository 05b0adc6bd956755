package collector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"

	"github.com/quantum-resonance/telemetry/config"
)

// testdataContext points gopsutil at collector/testdata/proc (cpu: stat,
// memory: meminfo).
func testdataContext() context.Context {
	return context.WithValue(context.Background(), common.EnvKey,
		common.EnvMap{common.HostProcEnvKey: "testdata/proc", common.HostSysEnvKey: "testdata/sys"})
}

// newTestSystemCollector reads the fixtures, with a fixed clock, uptime and
// statfs.
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
	want := `
# HELP resonance_cpu_seconds_total Seconds all CPUs spent in each mode.
# TYPE resonance_cpu_seconds_total counter
resonance_cpu_seconds_total{mode="idle"} 800
resonance_cpu_seconds_total{mode="iowait"} 10
resonance_cpu_seconds_total{mode="irq"} 2
resonance_cpu_seconds_total{mode="nice"} 5
resonance_cpu_seconds_total{mode="softirq"} 3
resonance_cpu_seconds_total{mode="steal"} 1
resonance_cpu_seconds_total{mode="system"} 30
resonance_cpu_seconds_total{mode="user"} 100
# HELP resonance_cpu_usage_ratio Busy share of all CPUs (0-1) since the previous collection (seed: cpu_usage). Computed from /proc/stat deltas; never blocks the scrape.
# TYPE resonance_cpu_usage_ratio gauge
resonance_cpu_usage_ratio 0.14826498422712933
# HELP resonance_disk_total_bytes Size of the filesystem of a configured mountpoint.
# TYPE resonance_disk_total_bytes gauge
resonance_disk_total_bytes{mountpoint="/"} 1e+10
resonance_disk_total_bytes{mountpoint="/data"} 1e+10
# HELP resonance_disk_usage_ratio Used share of the filesystem of a configured mountpoint (0-1), as df computes it.
# TYPE resonance_disk_usage_ratio gauge
resonance_disk_usage_ratio{mountpoint="/"} 0.5555555555555556
resonance_disk_usage_ratio{mountpoint="/data"} 0.5555555555555556
# HELP resonance_disk_used_bytes Bytes used on the filesystem of a configured mountpoint (seed: disk_usage).
# TYPE resonance_disk_used_bytes gauge
resonance_disk_used_bytes{mountpoint="/"} 5e+09
resonance_disk_used_bytes{mountpoint="/data"} 5e+09
# HELP resonance_memory_total_bytes Total usable memory.
# TYPE resonance_memory_total_bytes gauge
resonance_memory_total_bytes 2.097152e+09
# HELP resonance_memory_usage_ratio Memory in use as a share of the total (0-1).
# TYPE resonance_memory_usage_ratio gauge
resonance_memory_usage_ratio 0.5
# HELP resonance_memory_used_bytes Memory in use: total minus available (seed: memory_usage).
# TYPE resonance_memory_used_bytes gauge
resonance_memory_used_bytes 1.048576e+09
# HELP resonance_uptime_seconds Seconds since the host booted (seed: uptime).
# TYPE resonance_uptime_seconds gauge
resonance_uptime_seconds 3600
`
	if err := testutil.CollectAndCompare(collectorAdapter{c}, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
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
	// A second scraper 1 ms later measures from the baseline set at
	// `second`, and must not move that baseline.
	clock = clock.Add(time.Millisecond)
	third := cpu.TimesStat{User: 15.01, Idle: 95}
	if got := c.cpuRatio(third); got != 1 {
		t.Fatalf("short window: got %v, want 1 (all of the 0.01 s was busy)", got)
	}
	clock = clock.Add(2 * time.Second)
	fourth := cpu.TimesStat{User: 16, Idle: 96}
	// The baseline is still `second` (the 1 ms call did not advance it).
	if got := c.cpuRatio(fourth); got != 0.5 {
		t.Fatalf("baseline advanced too early: got %v, want 0.5", got)
	}
	// No tick elapsed since the baseline: the last ratio, not 0 or NaN.
	clock = clock.Add(2 * time.Second)
	if got := c.cpuRatio(fourth); got != 0.5 {
		t.Fatalf("no ticks: got %v, want the last ratio 0.5", got)
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
