package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/quantum-resonance/telemetry/config"
)

// The plan's system health figures: cpu_usage, memory_usage, disk_usage,
// uptime.
var (
	cpuUsageDesc = prometheus.NewDesc(
		"resonance_cpu_usage_ratio",
		"Busy share of all CPUs (0-1) since the previous collection (plan: cpu_usage).",
		nil, nil,
	)
	cpuSecondsDesc = prometheus.NewDesc(
		"resonance_cpu_seconds_total",
		"Seconds all CPUs spent in each mode.",
		[]string{"mode"}, nil,
	)
	memoryUsedDesc = prometheus.NewDesc(
		"resonance_memory_used_bytes",
		"Memory in use: total minus available (plan: memory_usage).",
		nil, nil,
	)
	memoryTotalDesc = prometheus.NewDesc(
		"resonance_memory_total_bytes",
		"Total usable memory.",
		nil, nil,
	)
	memoryUsageDesc = prometheus.NewDesc(
		"resonance_memory_usage_ratio",
		"Memory in use as a share of the total (0-1).",
		nil, nil,
	)
	diskUsedDesc = prometheus.NewDesc(
		"resonance_disk_used_bytes",
		"Bytes used on the filesystem of a configured mountpoint (plan: disk_usage).",
		[]string{"mountpoint"}, nil,
	)
	diskTotalDesc = prometheus.NewDesc(
		"resonance_disk_total_bytes",
		"Size of the filesystem of a configured mountpoint.",
		[]string{"mountpoint"}, nil,
	)
	diskUsageDesc = prometheus.NewDesc(
		"resonance_disk_usage_ratio",
		"Used share of the filesystem of a configured mountpoint (0-1), as df computes it.",
		[]string{"mountpoint"}, nil,
	)
	uptimeDesc = prometheus.NewDesc(
		"resonance_uptime_seconds",
		"Seconds since the host booted (plan: uptime).",
		nil, nil,
	)
	bootTimeDesc = prometheus.NewDesc(
		"resonance_boot_time_seconds",
		"The host's boot time as a Unix time, btime of /proc/stat (plan: uptime); a reboot is a change of it.",
		nil, nil,
	)
)

// minCPUWindow is the shortest interval the CPU ratio is computed over. Two
// scrapers (HA Prometheus pairs) a few milliseconds apart would otherwise get
// a ratio over a handful of jiffies, which is noise.
const minCPUWindow = time.Second

func init() {
	registerCollector("system", newSystemCollector)
	// Kept with its CPU baselines: rebuilt, the ratio would fall back to
	// the since-boot average.
	reuseWhileUnchanged("system", func(c *config.Config) any { return c.System })
}

// systemCollector reads the host through gopsutil v4. The ctx carries
// gopsutil's environment (HOST_PROC, HOST_SYS), which tests point at
// testdata.
type systemCollector struct {
	ctx         context.Context
	mountpoints []string
	diskTimeout time.Duration
	logger      *slog.Logger
	now         func() time.Time
	statfs      func(ctx context.Context, path string) (*disk.UsageStat, error)
	uptime      func(ctx context.Context) (uint64, error)
	// proc is /proc (HOST_PROC when set, as the process collector reads
	// it), for the boot time; procErr is why it could not be opened.
	proc    procfs.FS
	procErr error

	cpuMu sync.Mutex
	// cpuBases are earlier readings, oldest first, at least minCPUWindow
	// apart: each scrape measures against the newest one old enough, so
	// a second scraper right after the first still gets a full window.
	cpuBases []cpuBaseline
	cpuLast  float64 // last ratio, repeated when no tick has elapsed
	// cpuExposed is the last value exposed per mode: the kernel's iowait
	// can go backwards, a counter must not.
	cpuExposed map[string]float64

	stuckMu sync.Mutex
	stuck   map[string]bool // mountpoints whose statfs has not returned yet
}

func newSystemCollector(d Deps) (Collector, error) {
	// A /proc that cannot be opened costs only the boot time, reported
	// every scrape like the other partial failures.
	proc, procErr := procfs.NewFS(procMountPoint())
	return &systemCollector{
		proc:        proc,
		procErr:     procErr,
		ctx:         context.Background(),
		mountpoints: d.Config.System.Mountpoints,
		diskTimeout: time.Duration(d.Config.System.DiskTimeout),
		logger:      d.Logger,
		now:         time.Now,
		statfs:      disk.UsageWithContext,
		uptime:      host.UptimeWithContext,
		stuck:       map[string]bool{},
		cpuExposed:  map[string]float64{},
	}, nil
}

type cpuBaseline struct {
	times cpu.TimesStat
	at    time.Time
}

// maxCPUBaselines bounds the readings kept for the ratio.
const maxCPUBaselines = 4

func (c *systemCollector) Update(ch chan<- prometheus.Metric) error {
	return errors.Join(c.updateCPU(ch), c.updateMemory(ch), c.updateDisks(ch), c.updateUptime(ch), c.updateBootTime(ch))
}

func (c *systemCollector) updateCPU(ch chan<- prometheus.Metric) error {
	times, err := cpu.TimesWithContext(c.ctx, false)
	if err != nil {
		return fmt.Errorf("cpu times: %w", err)
	}
	if len(times) == 0 {
		return errors.New("cpu times: no aggregate cpu line in /proc/stat")
	}
	t := times[0]
	c.cpuMu.Lock()
	for mode, v := range map[string]float64{
		"user": t.User, "nice": t.Nice, "system": t.System, "idle": t.Idle,
		"iowait": t.Iowait, "irq": t.Irq, "softirq": t.Softirq, "steal": t.Steal,
	} {
		v = max(v, c.cpuExposed[mode])
		c.cpuExposed[mode] = v
		ch <- prometheus.MustNewConstMetric(cpuSecondsDesc, prometheus.CounterValue, v, mode)
	}
	c.cpuMu.Unlock()
	ch <- prometheus.MustNewConstMetric(cpuUsageDesc, prometheus.GaugeValue, c.cpuRatio(t))
	return nil
}

