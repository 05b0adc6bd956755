// Package historytest backfills eight days of realistic history into a real
// Prometheus TSDB with promtool and serves it with the pinned Prometheus, for
// the rituals' tests: every plan metric of one app scraped each minute, and
// the ALERTS series the rule evaluations would have written, with a day with
// an error storm, a night with a restart and a week in which HighCPU flaps.
package historytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/localstack"
	"github.com/quantum-resonance/telemetry/ritual/query"
	"github.com/quantum-resonance/telemetry/rules"
	"github.com/quantum-resonance/telemetry/tooltest"
)

// The backfilled history: 8 days of one-minute samples of every plan metric
// of one app, as Prometheus would have scraped them, and the ALERTS series
// its rule evaluations would have written. It holds a day with an error
// storm, a night with a restart and a week in which HighCPU flaps.
var (
	Start = time.Date(2026, time.November, 15, 20, 0, 0, 0, time.UTC)
	// End is a Monday, 20:00 UTC: the evening broadcast's time.
	End = Start.Add(8 * 24 * time.Hour)

	StormStart = time.Date(2026, time.November, 23, 14, 0, 0, 0, time.UTC)
	StormEnd   = StormStart.Add(time.Hour)

	// The app restarts at 05:00: the exporter is not scraped for three
	// minutes and its counters start again from zero.
	RestartAt = time.Date(2026, time.November, 23, 5, 0, 0, 0, time.UTC)
	DownFor   = 3 * time.Minute

	// CPU spikes of 13 minutes: HighCPU (for 10m) fires for 3 minutes and
	// resolves, six times in the week.
	CPUSpikes = []time.Time{
		time.Date(2026, time.November, 17, 10, 0, 0, 0, time.UTC),
		time.Date(2026, time.November, 18, 15, 0, 0, 0, time.UTC),
		time.Date(2026, time.November, 19, 11, 30, 0, 0, time.UTC),
		time.Date(2026, time.November, 20, 16, 0, 0, 0, time.UTC),
		time.Date(2026, time.November, 21, 9, 0, 0, 0, time.UTC),
		time.Date(2026, time.November, 23, 1, 0, 0, 0, time.UTC),
	}
	CPUSpikeLength = 13 * time.Minute
)

const (
	// ScrapeStep is the interval between the history's samples.
	ScrapeStep = time.Minute
	job        = "resonance"
	// Instance is the app's scrape target.
	Instance = "app:9861"
)

func inRange(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }

// down is true while the exporter was not scraped.
func down(t time.Time) bool { return inRange(t, RestartAt, RestartAt.Add(DownFor)) }

// phase is the time of day as an angle: the daily rhythm of the figures.
func phase(t time.Time) float64 {
	return 2 * math.Pi * float64(t.Hour()*60+t.Minute()) / 1440
}

func storm(t time.Time) bool { return inRange(t, StormStart, StormEnd) }

func cpu(t time.Time) float64 {
	for _, s := range CPUSpikes {
		if inRange(t, s, s.Add(CPUSpikeLength)) {
			return 0.9
		}
	}
	return 0.35 + 0.1*math.Sin(phase(t))
}

// RequestsPerMinute is the API traffic at t.
func RequestsPerMinute(t time.Time) float64 { return 600 + 200*math.Sin(phase(t)) }

// ServerErrorShare is the share of requests answered 5xx at t.
func ServerErrorShare(t time.Time) float64 {
	if storm(t) {
		return 0.3
	}
	return 0.01
}

func errorsPerMinute(t time.Time) float64 {
	if storm(t) {
		return 40
	}
	return 1
}

func boostActive(t time.Time) bool { return t.Hour() < 2 || t.Hour() >= 4 }

// WalletBalance is the wallet balance at t: one Pi spent an hour.
func WalletBalance(t time.Time) float64 { return 1000 - t.Sub(Start).Hours() }

// Cumulative buckets of the API latency histogram: half the requests under
// 100 ms, 95 % under 500 ms, so p50 is 100 ms and p95 500 ms.
var (
	apiBuckets  = []string{"0.1", "0.25", "0.5", "1", "2.5", "+Inf"}
	apiCumShare = []float64{0.5, 0.8, 0.95, 0.99, 1, 1}
)

const apiMeanSeconds = 0.2

