// Command scrapecompare measures, side by side in one run, the cost of a
// /metrics scrape of several exporters already listening on loopback: CPU
// per scrape (from the process's utime+stime in /proc), p50/p99 latency of
// the full response, and RSS idle and after the run.
//
// Rounds alternate between targets so that machine noise hits both alike.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/quantum-resonance/telemetry/bench/measure"
)

type target struct {
	name, url string
	pid       int
	latencies []time.Duration
	cpuTicks  uint64
	rssIdle   uint64
}

func main() {
	var (
		rounds   = flag.Int("rounds", 10, "alternating rounds")
		perRound = flag.Int("scrapes", 200, "scrapes per target and round")
		warmup   = flag.Int("warmup", 50, "scrapes per target before measuring")
	)
	flag.Parse()
	var targets []*target
	for _, arg := range flag.Args() { // name=pid=url
		parts := strings.SplitN(arg, "=", 3)
		if len(parts) != 3 {
			measure.Fatalf("argument %q is not name=pid=url", arg)
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil {
			measure.Fatalf("pid %q: %v", parts[1], err)
		}
		targets = append(targets, &target{name: parts[0], pid: pid, url: parts[2]})
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, t := range targets {
		t.rssIdle = measure.StatusBytes(t.pid, "VmRSS")
		for range *warmup {
			scrape(client, t.url)
		}
	}
	for range *rounds {
		for _, t := range targets {
			before := measure.CPUTicks(t.pid)
			for range *perRound {
				begin := time.Now()
				scrape(client, t.url)
				t.latencies = append(t.latencies, time.Since(begin))
			}
			t.cpuTicks += measure.CPUTicks(t.pid) - before
		}
	}
	fmt.Printf("%-22s %14s %10s %10s %12s %12s\n", "exporter", "cpu/scrape ms", "p50 ms", "p99 ms", "rss idle MB", "rss after MB")
	for _, t := range targets {
		sort.Slice(t.latencies, func(i, j int) bool { return t.latencies[i] < t.latencies[j] })
		n := len(t.latencies)
		cpuMS := float64(t.cpuTicks) * 1000 / measure.ClockTicks / float64(n)
		fmt.Printf("%-22s %14.3f %10.3f %10.3f %12.1f %12.1f\n", t.name, cpuMS,
			ms(t.latencies[n/2]), ms(t.latencies[n*99/100]),
			float64(t.rssIdle)/1e6, float64(measure.StatusBytes(t.pid, "VmRSS"))/1e6)
	}
}

func scrape(c *http.Client, url string) {
	resp, err := c.Get(url)
	if err != nil {
		measure.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		measure.Fatalf("scrape %s: status %d, %v", url, resp.StatusCode, err)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
