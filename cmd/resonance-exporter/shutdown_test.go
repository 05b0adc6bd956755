package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/daemon"
	"github.com/quantum-resonance/telemetry/tooltest"
)

// A client that sent its headers and never its body cannot hold the
// graceful shutdown past its 15 s: the body deadline (ingest.BodyTimeout,
// 10 s) cuts it, the shutdown completes, and the exporter still flushes what
// it queued for Loki, which was down until then, before it exits 0.
func TestShutdownWithASlowClientStillFlushesLoki(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s body deadline")
	}
	// Loki is down (503) until the slow client is cut: only a flush after
	// that point delivers.
	release := make(chan struct{})
	var mu sync.Mutex
	received := 0
	loki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var push struct {
			Streams []struct {
				Values [][2]string `json:"values"`
			} `json:"streams"`
		}
		zr, err := gzip.NewReader(r.Body) // Loki takes gzipped JSON
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := json.NewDecoder(zr).Decode(&push); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, s := range push.Streams {
			received += len(s.Values)
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer loki.Close()
	var releaseOnce sync.Once

	dir := t.TempDir()
	bin := filepath.Join(dir, "resonance-exporter")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "exporter.yml")
	writeFile(t, cfg, "ingest:\n  loki: {url: \""+loki.URL+"\", max_retries: 50}\n")
	addr := tooltest.FreeAddr(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	shutdownFailed := make(chan struct{})
	var logs strings.Builder
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), `msg="Server failed"`) {
				close(shutdownFailed)
			}
		}
	}()

	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporter not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Post(base+"/api/v1/logs", "application/json",
		strings.NewReader(`{"logs":[{"level":"ERROR","message":"a"},{"level":"INFO","message":"b"},{"level":"INFO","message":"c"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %d", resp.StatusCode)
	}

	// A client that sent its headers and never its body.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /api/v1/logs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	time.Sleep(200 * time.Millisecond)

	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	slow.SetReadDeadline(time.Now().Add(daemon.ShutdownTimeout))
	answer, _ := io.ReadAll(slow)
	if waited := time.Since(sent); waited >= daemon.ShutdownTimeout || !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
		t.Fatalf("the slow client got %q after %s, want a 408 within the shutdown's %s", answer, waited.Round(time.Second), daemon.ShutdownTimeout)
	}
	releaseOnce.Do(func() { close(release) })
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after a graceful shutdown: %v", err)
	}
	select {
	case <-shutdownFailed:
		t.Error("the graceful shutdown failed")
	default:
	}
	<-logged
	mu.Lock()
	defer mu.Unlock()
	if received != 3 {
		t.Fatalf("Loki received %d entries, want the 3 queued; the exporter logged:\n%s", received, logs.String())
	}
}