// The history is written in the format promtool backfills, OpenMetrics,
// with expfmt: one dto.MetricFamily a family, every sample a dto.Metric
// with its timestamp, each family encoded and let go before the next is
// built.
//
// The classic histograms are written as their three unknown-typed families
// (name_bucket, name_sum, name_count), not as a histogram family: expfmt's
// OpenMetrics encoder takes only integer bucket counts (the history's
// counters grow by fractions a minute) and reformats the le label ("1"
// becomes "1.0"), so the series would not be the history's.
type openMetrics struct {
	w   *bufio.Writer
	err error
}

// family encodes one family of series. A counter's name ends in _total:
// expfmt then writes "# TYPE name counter" and the samples under the full
// name, as the plan metric is named (without _total it would write the
// family as unknown).
func (o *openMetrics) family(name string, typ dto.MetricType, series ...[]*dto.Metric) {
	if o.err != nil {
		return
	}
	var metrics []*dto.Metric
	for _, s := range series {
		metrics = append(metrics, s...)
	}
	_, o.err = expfmt.MetricFamilyToOpenMetrics(o.w, &dto.MetricFamily{Name: &name, Type: &typ, Metric: metrics})
}

// finish ends the OpenMetrics text with # EOF and flushes it.
func (o *openMetrics) finish() error {
	if o.err == nil {
		_, o.err = expfmt.FinalizeOpenMetrics(o.w)
	}
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}

// labels are label pairs from name, value, name, value...; the samples of
// a series share them.
func labels(kv ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &dto.LabelPair{Name: new(kv[i]), Value: new(kv[i+1])})
	}
	return out
}

// sample is one sample of a series of type typ at ts.
func sample(typ dto.MetricType, l []*dto.LabelPair, v float64, ts time.Time) *dto.Metric {
	m := &dto.Metric{Label: l, TimestampMs: new(ts.UnixMilli())}
	switch typ {
	case dto.MetricType_COUNTER:
		m.Counter = &dto.Counter{Value: &v}
	case dto.MetricType_GAUGE:
		m.Gauge = &dto.Gauge{Value: &v}
	default:
		m.Untyped = &dto.Untyped{Value: &v}
	}
	return m
}

var (
	gaugeType   = dto.MetricType_GAUGE
	counterType = dto.MetricType_COUNTER
	// untyped: a classic histogram's _bucket, _sum and _count (see
	// openMetrics).
	untyped = dto.MetricType_UNTYPED
)

// series is one series, a sample per scrape the exporter answered.
// value gets the scrape time and the time the exporter last started.
func series(typ dto.MetricType, l []*dto.LabelPair, value func(t, since time.Time) float64) []*dto.Metric {
	var out []*dto.Metric
	since := Start
	for t := Start; !t.After(End); t = t.Add(ScrapeStep) {
		if down(t) {
			since = RestartAt.Add(DownFor)
			continue
		}
		out = append(out, sample(typ, l, value(t, since), t))
	}
	return out
}

// counter is the sum of perMinute over the scrapes since the exporter
// started: a restart starts it from zero again.
func counter(perMinute func(time.Time) float64) func(t, since time.Time) float64 {
	sum, last := 0.0, time.Time{}
	return func(t, since time.Time) float64 {
		if last.Before(since) {
			sum, last = 0, since
		}
		for last.Before(t) {
			last = last.Add(ScrapeStep)
			sum += perMinute(last)
		}
		return sum
	}
}

func gauge(f func(time.Time) float64) func(t, _ time.Time) float64 {
	return func(t, _ time.Time) float64 { return f(t) }
}

