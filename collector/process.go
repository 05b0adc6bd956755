package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/quantum-resonance/telemetry/config"
)

// sourceProc is the source label of what the exporter read from /proc. The
// start time and resident memory families also hold the app's own pushed
// figures (source="app", sent by the ingest collector), so their descriptors
// here are the only ones: one HELP and type for one family.
const sourceProc = "proc"

var (
	processUpDesc = prometheus.NewDesc(
		"resonance_process_up",
		"Whether the watched service's process was found (1) or not (0): no pid file, a pid that is gone, no process matching process.name or process.cmdline.",
		nil, nil,
	)
	processStartTimeDesc = prometheus.NewDesc(
		"resonance_process_start_time_seconds",
		"Start time of the watched service's process, as a Unix time, by who reported it (proc: read by the exporter on the same host; app: pushed as started_at).",
		[]string{"source"}, nil,
	)
	processResidentMemoryDesc = prometheus.NewDesc(
		"resonance_process_resident_memory_bytes",
		"Resident memory of the watched service's process in bytes, by who reported it (proc: read by the exporter on the same host; app: pushed as resident_memory_bytes).",
		[]string{"source"}, nil,
	)
	processCPUDesc = prometheus.NewDesc(
		"resonance_process_cpu_seconds_total",
		"User and system CPU time of the watched service's process, in seconds.",
		nil, nil,
	)
	processOpenFDsDesc = prometheus.NewDesc(
		"resonance_process_open_fds",
		"Open file descriptors of the watched service's process.",
		nil, nil,
	)
	processRestartsDesc = prometheus.NewDesc(
		"resonance_process_restarts_total",
		"Restarts of the watched service seen by the exporter: a process with a new pid or start time found after another one (or after none).",
		nil, nil,
	)
	cgroupMemoryDesc = prometheus.NewDesc(
		"resonance_cgroup_memory_bytes",
		"Memory charged to the watched cgroup v2 (memory.current), page cache included, as the OOM killer counts it.",
		[]string{"cgroup"}, nil,
	)
	cgroupWorkingSetDesc = prometheus.NewDesc(
		"resonance_cgroup_memory_working_set_bytes",
		"Working set of the watched cgroup v2: memory.current minus inactive_file of memory.stat, floored at 0, as kubelet and cAdvisor compute it.",
		[]string{"cgroup"}, nil,
	)
	cgroupMemoryLimitDesc = prometheus.NewDesc(
		"resonance_cgroup_memory_limit_bytes",
		"Memory limit of the watched cgroup v2 (memory.max); absent when the cgroup has no limit (max).",
		[]string{"cgroup"}, nil,
	)
)

func init() {
	registerCollector("process", newProcessCollector)
	// Kept across reloads while its section is unchanged, so restarts_total
	// never falls back to 0 and the last pid is not seen as a new process.
	// Compared by the expressions' text: compiled regexps are not comparable.
	reuseWhileUnchanged("process", func(c *config.Config) any {
		p := c.Process
		return [4]string{p.PIDFile, p.Name.String(), p.Cmdline.String(), p.Cgroup}
	})
}

// processCollector watches the service's own process on this host or pod,
// found by pid file or by a regular expression, and optionally its cgroup.
// It never guesses: several matching processes are an error, none is a
// process that is down.
type processCollector struct {
	ctx    context.Context
	cfg    config.ProcessConfig
	logger *slog.Logger
	self   int32
	proc   procfs.FS // /proc, for start ticks and the boot time

	mu       sync.Mutex // guards the fields below; scrapes may overlap
	seen     bool       // a process has been found before
	last     processID
	restarts float64
}

// processID tells one run of the service from the next: a pid alone can be
// reused, a pid and its start time cannot. The start time is the kernel's
// integer (clock ticks after boot in /proc/PID/stat), never a computed
// float: gopsutil's CreateTime derives it from the uptime and moves by a
// second between reads in containers and on clock steps.
type processID struct {
	pid        int32
	startTicks uint64
}

