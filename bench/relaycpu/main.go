// Command relaycpu measures, side by side in one run, the CPU that
// resonance-relay binaries spend per notification of 10 firing alerts,
// posted as Alertmanager posts them and delivered to a local fake channel
// that answers as Discord, Slack and the hub do. CPU is the relay
// process's utime+stime from /proc; rounds alternate between the binaries so
// that machine noise hits all of them alike.
//
//	relaycpu [flags] name=path/to/resonance-relay ...
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quantum-resonance/telemetry/bench/measure"
)

const token = "relaycpu-token"

type relay struct {
	name, addr string
	cmd        *exec.Cmd
	ticks      map[string]uint64
	sent       map[string]int
}

func main() {
	var (
		rounds   = flag.Int("rounds", 10, "alternating rounds")
		perRound = flag.Int("notifications", 200, "notifications per binary, target and round")
		alerts   = flag.Int("alerts", 10, "alerts per notification")
		only     = flag.String("targets", "discord,slack,hub", "targets to measure, comma-separated")
	)
	flag.Parse()
	dir, err := os.MkdirTemp("", "relaycpu")
	measure.Check(err)
	defer os.RemoveAll(dir)

	sink := fakeChannel()
	defer sink.Close()
	targets := strings.Split(*only, ",")
	cfg := fmt.Sprintf(`targets:
  - {name: discord, type: discord, url: "http://%[1]s/api/webhooks/1/tok"}
  - {name: slack, type: slack, url: "http://%[1]s/services/T/B/x"}
  - {name: hub, type: http, url: "http://%[1]s/api/alerts"}
`, sink.Addr)
	measure.Check(os.WriteFile(filepath.Join(dir, "relay.yml"), []byte(cfg), 0o600))

	var relays []*relay
	for _, arg := range measure.Args(flag.Args()) {
		r := &relay{name: arg.Name, ticks: map[string]uint64{}, sent: map[string]int{}}
		r.cmd, r.addr = measure.StartRelay(arg.Value, dir, "warn")
		defer measure.Stop(r.cmd)
		relays = append(relays, r)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	seq := 0
	post := func(r *relay, target string) {
		seq++
		body := notification(*alerts, seq)
		req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/webhook/"+target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		measure.Check(err)
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			measure.Fatalf("%s %s: %d %s", r.name, target, resp.StatusCode, reply)
		}
	}
	for _, r := range relays { // warm-up: connections, buffers, JIT-free but caches
		for _, t := range targets {
			for range 50 {
				post(r, t)
			}
		}
	}
	for range *rounds {
		for _, r := range relays {
			for _, t := range targets {
				before := measure.CPUTicks(r.cmd.Process.Pid)
				for range *perRound {
					post(r, t)
				}
				r.ticks[t] += measure.CPUTicks(r.cmd.Process.Pid) - before
				r.sent[t] += *perRound
			}
		}
	}
	fmt.Fprintf(os.Stderr, "fake channel: %d connections\n", newConns.Load())
	fmt.Printf("CPU per notification of %d alerts, µs (%d rounds × %d notifications per target)\n", *alerts, *rounds, *perRound)
	fmt.Printf("%-12s", "relay")
	for _, t := range targets {
		fmt.Printf(" %10s", t)
	}
	fmt.Printf(" %10s\n", "all")
	for _, r := range relays {
		fmt.Printf("%-12s", r.name)
		var ticks uint64
		var sent int
		for _, t := range targets {
			fmt.Printf(" %10.0f", float64(r.ticks[t])*1e6/measure.ClockTicks/float64(r.sent[t]))
			ticks += r.ticks[t]
			sent += r.sent[t]
		}
		fmt.Printf(" %10.0f\n", float64(ticks)*1e6/measure.ClockTicks/float64(sent))
	}
}

// notification is an Alertmanager v0.31 webhook body of n firing alerts of
// one group that differ by instance and current value, as the rule pack
// labels and annotates them; seq makes the group key new so no relay memory
// short-circuits the work. (The values differ so that a relay that drops
// alerts with identical hub events, as a9516cf does, still sends all n and
// the comparison is of the same work.)
func notification(n, seq int) []byte {
	start := time.Date(2025, 12, 11, 1, 54, 16, 0, time.UTC)
	alerts := make([]measure.Alert, n)
	for i := range alerts {
		alerts[i] = measure.Alert{
			Status: "firing",
			Labels: map[string]string{"alertname": "ErrorRateHigh", "severity": "critical", "metric": "error_rate",
				"instance": fmt.Sprintf("app-%03d:8080", i), "job": "resonance"},
			Annotations: map[string]string{
				"summary":       "Error Rate Threshold Exceeded",
				"description":   fmt.Sprintf("Error rate exceeded threshold: %d errors/min (threshold: 5)", 25+i),
				"runbook_url":   "https://github.com/quantum-resonance/telemetry/blob/main/docs/runbooks.md#errorratehigh",
				"threshold":     "5",
				"current_value": strconv.Itoa(25 + i),
			},
			StartsAt:     start,
			GeneratorURL: "http://prometheus:9090/graph?g0.expr=resonance%3Aerror_rate%3Aper_minute+%3E+5",
			Fingerprint:  fmt.Sprintf("%016x", seq*1000+i),
		}
	}
	return measure.Notification(alerts, "critical", seq)
}

// fakeChannel answers as the channels do on success: Discord 204, or 200
// with the message when asked to wait; Slack 200 "ok"; the hub 202.
type server struct {
	Addr string
	srv  *http.Server
}

func (s *server) Close() { s.srv.Close() }

func fakeChannel() *server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	measure.Check(err)
	id := 0
	s := &server{Addr: l.Addr().String(), srv: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/"):
			if r.URL.Query().Get("wait") == "true" {
				id++
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"id":"%d","type":0,"channel_id":"1","content":""}`, 1000000+id)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		case strings.HasPrefix(r.URL.Path, "/services/"):
			io.WriteString(w, "ok")
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})}}
	s.srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			newConns.Add(1)
		}
	}
	go func() { _ = s.srv.Serve(l) }()
	return s
}

var newConns atomic.Int64
