package historytest

import (
	"bufio"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/quantum-resonance/telemetry/rules"
)

// The history of a stack a few minutes old, as a new user runs the
// rituals on it (RunFresh): scraped every FreshScrape, as the local stack
// scrapes, from FreshStart to FreshEnd and never before. The app's CPU
// bursts while it starts; the exporter misses the scrapes of one minute;
// an error storm lasts three minutes. It starts, as a stack does, between
// two minutes.
var (
	FreshStart = time.Date(2026, time.December, 2, 18, 0, 7, 0, time.UTC)
	// FreshEnd is when the rituals run: the stack is 8 minutes 35 seconds
	// old. Not on a scrape: the weekly audit's minute-by-minute samples
	// are not the scrapes' times either.
	FreshEnd = FreshStart.Add(8*time.Minute + 35*time.Second)

	FreshStormStart = FreshStart.Add(3 * time.Minute)
	FreshStormEnd   = FreshStormStart.Add(3 * time.Minute)

	// The exporter answers no scrape after FreshDownAfter up to and with
	// FreshDownAfter+FreshDownFor: one whole minute of the clock (18:02 to
	// 18:03) without a successful scrape.
	FreshDownAfter = FreshStart.Add(time.Minute)
	FreshDownFor   = 2 * time.Minute

	// FreshStartupFor: the CPU burst while the app starts, one scrape.
	FreshStartupFor = 15 * time.Second
)

// FreshScrape is the fresh stack's scrape (and rule evaluation) interval.
const FreshScrape = 15 * time.Second

// FreshScrapes are the times the fresh stack was scraped.
func FreshScrapes() []time.Time {
	var out []time.Time
	for t := FreshStart; !t.After(FreshEnd); t = t.Add(FreshScrape) {
		out = append(out, t)
	}
	return out
}

// FreshDown is true for a scrape the exporter did not answer.
func FreshDown(t time.Time) bool {
	return t.After(FreshDownAfter) && !t.After(FreshDownAfter.Add(FreshDownFor))
}

// FreshCPU is the fresh stack's CPU usage ratio at t: 82.7 % while the app
// starts, about 4 % after.
func FreshCPU(t time.Time) float64 {
	if t.Before(FreshStart.Add(FreshStartupFor)) {
		return 0.827
	}
	return 0.04 + 0.003*math.Sin(float64(t.Sub(FreshStart)/FreshScrape))
}

func freshStorm(t time.Time) bool { return inRange(t, FreshStormStart, FreshStormEnd) }

// FreshErrorsPerMinute is the error rate at t.
func FreshErrorsPerMinute(t time.Time) float64 {
	if freshStorm(t) {
		return 40
	}
	return 1
}

func writeFresh(t *testing.T, path string, table *rules.Table) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o := &openMetrics{w: bufio.NewWriter(f)}
	base := []string{"job", job, "instance", Instance}
	lbl := func(extra ...string) []*dto.LabelPair { return labels(append(slices.Clone(base), extra...)...) }
	// each is a series scraped every FreshScrape; value sees every scrape
	// time, answered or not (a counter counts on in the app).
	each := func(typ dto.MetricType, l []*dto.LabelPair, value func(time.Time) float64) []*dto.Metric {
		var out []*dto.Metric
		for _, ts := range FreshScrapes() {
			v := value(ts)
			if !FreshDown(ts) {
				out = append(out, sample(typ, l, v, ts))
			}
		}
		return out
	}
	counter := func(perMinute func(time.Time) float64) func(time.Time) float64 {
		sum := 0.0
		return func(ts time.Time) float64 {
			if ts.After(FreshStart) {
				sum += perMinute(ts) * FreshScrape.Minutes()
			}
			return sum
		}
	}

	var up []*dto.Metric
	for _, ts := range FreshScrapes() {
		v := 1.0
		if FreshDown(ts) {
			v = 0
		}
		up = append(up, sample(gaugeType, lbl(), v, ts))
	}
	o.family("up", gaugeType, up)
	o.family("resonance_cpu_usage_ratio", gaugeType, each(gaugeType, lbl(), FreshCPU))
	o.family("resonance_errors_total", counterType, each(counterType, lbl(), counter(FreshErrorsPerMinute)))
	share := func(t time.Time) float64 {
		if freshStorm(t) {
			return 0.3
		}
		return 0.01
	}
	o.family("resonance_api_requests_total", counterType,
		each(counterType, lbl("endpoint", "/api/v1/resonance", "method", "GET", "code", "200"),
			counter(func(t time.Time) float64 { return 600 * (1 - share(t)) })),
		each(counterType, lbl("endpoint", "/api/v1/resonance", "method", "GET", "code", "500"),
			counter(func(t time.Time) float64 { return 600 * share(t) })))
	// The histogram as its three unknown-typed families (see openMetrics).
	const api = "resonance_api_request_duration_seconds"
	var buckets [][]*dto.Metric
	for i, le := range apiBuckets {
		buckets = append(buckets, each(untyped, lbl("le", le), counter(func(time.Time) float64 { return 600 * apiCumShare[i] })))
	}
	o.family(api+"_bucket", untyped, buckets...)
	o.family(api+"_sum", untyped, each(untyped, lbl(), counter(func(time.Time) float64 { return 600 * apiMeanSeconds })))
	o.family(api+"_count", untyped, each(untyped, lbl(), counter(func(time.Time) float64 { return 600 })))
	o.family("resonance_active_users", gaugeType, each(gaugeType, lbl(), func(t time.Time) float64 { return 3 + math.Floor(t.Sub(FreshStart).Minutes()) }))

	storm, ok := table.Alert("ErrorStorm")
	if !ok {
		t.Fatal("ErrorStorm is not in the table")
	}
	// Over its 2-minute window the rate passes 20/min a minute into the
	// storm, and falls below a minute after it.
	o.family("ALERTS", gaugeType,
		alert(storm, func(t time.Time) bool {
			return inRange(t, FreshStormStart.Add(time.Minute), FreshStormEnd.Add(time.Minute))
		}, FreshStart, FreshEnd, FreshScrape),
		watchdog(FreshStart, FreshEnd, FreshScrape))
	if err := o.finish(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