func newProcessCollector(d Deps) (Collector, error) {
	if !d.Config.Process.Enabled() {
		return nil, nil
	}
	fs, err := procfs.NewFS(procMountPoint())
	if err != nil {
		return nil, fmt.Errorf("process: %w", err)
	}
	return &processCollector{
		ctx:    context.Background(),
		cfg:    d.Config.Process,
		logger: d.Logger,
		self:   int32(os.Getpid()),
		proc:   fs,
	}, nil
}

func (c *processCollector) Update(ch chan<- prometheus.Metric) error {
	var errs []error
	if c.cfg.FindsProcess() {
		errs = append(errs, c.updateProcess(ch))
	}
	if c.cfg.Cgroup != "" {
		errs = append(errs, c.updateCgroup(ch))
	}
	return errors.Join(errs...)
}

func (c *processCollector) updateProcess(ch chan<- prometheus.Metric) error {
	p, err := c.find()
	if err != nil {
		// Several matches: a configuration problem, not the service
		// being down. No up series, so SystemDown does not page for it;
		// the failed collector (CollectorFailing) says it.
		return err
	}
	if p == nil {
		c.mu.Lock()
		restarts := c.restarts
		c.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(processUpDesc, prometheus.GaugeValue, 0)
		ch <- prometheus.MustNewConstMetric(processRestartsDesc, prometheus.CounterValue, restarts)
		return nil
	}
	startTicks, started, err := c.startTime(p.Pid)
	if err != nil {
		return fmt.Errorf("process %d: start time: %w", p.Pid, err)
	}
	restarts := c.observe(processID{pid: p.Pid, startTicks: startTicks})
	ch <- prometheus.MustNewConstMetric(processUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(processStartTimeDesc, prometheus.GaugeValue, started, sourceProc)
	ch <- prometheus.MustNewConstMetric(processRestartsDesc, prometheus.CounterValue, restarts)

	// The rest may fail (a process exiting mid-scrape, or /proc/<pid>/fd
	// of another user): reported, and what could be read is still sent.
	var errs []error
	if mem, err := p.MemoryInfoWithContext(c.ctx); err != nil {
		errs = append(errs, fmt.Errorf("process %d: memory: %w", p.Pid, err))
	} else {
		ch <- prometheus.MustNewConstMetric(processResidentMemoryDesc, prometheus.GaugeValue, float64(mem.RSS), sourceProc)
	}
	if t, err := p.TimesWithContext(c.ctx); err != nil {
		errs = append(errs, fmt.Errorf("process %d: cpu: %w", p.Pid, err))
	} else {
		ch <- prometheus.MustNewConstMetric(processCPUDesc, prometheus.CounterValue, t.User+t.System)
	}
	if fds, err := p.NumFDsWithContext(c.ctx); err != nil {
		errs = append(errs, fmt.Errorf("process %d: open fds: %w", p.Pid, err))
	} else {
		ch <- prometheus.MustNewConstMetric(processOpenFDsDesc, prometheus.GaugeValue, float64(fds))
	}
	return errors.Join(errs...)
}

// startTime reads the process's start in clock ticks after boot
// (/proc/PID/stat) and its Unix time: btime (/proc/stat) + ticks / CLK_TCK.
// Both are integers the kernel keeps, so the result is the same every scrape.
func (c *processCollector) startTime(pid int32) (ticks uint64, unix float64, err error) {
	p, err := c.proc.Proc(int(pid))
	if err != nil {
		return 0, 0, err
	}
	st, err := p.Stat()
	if err != nil {
		return 0, 0, err
	}
	unix, err = st.StartTime()
	if err != nil {
		return 0, 0, err
	}
	return st.Starttime, unix, nil
}

// procMountPoint is where /proc is: HOST_PROC when set, as gopsutil reads it.
func procMountPoint() string {
	if p := os.Getenv("HOST_PROC"); p != "" {
		return p
	}
	return procfs.DefaultMountPoint
}

// observe records the process found and returns the restart count: a
// different process than the last one found is a restart; the first one the
// exporter sees is not.
func (c *processCollector) observe(id processID) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen && id != c.last {
		c.restarts++
		c.logger.Info("Watched process restarted", "old_pid", c.last.pid, "new_pid", id.pid)
	}
	c.seen, c.last = true, id
	return c.restarts
}