func writeHistory(t *testing.T, path string, table *rules.Table) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o := &openMetrics{w: bufio.NewWriter(f)}
	base := []string{"job", job, "instance", Instance}
	lbl := func(extra ...string) []*dto.LabelPair { return labels(append(slices.Clone(base), extra...)...) }

	var up []*dto.Metric
	for ts := Start; !ts.After(End); ts = ts.Add(ScrapeStep) {
		v := 1.0
		if down(ts) {
			v = 0
		}
		up = append(up, sample(gaugeType, lbl(), v, ts))
	}
	o.family("up", gaugeType, up)

	o.family("resonance_uptime_seconds", gaugeType, series(gaugeType, lbl(), func(t, since time.Time) float64 {
		if since.Equal(Start) {
			return t.Sub(Start.Add(-72 * time.Hour)).Seconds()
		}
		return t.Sub(since).Seconds()
	}))
	gauges := []struct {
		name string
		l    []*dto.LabelPair
		v    func(time.Time) float64
	}{
		{"resonance_cpu_usage_ratio", lbl(), cpu},
		{"resonance_memory_usage_ratio", lbl(), func(time.Time) float64 { return 0.5 }},
		{"resonance_memory_used_bytes", lbl(), func(time.Time) float64 { return 700 << 20 }},
		{"resonance_disk_usage_ratio", lbl("mountpoint", "/"), func(time.Time) float64 { return 0.5 }},
		{"resonance_disk_used_bytes", lbl("mountpoint", "/"), func(time.Time) float64 { return 5 << 30 }},
	}
	for _, g := range gauges {
		o.family(g.name, gaugeType, series(gaugeType, g.l, gauge(g.v)))
	}

	o.family("resonance_errors_total", counterType, series(counterType, lbl(), counter(errorsPerMinute)))

	var requests [][]*dto.Metric
	for _, code := range []string{"200", "500"} {
		share := func(t time.Time) float64 {
			if code == "500" {
				return ServerErrorShare(t)
			}
			return 1 - ServerErrorShare(t)
		}
		requests = append(requests, series(counterType, lbl("endpoint", "/api/v1/resonance", "method", "GET", "code", code),
			counter(func(t time.Time) float64 { return RequestsPerMinute(t) * share(t) })))
	}
	o.family("resonance_api_requests_total", counterType, requests...)

	const api = "resonance_api_request_duration_seconds"
	var apiBucketSeries [][]*dto.Metric
	for i, le := range apiBuckets {
		apiBucketSeries = append(apiBucketSeries, series(untyped, lbl("le", le),
			counter(func(t time.Time) float64 { return RequestsPerMinute(t) * apiCumShare[i] })))
	}
	o.family(api+"_bucket", untyped, apiBucketSeries...)
	o.family(api+"_sum", untyped, series(untyped, lbl(), counter(func(t time.Time) float64 { return RequestsPerMinute(t) * apiMeanSeconds })))
	o.family(api+"_count", untyped, series(untyped, lbl(), counter(RequestsPerMinute)))

	const upstream = "resonance_upstream_request_duration_seconds"
	var upBuckets, upSums, upCounts [][]*dto.Metric
	for _, up := range []struct {
		name        string
		perMin, sec float64
	}{{"huggingface", 30, 0.8}, {"pi_sdk", 60, 0.4}} {
		upBuckets = append(upBuckets,
			series(untyped, lbl("upstream", up.name, "le", "1"), counter(func(time.Time) float64 { return up.perMin * 0.7 })),
			series(untyped, lbl("upstream", up.name, "le", "+Inf"), counter(func(time.Time) float64 { return up.perMin })))
		upSums = append(upSums, series(untyped, lbl("upstream", up.name), counter(func(time.Time) float64 { return up.perMin * up.sec })))
		upCounts = append(upCounts, series(untyped, lbl("upstream", up.name), counter(func(time.Time) float64 { return up.perMin })))
	}
	o.family(upstream+"_bucket", untyped, upBuckets...)
	o.family(upstream+"_sum", untyped, upSums...)
	o.family(upstream+"_count", untyped, upCounts...)

	o.family("resonance_active_users", gaugeType, series(gaugeType, lbl(), gauge(func(t time.Time) float64 { return math.Round(50 + 40*math.Sin(phase(t))) })))
	o.family("resonance_transactions_total", counterType,
		series(counterType, lbl("status", "completed"), counter(func(time.Time) float64 { return 10 })),
		series(counterType, lbl("status", "failed"), counter(func(time.Time) float64 { return 1 })))
	o.family("resonance_wallet_balance_pi", gaugeType, series(gaugeType, lbl("source", "horizon"), gauge(WalletBalance)))
	o.family("resonance_mining_boost_active", gaugeType, series(gaugeType, lbl(), gauge(func(t time.Time) float64 {
		if boostActive(t) {
			return 1
		}
		return 0
	})))
	o.family("resonance_community_resonance_score", gaugeType, series(gaugeType, lbl(), gauge(func(t time.Time) float64 { return 60 + 15*math.Sin(phase(t)) })))

	writeAlerts(t, o, table)
	if err := o.finish(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The api-availability SLO: Prometheus's own rule engine records its
// series (the pack's SLO rule group, see backfillRules) from the backfilled
// API requests, 1 % of them 5xx, 30 % during the storm.
const (
	SLOName      = "api-availability"
	SLOObjective = 0.995
)

// alertConditions say, minute by minute, when each alert's condition held.
// The rate-based ones lag the storm by their rate window (5m; 2m for
// ErrorStorm and APIFailure); SystemDown holds while the target is down and
// for five minutes after (its min uptime).
var alertConditions = map[string]func(time.Time) bool{
	"ErrorStorm":          func(t time.Time) bool { return inRange(t, StormStart.Add(time.Minute), StormEnd.Add(time.Minute)) },
	"ErrorRateHigh":       func(t time.Time) bool { return inRange(t, StormStart.Add(time.Minute), StormEnd.Add(4*time.Minute)) },
	"APIFailure":          func(t time.Time) bool { return inRange(t, StormStart.Add(time.Minute), StormEnd.Add(time.Minute)) },
	"APIErrorRateHigh":    func(t time.Time) bool { return inRange(t, StormStart.Add(time.Minute), StormEnd.Add(4*time.Minute)) },
	"SystemDown":          func(t time.Time) bool { return inRange(t, RestartAt, RestartAt.Add(DownFor+5*time.Minute)) },
	"HighCPU":             func(t time.Time) bool { return cpu(t) > 0.8 },
	"MiningBoostInactive": func(t time.Time) bool { return !boostActive(t) },
}

// writeAlerts writes the ALERTS series Prometheus's rule evaluation (every
// minute) would have written: firing once the condition held for `for`.
// Watchdog fires all the time, as it should. Alerting rules are not
// backfilled by promtool, so these stay synthesized.
func writeAlerts(t *testing.T, o *openMetrics, table *rules.Table) {
	names := make([]string, 0, len(alertConditions))
	for n := range alertConditions {
		names = append(names, n)
	}
	sort.Strings(names)
	var all [][]*dto.Metric
	for _, name := range names {
		a, ok := table.Alert(name)
		if !ok {
			t.Fatalf("alert %s is not in the table", name)
		}
		all = append(all, alert(a, alertConditions[name], Start, End, ScrapeStep))
	}
	o.family("ALERTS", gaugeType, append(all, watchdog(Start, End, ScrapeStep))...)
}

// alert is one alert's ALERTS samples, evaluated every step from from to
// to: firing once cond held for the alert's `for`, and keep_firing_for
// after it clears, as Prometheus keeps it.
func alert(a rules.Alert, cond func(time.Time) bool, from, to time.Time, step time.Duration) []*dto.Metric {
	l := labels("alertname", a.Name, "alertstate", "firing", "severity", string(a.Severity), "metric", a.Metric, "job", job, "instance", Instance)
	var out []*dto.Metric
	var since, firingUntil time.Time
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		if !cond(ts) {
			since = time.Time{}
			if ts.Before(firingUntil) {
				out = append(out, sample(gaugeType, l, 1, ts))
			}
			continue
		}
		if since.IsZero() {
			since = ts
		}
		if ts.Sub(since) >= a.For {
			out = append(out, sample(gaugeType, l, 1, ts))
			firingUntil = ts.Add(a.KeepFiringFor + time.Nanosecond)
		}
	}
	return out
}

