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
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

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

// openMetrics writes the history in the format promtool backfills.
type openMetrics struct {
	w *bufio.Writer
}

func (o *openMetrics) family(name, typ string) {
	fmt.Fprintf(o.w, "# TYPE %s %s\n", name, typ)
}

// series writes one series, a sample per scrape the exporter answered.
// value gets the scrape time and the time the exporter last started.
func (o *openMetrics) series(name, labels string, value func(t, since time.Time) float64) {
	since := Start
	for t := Start; !t.After(End); t = t.Add(ScrapeStep) {
		if down(t) {
			since = RestartAt.Add(DownFor)
			continue
		}
		fmt.Fprintf(o.w, "%s{%s} %s %d\n", name, labels, formatFloat(value(t, since)), t.Unix())
	}
}

func formatFloat(v float64) string { return fmt.Sprintf("%g", v) }

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
	base := fmt.Sprintf(`job=%q,instance=%q`, job, Instance)
	lbl := func(extra string) string { return base + "," + extra }

	o.family("up", "gauge")
	for ts := Start; !ts.After(End); ts = ts.Add(ScrapeStep) {
		v := 1
		if down(ts) {
			v = 0
		}
		fmt.Fprintf(o.w, "up{%s} %d %d\n", base, v, ts.Unix())
	}

	o.family("resonance_uptime_seconds", "gauge")
	o.series("resonance_uptime_seconds", base, func(t, since time.Time) float64 {
		if since.Equal(Start) {
			return t.Sub(Start.Add(-72 * time.Hour)).Seconds()
		}
		return t.Sub(since).Seconds()
	})
	o.family("resonance_cpu_usage_ratio", "gauge")
	o.series("resonance_cpu_usage_ratio", base, gauge(cpu))
	o.family("resonance_memory_usage_ratio", "gauge")
	o.series("resonance_memory_usage_ratio", base, gauge(func(time.Time) float64 { return 0.5 }))
	o.family("resonance_memory_used_bytes", "gauge")
	o.series("resonance_memory_used_bytes", base, gauge(func(time.Time) float64 { return 700 << 20 }))
	o.family("resonance_disk_usage_ratio", "gauge")
	o.series("resonance_disk_usage_ratio", lbl(`mountpoint="/"`), gauge(func(time.Time) float64 { return 0.5 }))
	o.family("resonance_disk_used_bytes", "gauge")
	o.series("resonance_disk_used_bytes", lbl(`mountpoint="/"`), gauge(func(time.Time) float64 { return 5 << 30 }))

	o.family("resonance_errors", "counter")
	o.series("resonance_errors_total", base, counter(errorsPerMinute))

	o.family("resonance_api_requests", "counter")
	for _, code := range []string{"200", "500"} {
		share := func(t time.Time) float64 {
			if code == "500" {
				return ServerErrorShare(t)
			}
			return 1 - ServerErrorShare(t)
		}
		o.series("resonance_api_requests_total", lbl(`endpoint="/api/v1/resonance",method="GET",code="`+code+`"`),
			counter(func(t time.Time) float64 { return RequestsPerMinute(t) * share(t) }))
	}

	o.family("resonance_api_request_duration_seconds", "histogram")
	for i, le := range apiBuckets {
		o.series("resonance_api_request_duration_seconds_bucket", lbl(`le="`+le+`"`),
			counter(func(t time.Time) float64 { return RequestsPerMinute(t) * apiCumShare[i] }))
	}
	o.series("resonance_api_request_duration_seconds_sum", base, counter(func(t time.Time) float64 { return RequestsPerMinute(t) * apiMeanSeconds }))
	o.series("resonance_api_request_duration_seconds_count", base, counter(RequestsPerMinute))

	o.family("resonance_upstream_request_duration_seconds", "histogram")
	for _, up := range []struct {
		name        string
		perMin, sec float64
	}{{"huggingface", 30, 0.8}, {"pi_sdk", 60, 0.4}} {
		l := lbl(`upstream="` + up.name + `"`)
		o.series("resonance_upstream_request_duration_seconds_bucket", l+`,le="1"`, counter(func(time.Time) float64 { return up.perMin * 0.7 }))
		o.series("resonance_upstream_request_duration_seconds_bucket", l+`,le="+Inf"`, counter(func(time.Time) float64 { return up.perMin }))
		o.series("resonance_upstream_request_duration_seconds_sum", l, counter(func(time.Time) float64 { return up.perMin * up.sec }))
		o.series("resonance_upstream_request_duration_seconds_count", l, counter(func(time.Time) float64 { return up.perMin }))
	}

	o.family("resonance_active_users", "gauge")
	o.series("resonance_active_users", base, gauge(func(t time.Time) float64 { return math.Round(50 + 40*math.Sin(phase(t))) }))
	o.family("resonance_transactions", "counter")
	o.series("resonance_transactions_total", lbl(`status="completed"`), counter(func(time.Time) float64 { return 10 }))
	o.series("resonance_transactions_total", lbl(`status="failed"`), counter(func(time.Time) float64 { return 1 }))
	o.family("resonance_wallet_balance_pi", "gauge")
	o.series("resonance_wallet_balance_pi", lbl(`source="horizon"`), gauge(WalletBalance))
	o.family("resonance_mining_boost_active", "gauge")
	o.series("resonance_mining_boost_active", base, gauge(func(t time.Time) float64 {
		if boostActive(t) {
			return 1
		}
		return 0
	}))
	o.family("resonance_community_resonance_score", "gauge")
	o.series("resonance_community_resonance_score", base, gauge(func(t time.Time) float64 { return 60 + 15*math.Sin(phase(t)) }))

	writeSLO(o)
	writeAlerts(t, o, table)
	fmt.Fprintln(o.w, "# EOF")
	if err := o.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The api-availability SLO's recorded series, named as the SLO rule group
