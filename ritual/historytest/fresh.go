package historytest

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

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
	base := fmt.Sprintf(`job=%q,instance=%q`, job, Instance)
	lbl := func(extra string) string { return base + "," + extra }
	// each writes a series scraped every FreshScrape; value sees every
	// scrape time, answered or not (a counter counts on in the app).
	each := func(name, labels string, value func(time.Time) float64) {
		for _, ts := range FreshScrapes() {
			v := value(ts)
			if !FreshDown(ts) {
				fmt.Fprintf(o.w, "%s{%s} %s %d\n", name, labels, formatFloat(v), ts.Unix())
			}
		}
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

	o.family("up", "gauge")
	for _, ts := range FreshScrapes() {
		v := 1
		if FreshDown(ts) {
			v = 0
		}
		fmt.Fprintf(o.w, "up{%s} %d %d\n", base, v, ts.Unix())
	}
	o.family("resonance_cpu_usage_ratio", "gauge")
	each("resonance_cpu_usage_ratio", base, FreshCPU)
	o.family("resonance_errors", "counter")
	each("resonance_errors_total", base, counter(FreshErrorsPerMinute))
	share := func(t time.Time) float64 {
		if freshStorm(t) {
			return 0.3
		}
		return 0.01
	}
	o.family("resonance_api_requests", "counter")
	each("resonance_api_requests_total", lbl(`endpoint="/api/v1/resonance",method="GET",code="200"`),
		counter(func(t time.Time) float64 { return 600 * (1 - share(t)) }))
	each("resonance_api_requests_total", lbl(`endpoint="/api/v1/resonance",method="GET",code="500"`),
		counter(func(t time.Time) float64 { return 600 * share(t) }))
	o.family("resonance_api_request_duration_seconds", "histogram")
	for i, le := range apiBuckets {
		each("resonance_api_request_duration_seconds_bucket", lbl(`le="`+le+`"`), counter(func(time.Time) float64 { return 600 * apiCumShare[i] }))
	}
	each("resonance_api_request_duration_seconds_sum", base, counter(func(time.Time) float64 { return 600 * apiMeanSeconds }))
	each("resonance_api_request_duration_seconds_count", base, counter(func(time.Time) float64 { return 600 }))
	o.family("resonance_active_users", "gauge")
	each("resonance_active_users", base, func(t time.Time) float64 { return 3 + math.Floor(t.Sub(FreshStart).Minutes()) })

	o.family("ALERTS", "gauge")
	storm, ok := table.Alert("ErrorStorm")
	if !ok {
		t.Fatal("ErrorStorm is not in the table")
	}
	// Over its 2-minute window the rate passes 20/min a minute into the
	// storm, and falls below a minute after it.
	o.alert(storm, func(t time.Time) bool {
		return inRange(t, FreshStormStart.Add(time.Minute), FreshStormEnd.Add(time.Minute))
	},
		FreshStart, FreshEnd, FreshScrape)
	o.watchdog(FreshStart, FreshEnd, FreshScrape)
	fmt.Fprintln(o.w, "# EOF")
	if err := o.w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