// find returns the watched process, nil when there is none, or an error
// when the configuration matches several.
func (c *processCollector) find() (*process.Process, error) {
	if c.cfg.PIDFile != "" {
		return c.fromPIDFile()
	}
	pids, err := process.PidsWithContext(c.ctx)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var found []*process.Process
	for _, pid := range pids {
		if pid == c.self {
			// The exporter's own command line may carry the pattern.
			continue
		}
		p, err := process.NewProcessWithContext(c.ctx, pid)
		if err != nil {
			continue // exited meanwhile
		}
		if c.matches(p) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	pidList := make([]string, len(found))
	for i, p := range found {
		pidList[i] = strconv.Itoa(int(p.Pid))
	}
	return nil, fmt.Errorf("%d processes match (pids %s): make process.name or process.cmdline match exactly one, or use process.pid_file", len(found), strings.Join(pidList, ", "))
}

func (c *processCollector) matches(p *process.Process) bool {
	if c.cfg.Name.Regexp != nil {
		name, err := p.NameWithContext(c.ctx)
		return err == nil && c.cfg.Name.MatchString(name)
	}
	cmdline, err := p.CmdlineWithContext(c.ctx)
	return err == nil && cmdline != "" && c.cfg.Cmdline.MatchString(cmdline)
}

// fromPIDFile reads the pid file. A missing file or a pid that is gone is a
// service that is not running; a file that holds no pid is an error.
func (c *processCollector) fromPIDFile() (*process.Process, error) {
	data, err := os.ReadFile(c.cfg.PIDFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pid file: %w", err)
	}
	pid, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("pid file %s: %q is not a pid", c.cfg.PIDFile, truncate(strings.TrimSpace(string(data)), 32))
	}
	p, err := process.NewProcessWithContext(c.ctx, int32(pid))
	if errors.Is(err, process.ErrorProcessNotRunning) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	return p, nil
}

// updateCgroup reads the cgroup v2 memory files. They hold one number each
// (memory.max may hold "max"); no library reads cgroup v2 memory, and the
// format is the kernel's stable interface.
func (c *processCollector) updateCgroup(ch chan<- prometheus.Metric) error {
	current, err := readCgroupValue(filepath.Join(c.cfg.Cgroup, "memory.current"))
	if err != nil {
		return err
	}
	ch <- prometheus.MustNewConstMetric(cgroupMemoryDesc, prometheus.GaugeValue, current, c.cfg.Cgroup)
	// A memory.stat that cannot be read costs the working set only, not
	// the limit the memory alerts divide by.
	var errs []error
	inactive, err := readMemoryStat(filepath.Join(c.cfg.Cgroup, "memory.stat"), "inactive_file")
	if err != nil {
		errs = append(errs, err)
	} else {
		ch <- prometheus.MustNewConstMetric(cgroupWorkingSetDesc, prometheus.GaugeValue, max(current-inactive, 0), c.cfg.Cgroup)
	}
	limit, err := readCgroupValue(filepath.Join(c.cfg.Cgroup, "memory.max"))
	switch {
	case errors.Is(err, errNoLimit):
	case err != nil:
		errs = append(errs, err)
	default:
		ch <- prometheus.MustNewConstMetric(cgroupMemoryLimitDesc, prometheus.GaugeValue, limit, c.cfg.Cgroup)
	}
	return errors.Join(errs...)
}

var errNoLimit = errors.New("no limit")

func readCgroupValue(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, errNoLimit
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup %s: %q is not a byte count", path, truncate(s, 32))
	}
	return float64(v), nil
}

// readMemoryStat returns one key of a cgroup v2 memory.stat ("key value"
// lines, bytes).
func readMemoryStat(path, key string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("cgroup: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || k != key {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cgroup %s: %s %q is not a byte count", path, key, truncate(v, 32))
		}
		return float64(n), nil
	}
	return 0, fmt.Errorf("cgroup %s: no %s", path, key)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
