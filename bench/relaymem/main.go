// Command relaymem measures the peak resident memory of resonance-relay
// binaries under a burst of large notifications to a channel that hangs:
// -concurrent notifications of -alerts alerts each (4,000 make about
// 1.9 MB, within the 4 MiB body limit) posted at once, the channel
// answering only after the relay's deadline. Peak RSS is VmHWM from
// /proc/<pid>/status once the burst is answered.
//
//	relaymem [flags] name=path/to/resonance-relay ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/quantum-resonance/telemetry/bench/measure"
)

func main() {
	var (
		concurrent = flag.Int("concurrent", 20, "notifications posted at once")
		alerts     = flag.Int("alerts", 4000, "alerts per notification")
		inFlight   = flag.Int("max-concurrent-requests", 0, "webhook.max_concurrent_requests for the relays (0: their default; binaries before it refuse the key)")
	)
	flag.Parse()
	dir, err := os.MkdirTemp("", "relaymem")
	measure.Check(err)
	defer os.RemoveAll(dir)

	// The channel hangs past the relay's 10 s deadline.
	hang := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(12 * time.Second)
		w.WriteHeader(http.StatusNoContent)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	measure.Check(err)
	go func() { _ = hang.Serve(l) }()
	defer hang.Close()
	cfg := fmt.Sprintf("targets:\n  - {name: hub, type: http, url: \"http://%s/api/alerts\"}\n", l.Addr())
	if *inFlight > 0 {
		cfg += fmt.Sprintf("webhook: {max_concurrent_requests: %d}\n", *inFlight)
	}
	measure.Check(os.WriteFile(filepath.Join(dir, "relay.yml"), []byte(cfg), 0o600))

	body := notification(*alerts)
	fmt.Printf("%d notifications of %d alerts (%.1f MB each) at once to a hanging channel\n", *concurrent, *alerts, float64(len(body))/1e6)
	for _, arg := range measure.Args(flag.Args()) {
		cmd, addr := measure.StartRelay(arg.Value, dir, "error")
		codes := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := time.Now()
		for range *concurrent {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Post("http://"+addr+"/webhook/hub", "application/json", bytes.NewReader(body))
				code := 0
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		hwm := measure.Status(cmd.Process.Pid, "VmHWM")
		rss := measure.Status(cmd.Process.Pid, "VmRSS")
		fmt.Printf("%-12s peak RSS %s, RSS after %s, answers %v in %s\n", arg.Name, hwm, rss, codes, time.Since(start).Round(100*time.Millisecond))
		measure.Stop(cmd)
	}
}

// notification is an Alertmanager webhook body of n firing alerts.
func notification(n int) []byte {
	as := make([]measure.Alert, n)
	for i := range as {
		as[i] = measure.Alert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "ErrorRateHigh", "severity": "warning", "metric": "error_rate", "instance": fmt.Sprintf("app-%05d:8080", i), "job": "resonance"},
			Annotations:  map[string]string{"summary": "High error rate", "description": "Error rate exceeded threshold: 7 errors/min (threshold: 5 errors/min)", "threshold": "5", "current_value": "7"},
			StartsAt:     time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC),
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=x",
			Fingerprint:  fmt.Sprintf("%016x", i),
		}
	}
	return measure.Notification(as, "warning", 0)
}