func watchdog(from, to time.Time, step time.Duration) []*dto.Metric {
	l := labels("alertname", "Watchdog", "alertstate", "firing", "severity", "none")
	var out []*dto.Metric
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		out = append(out, sample(gaugeType, l, 1, ts))
	}
	return out
}

// History is a Prometheus serving the backfilled history.
type History struct {
	API   promv1.API
	Table *rules.Table
	// Root is the repository's root.
	Root string
	// URL is the Prometheus's address.
	URL string
}

// Run backfills the history into a TSDB with promtool and starts
// the pinned Prometheus on it, with the committed rule pack loaded.
func Run(t *testing.T) *History {
	t.Helper()
	return serve(t, writeHistory, true)
}

// RunFresh serves the history of a stack a few minutes old (see
// FreshStart) as Run serves the eight days.
func RunFresh(t *testing.T) *History {
	t.Helper()
	return serve(t, writeFresh, false)
}

func serve(t *testing.T, write func(*testing.T, string, *rules.Table), record bool) *History {
	t.Helper()
	root, err := localstack.FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	prometheus, promtool := tooltest.Path(t, "prometheus"), tooltest.Path(t, "promtool")
	table, err := rules.LoadThresholds(filepath.Join(root, rules.DefaultThresholdsPath))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	om := filepath.Join(dir, "history.om")
	write(t, om, table)
	data := filepath.Join(dir, "data")
	backfill := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics",
		// promtool reads the input once per block: day-long blocks, not
		// the default two hours, keep that to nine passes.
		"--max-block-duration=24h", om, data)
	if out, err := backfill.CombinedOutput(); err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
	if err := os.Remove(om); err != nil {
		t.Fatal(err)
	}
	if record {
		backfillRules(t, dir, data, table)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("rule_files: [%q]\n", filepath.Join(root, rules.DefaultRulesPath))), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ := startPrometheus(t, prometheus, cfg, data, filepath.Join(dir, "prometheus.log"))
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		t.Fatal(err)
	}
	return &History{API: promv1.NewAPI(client), Table: table, Root: root, URL: url}
}

