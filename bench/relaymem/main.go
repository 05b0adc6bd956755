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
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func main() {
	var (
		concurrent = flag.Int("concurrent", 20, "notifications posted at once")
		alerts     = flag.Int("alerts", 4000, "alerts per notification")
		inFlight   = flag.Int("max-concurrent-requests", 0, "webhook.max_concurrent_requests for the relays (0: their default; binaries before it refuse the key)")
	)
	flag.Parse()
	dir, err := os.MkdirTemp("", "relaymem")
	check(err)
	defer os.RemoveAll(dir)

	// The channel hangs past the relay's 10 s deadline.
	hang := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(12 * time.Second)
		w.WriteHeader(http.StatusNoContent)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	go func() { _ = hang.Serve(l) }()
	defer hang.Close()
	cfg := fmt.Sprintf("targets:\n  - {name: hub, type: http, url: \"http://%s/api/alerts\"}\n", l.Addr())
	if *inFlight > 0 {
		cfg += fmt.Sprintf("webhook: {max_concurrent_requests: %d}\n", *inFlight)
	}
	check(os.WriteFile(filepath.Join(dir, "relay.yml"), []byte(cfg), 0o600))

	body := notification(*alerts)
	fmt.Printf("%d notifications of %d alerts (%.1f MB each) at once to a hanging channel\n", *concurrent, *alerts, float64(len(body))/1e6)
	for _, arg := range flag.Args() {
		name, bin, ok := strings.Cut(arg, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "argument %q is not name=binary\n", arg)
			os.Exit(2)
		}
		addr := freeAddr()
		cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "relay.yml"), "--web.listen-address="+addr, "--log.level=error")
		cmd.Dir = dir
		check(cmd.Start())
		waitReady("http://" + addr + "/-/ready")
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
		hwm := status(cmd.Process.Pid, "VmHWM")
		rss := status(cmd.Process.Pid, "VmRSS")
		fmt.Printf("%-12s peak RSS %s, RSS after %s, answers %v in %s\n", name, hwm, rss, codes, time.Since(start).Round(100*time.Millisecond))
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}

// notification is an Alertmanager webhook body of n firing alerts.
func notification(n int) []byte {
	type alert struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     string            `json:"startsAt"`
		EndsAt       string            `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	as := make([]alert, n)
	for i := range as {
		as[i] = alert{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "ErrorRateHigh", "severity": "warning", "metric": "error_rate", "instance": fmt.Sprintf("app-%05d:8080", i), "job": "resonance"},
			Annotations:  map[string]string{"summary": "High error rate", "description": "Error rate exceeded threshold: 7 errors/min (threshold: 5 errors/min)", "threshold": "5", "current_value": "7"},
			StartsAt:     "2026-12-02T14:00:00Z",
			EndsAt:       "0001-01-01T00:00:00Z",
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=x",
			Fingerprint:  fmt.Sprintf("%016x", i),
		}
	}
	b, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="ErrorRateHigh"}`, "truncatedAlerts": 0, "status": "firing", "receiver": "warning",
		"groupLabels": map[string]string{"alertname": "ErrorRateHigh"}, "commonLabels": map[string]string{"alertname": "ErrorRateHigh"},
		"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager:9093", "alerts": as,
	})
	check(err)
	return b
}

func status(pid int, key string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().String()
}

func waitReady(url string) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	fmt.Fprintln(os.Stderr, "relay not ready:", url)
	os.Exit(1)
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