// cpuRatio is the busy share since the newest baseline at least
// minCPUWindow old; without one (the first second after start) since boot.
// A new baseline is kept once the newest is minCPUWindow old, so scrapers
// milliseconds apart (an HA Prometheus pair) both measure over a full
// window instead of the second one over a jiffy.
func (c *systemCollector) cpuRatio(t cpu.TimesStat) float64 {
	c.cpuMu.Lock()
	defer c.cpuMu.Unlock()
	now := c.now()
	base := cpu.TimesStat{}
	for i := len(c.cpuBases) - 1; i >= 0; i-- {
		if now.Sub(c.cpuBases[i].at) >= minCPUWindow {
			base = c.cpuBases[i].times
			break
		}
	}
	if n := len(c.cpuBases); n == 0 || now.Sub(c.cpuBases[n-1].at) >= minCPUWindow {
		if n == maxCPUBaselines {
			c.cpuBases = append(c.cpuBases[:0], c.cpuBases[1:]...)
		}
		c.cpuBases = append(c.cpuBases, cpuBaseline{times: t, at: now})
	}
	total := cpuTotal(t) - cpuTotal(base)
	idle := (t.Idle + t.Iowait) - (base.Idle + base.Iowait)
	if total <= 0 {
		// Nothing new to measure.
		return c.cpuLast
	}
	c.cpuLast = clamp01((total - idle) / total)
	return c.cpuLast
}

// cpuTotal excludes guest time, which Linux already counts in user and nice.
func cpuTotal(t cpu.TimesStat) float64 {
	return t.User + t.Nice + t.System + t.Idle + t.Iowait + t.Irq + t.Softirq + t.Steal
}

func (c *systemCollector) updateMemory(ch chan<- prometheus.Metric) error {
	vm, err := mem.VirtualMemoryWithContext(c.ctx)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	if vm.Total == 0 {
		return errors.New("memory: total is 0")
	}
	used := float64(vm.Total) - float64(vm.Available)
	ch <- prometheus.MustNewConstMetric(memoryUsedDesc, prometheus.GaugeValue, used)
	ch <- prometheus.MustNewConstMetric(memoryTotalDesc, prometheus.GaugeValue, float64(vm.Total))
	ch <- prometheus.MustNewConstMetric(memoryUsageDesc, prometheus.GaugeValue, clamp01(used/float64(vm.Total)))
	return nil
}

type diskResult struct {
	usage *disk.UsageStat
	err   error
}

// updateDisks runs statfs per mountpoint under diskTimeout. A mountpoint
// whose call is still stuck (a dead NFS server) is skipped until that call
// returns, so hung calls never pile up, scrape after scrape.
func (c *systemCollector) updateDisks(ch chan<- prometheus.Metric) error {
	var errs []error
	for _, mp := range c.mountpoints {
		c.stuckMu.Lock()
		stuck := c.stuck[mp]
		if !stuck {
			c.stuck[mp] = true
		}
		c.stuckMu.Unlock()
		if stuck {
			errs = append(errs, fmt.Errorf("disk %s: previous statfs still has not returned", mp))
			continue
		}

		done := make(chan diskResult, 1)
		go func() {
			u, err := c.statfs(c.ctx, mp)
			c.stuckMu.Lock()
			delete(c.stuck, mp)
			c.stuckMu.Unlock()
			done <- diskResult{u, err}
		}()
		select {
		case r := <-done:
			if r.err != nil {
				errs = append(errs, fmt.Errorf("disk %s: %w", mp, r.err))
				continue
			}
			used := float64(r.usage.Used)
			// df's ratio: used / (used + available to unprivileged users).
			ratio := 0.0
			if avail := used + float64(r.usage.Free); avail > 0 {
				ratio = used / avail
			}
			ch <- prometheus.MustNewConstMetric(diskUsedDesc, prometheus.GaugeValue, used, mp)
			ch <- prometheus.MustNewConstMetric(diskTotalDesc, prometheus.GaugeValue, float64(r.usage.Total), mp)
			ch <- prometheus.MustNewConstMetric(diskUsageDesc, prometheus.GaugeValue, clamp01(ratio), mp)
		case <-time.After(c.diskTimeout):
			errs = append(errs, fmt.Errorf("disk %s: statfs timed out after %s", mp, c.diskTimeout))
		}
	}
	return errors.Join(errs...)
}

// updateUptime uses sysinfo(2), the kernel's own count since boot: unlike
// now - btime it is right inside containers and across clock changes.
func (c *systemCollector) updateUptime(ch chan<- prometheus.Metric) error {
	uptime, err := c.uptime(c.ctx)
	if err != nil {
		return fmt.Errorf("uptime: %w", err)
	}
	ch <- prometheus.MustNewConstMetric(uptimeDesc, prometheus.GaugeValue, float64(uptime))
	return nil
}

// updateBootTime exposes btime of /proc/stat, the kernel's integer: a
// reboot shows as a new value even where the uptime alone is ambiguous.
func (c *systemCollector) updateBootTime(ch chan<- prometheus.Metric) error {
	if c.procErr != nil {
		return fmt.Errorf("boot time: %w", c.procErr)
	}
	st, err := c.proc.Stat()
	if err != nil {
		return fmt.Errorf("boot time: %w", err)
	}
	ch <- prometheus.MustNewConstMetric(bootTimeDesc, prometheus.GaugeValue, float64(st.BootTime))
	return nil
}

func clamp01(v float64) float64 {
	return min(max(v, 0), 1)
}