// startPrometheus starts the pinned Prometheus on the TSDB data with the
// configuration cfg, logging to logPath, and waits until it is ready. It
// returns its address and a stop that ends it (and is done on cleanup).
// The log is shown when the test fails.
func startPrometheus(t *testing.T, prometheus, cfg, data, logPath string) (string, func()) {
	t.Helper()
	addr := tooltest.FreeAddr(t)
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	prom := exec.Command(prometheus,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
		"--log.level=warn")
	prom.Stdout, prom.Stderr = logFile, logFile
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			// Interrupted, it closes the TSDB (and its lock) as it
			// shuts down, for the next one on data.
			_ = prom.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = prom.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = prom.Process.Kill()
				<-done
			}
			_ = logFile.Close()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("prometheus log (%s):\n%s", filepath.Base(logPath), out)
		}
	})
	waitReady(t, "http://"+addr+"/-/ready")
	return "http://" + addr, stop
}

// backfillRules has Prometheus's rule engine record the pack's SLO series
// over the history: promtool tsdb create-blocks-from rules evaluates the
// SLO group's recording rules every ScrapeStep from Start to End against a
// Prometheus serving the TSDB data, and the blocks it writes join data.
//
// promtool evaluates each rule over the data the Prometheus serves, not
// over what the rules before it record: the rules that read recorded
// series (the 30-day error ratio reads the 5m rates, the budget left reads
// the 30-day ratio) run in a later pass, after the blocks of the series
// they read joined data and the Prometheus restarted on it. As a running
// Prometheus does, promtool offsets a group's evaluations by a hash of it:
// the recorded samples are some seconds past each minute.
func backfillRules(t *testing.T, dir, data string, table *rules.Table) {
	t.Helper()
	prometheus, promtool := tooltest.Path(t, "prometheus"), tooltest.Path(t, "promtool")
	passes := recordingPasses(t, table)
	cfg := filepath.Join(dir, "backfill.yml")
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, pass := range passes {
		file := filepath.Join(dir, fmt.Sprintf("slo-pass%d.rules.yml", i))
		out, err := yaml.Marshal(rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{{Name: rules.SLOGroup, Rules: pass}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		url, stop := startPrometheus(t, prometheus, cfg, data, filepath.Join(dir, fmt.Sprintf("prometheus-pass%d.log", i)))
		blocks := filepath.Join(dir, fmt.Sprintf("slo-pass%d", i))
		cmd := exec.Command(promtool, "tsdb", "create-blocks-from",
			// A query and a block a rule and 162 hours (one of
			// Prometheus's compaction ranges, 2h·3⁴, whose 9720
			// evaluations fit a query's 11000 points), not one every
			// two hours: those, nearly 100 a rule, took most of
			// promtool's time.
			"--max-block-duration=162h",
			"rules", "--quiet",
			"--url="+url,
			"--start="+strconv.FormatInt(Start.Unix(), 10),
			"--end="+strconv.FormatInt(End.Unix(), 10),
			"--eval-interval="+ScrapeStep.String(),
			"--output-dir="+blocks, filepath.Base(file))
		// The rule file by a name that is the same in every test's
		// directory: the evaluations' offset hashes it, and so the same
		// times and figures each run.
		cmd.Dir = dir
		res, err := cmd.CombinedOutput()
		stop()
		if err != nil {
			t.Fatalf("promtool create-blocks-from rules (pass %d): %v\n%s", i, err, res)
		}
		entries, err := os.ReadDir(blocks)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := os.Rename(filepath.Join(blocks, e.Name()), filepath.Join(data, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// sloSeries are the SLO series the history holds: those the rituals read
// (ritual/query), the ones it held when they were written by hand. The SLO
// group's rules recording them, and the rules they read, are backfilled for
// SLOName, the one objective whose SLI the history's series feed; the
// group's other windows and objectives are left out, as the rituals do not
// read them.
var sloSeries = []string{
	rules.RecordSLOObjective,
	rules.RecordSLOErrorRatio("1h"),
	rules.RecordSLOErrorRatio("1d"),
	rules.RecordSLOBudgetRemaining,
}

// recordingPasses are the recording rules of sloSeries and the ones they
// read, in dependency order: the rules of a pass read raw series or series
// recorded in earlier passes only. The group's alerting rules are left out
// (promtool does not backfill them).
func recordingPasses(t *testing.T, table *rules.Table) [][]rulefmt.Rule {
	t.Helper()
	byRecord := map[string]rulefmt.Rule{}
	for _, g := range table.RuleGroups().Groups {
		if g.Name != rules.SLOGroup {
			continue
		}
		for _, r := range g.Rules {
			if r.Record != "" && r.Labels["slo"] == SLOName {
				byRecord[r.Record] = r
			}
		}
	}
	// level is a rule's pass: one after the latest of the rules it reads.
	level := map[string]int{}
	var levelOf func(name string, depth int) int
	levelOf = func(name string, depth int) int {
		if l, ok := level[name]; ok {
			return l
		}
		if depth > len(byRecord) {
			t.Fatalf("the %s recording rules read each other in a cycle (%s)", rules.SLOGroup, name)
		}
		l := 0
		for _, dep := range seriesNames(byRecord[name].Expr) {
			if _, ok := byRecord[dep]; ok {
				l = max(l, levelOf(dep, depth+1)+1)
			}
		}
		level[name] = l
		return l
	}
	for _, name := range sloSeries {
		if _, ok := byRecord[name]; !ok {
			t.Fatalf("the rule pack's %s group records no %s for %s", rules.SLOGroup, name, SLOName)
		}
		levelOf(name, 0)
	}
	passes := make([][]rulefmt.Rule, slices.Max(slices.Collect(maps.Values(level)))+1)
	// In the group's order, for the same output as the pack's.
	for _, g := range table.RuleGroups().Groups {
		for _, r := range g.Rules {
			if l, ok := level[r.Record]; ok && g.Name == rules.SLOGroup && r.Labels["slo"] == SLOName {
				passes[l] = append(passes[l], r)
			}
		}
	}
	return passes
}

// seriesNames are the recorded series an expression may read: its words of
// metric-name characters with a colon, as recording rules name their
// series (and no function, label or duration is named).
var metricName = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)

func seriesNames(expr string) []string {
	var out []string
	for _, m := range metricName.FindAllStringIndex(expr, -1) {
		name := expr[m[0]:m[1]]
		if strings.Contains(name, ":") {
			out = append(out, name)
		}
	}
	return out
}

// Source reads the history.
func (h *History) Source() *query.Source { return query.New(h.API, h.Table) }

func waitReady(t *testing.T, url string) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("prometheus not ready at %s Within a minute", url)
}

// Context is a context for a test's queries.
func Context(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Within fails unless got is want ± tol.
func Within(t *testing.T, what string, got *float64, want, tol float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: no value, want %g", what, want)
		return
	}
	if math.Abs(*got-want) > tol {
		t.Errorf("%s = %g, want %g ± %g", what, *got, want, tol)
	}
}

// Drawn checks that data is a PNG with something drawn on it: not one
// colour, and enough non-white pixels for a line and its axes.
func Drawn(t *testing.T, name string, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	b := img.Bounds()
	colours := map[[4]uint32]bool{}
	inked := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				inked++
			}
		}
	}
	if len(colours) < 3 || inked < b.Dx()*b.Dy()/200 {
		t.Errorf("%s looks blank: %d colours, %d of %d pixels drawn", name, len(colours), inked, b.Dx()*b.Dy())
	}
	return img
}
