// Command activeusers pushes api_request events with distinct users to a
// running exporter at a steady rate while scraping its /metrics, and
// reports the scrape latency (p50, p99, max), the exporter's peak RSS, the
// ingest requests refused, and resonance_active_users against the true
// number of distinct users in the last 5 minutes.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	var (
		base     = flag.String("url", "http://127.0.0.1:9861", "exporter base URL")
		key      = flag.String("key", "", "ingest key (X-Api-Key)")
		pid      = flag.Int("pid", 0, "exporter pid, for its RSS")
		per5m    = flag.Int("users-per-5m", 1_000_000, "distinct users pushed per 5 minutes")
		duration = flag.Duration("duration", 6*time.Minute, "how long to push")
		batch    = flag.Int("batch", 100, "events per request")
		every    = flag.Duration("scrape-interval", 100*time.Millisecond, "pause between scrapes")
	)
	flag.Parse()

	client := &http.Client{Timeout: 10 * time.Second}
	start := time.Now()
	var pushed, refused atomic.Int64
	stop := make(chan struct{})
	pushDone := make(chan struct{})
	go func() { // pusher: user ids are the event counter, so all distinct
		defer close(pushDone)
		perSecond := float64(*per5m) / 300
		var body bytes.Buffer
		for *per5m > 0 {
			select {
			case <-stop:
				return
			default:
			}
			due := int64(time.Since(start).Seconds() * perSecond)
			if pushed.Load()+int64(*batch) > due {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			n := pushed.Load()
			body.Reset()
			body.WriteString(`{"events":[`)
			for i := range int64(*batch) {
				if i > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, `{"type":"api_request","endpoint":"/api/inference","method":"POST","status":200,"duration_ms":12,"user":"u%d"}`, n+i)
			}
			body.WriteString(`]}`)
			req, _ := http.NewRequest(http.MethodPost, *base+"/api/v1/events", &body)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", *key)
			resp, err := client.Do(req)
			if err != nil {
				fatalf("push: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				refused.Add(1)
			}
			pushed.Add(int64(*batch))
		}
	}()

	var latencies []time.Duration
	var peakRSS uint64
	var lastActive float64
	deadline := start.Add(*duration)
	for time.Now().Before(deadline) {
		t0 := time.Now()
		resp, err := client.Get(*base + "/metrics")
		if err != nil {
			fatalf("scrape: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		latencies = append(latencies, time.Since(t0))
		if v, ok := sample(body, "resonance_active_users"); ok {
			lastActive = v
		}
		peakRSS = max(peakRSS, rssBytes(*pid))
		time.Sleep(*every)
	}
	close(stop)
	<-pushDone
	elapsed := time.Since(start)

	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	inWindow := float64(*per5m) * min(elapsed.Seconds(), 300) / 300
	fmt.Printf("pushed %d distinct users in %s (%d per 5 min), %d requests refused\n", pushed.Load(), elapsed.Round(time.Second), *per5m, refused.Load())
	fmt.Printf("scrapes: %d, p50 %s, p99 %s, max %s\n", len(latencies), q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), latencies[len(latencies)-1].Round(10*time.Microsecond))
	fmt.Printf("exporter peak RSS: %.1f MB\n", float64(peakRSS)/1e6)
	if inWindow > 0 {
		fmt.Printf("resonance_active_users at the end: %.0f, about %.0f expected (%.2f %% off)\n", lastActive, inWindow, 100*(lastActive-inWindow)/inWindow)
	}
}

// sample returns the value of an unlabelled series in a text exposition.
func sample(body []byte, name string) (float64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

func rssBytes(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1000
		}
	}
	return 0
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "activeusers: "+format+"\n", args...)
	os.Exit(1)
}