// records them: its error ratio is 0.1 % of requests, 30 % during the storm.
const (
	SLOName      = "api-availability"
	SLOObjective = 0.995
	sloWindow    = 30 * 24 * time.Hour
)

// SLOErrorRatio is the SLI's error ratio at t.
func SLOErrorRatio(t time.Time) float64 {
	if storm(t) {
		return 0.3
	}
	return 0.001
}

// SLOBudgetRemaining is the error budget left at t over the SLO's 30-day
// window, counting the history's minutes (the budget is untouched before).
func SLOBudgetRemaining(t time.Time) float64 {
	spent := 0.0
	for u := Start; !u.After(t); u = u.Add(ScrapeStep) {
		spent += SLOErrorRatio(u)
	}
	windowMinutes := sloWindow.Minutes()
	return 1 - spent/windowMinutes/(1-SLOObjective)
}

// SLOErrorRatioOver is the mean error ratio over the window before t.
func SLOErrorRatioOver(t time.Time, window time.Duration) float64 {
	sum, n := 0.0, 0
	for u := t.Add(-window).Add(ScrapeStep); !u.After(t); u = u.Add(ScrapeStep) {
		if u.Before(Start) {
			continue
		}
		sum += SLOErrorRatio(u)
		n++
	}
	return sum / float64(n)
}

func writeSLO(o *openMetrics) {
	l := fmt.Sprintf("slo=%q", SLOName)
	each := func(name string, v func(time.Time) float64) {
		o.family(name, "gauge")
		for ts := Start; !ts.After(End); ts = ts.Add(ScrapeStep) {
			fmt.Fprintf(o.w, "%s{%s} %s %d\n", name, l, formatFloat(v(ts)), ts.Unix())
		}
	}
	each("slo:objective:ratio", func(time.Time) float64 { return SLOObjective })
	each("slo:sli_error:ratio_rate1h", func(t time.Time) float64 { return SLOErrorRatioOver(t, time.Hour) })
	each("slo:sli_error:ratio_rate1d", func(t time.Time) float64 { return SLOErrorRatioOver(t, 24*time.Hour) })
	spent := 0.0
	each("slo:sli_error:error_budget_remaining", func(t time.Time) float64 {
		spent += SLOErrorRatio(t)
		return 1 - spent/sloWindow.Minutes()/(1-SLOObjective)
	})
}

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
// Watchdog fires all the time, as it should.
func writeAlerts(t *testing.T, o *openMetrics, table *rules.Table) {
	o.family("ALERTS", "gauge")
	names := make([]string, 0, len(alertConditions))
	for n := range alertConditions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a, ok := table.Alert(name)
		if !ok {
			t.Fatalf("alert %s is not in the table", name)
		}
		o.alert(a, alertConditions[name], Start, End, ScrapeStep)
	}
	o.watchdog(Start, End, ScrapeStep)
}

// alert writes one alert's ALERTS samples, evaluated every step from from
// to to: firing once cond held for the alert's `for`, and keep_firing_for
// after it clears, as Prometheus keeps it.
func (o *openMetrics) alert(a rules.Alert, cond func(time.Time) bool, from, to time.Time, step time.Duration) {
	labels := fmt.Sprintf(`alertname=%q,alertstate="firing",severity=%q,metric=%q,job=%q,instance=%q`, a.Name, a.Severity, a.Metric, job, Instance)
	var since, firingUntil time.Time
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		if !cond(ts) {
			since = time.Time{}
			if ts.Before(firingUntil) {
				fmt.Fprintf(o.w, "ALERTS{%s} 1 %d\n", labels, ts.Unix())
			}
			continue
		}
		if since.IsZero() {
			since = ts
		}
		if ts.Sub(since) >= a.For {
			fmt.Fprintf(o.w, "ALERTS{%s} 1 %d\n", labels, ts.Unix())
			firingUntil = ts.Add(a.KeepFiringFor + time.Nanosecond)
		}
	}
}

func (o *openMetrics) watchdog(from, to time.Time, step time.Duration) {
	for ts := from; !ts.After(to); ts = ts.Add(step) {
		fmt.Fprintf(o.w, "ALERTS{alertname=\"Watchdog\",alertstate=\"firing\",severity=\"none\"} 1 %d\n", ts.Unix())
	}
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
	return serve(t, writeHistory)
}

// RunFresh serves the history of a stack a few minutes old (see
// FreshStart) as Run serves the eight days.
func RunFresh(t *testing.T) *History {
	t.Helper()
	return serve(t, writeFresh)
}

func serve(t *testing.T, write func(*testing.T, string, *rules.Table)) *History {
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
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("rule_files: [%q]\n", filepath.Join(root, rules.DefaultRulesPath))), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := tooltest.FreeAddr(t)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
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
	t.Cleanup(func() {
		_ = prom.Process.Kill()
		_ = prom.Wait()
		if t.Failed() {
			out, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", out)
		}
	})
	waitReady(t, "http://"+addr+"/-/ready")
	client, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	return &History{API: promv1.NewAPI(client), Table: table, Root: root, URL: "http://" + addr}
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
		time.Sleep(200 * time.Millisecond)
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
