package relay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// BenchmarkRelay posts notifications of 10 alerts over HTTP to the relay,
// which formats them and delivers them over HTTP to a local sink. It
// reports alerts relayed per second and the p99 round trip of a
// notification, which bounds the latency the relay adds.
func BenchmarkRelay(b *testing.B) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer sink.Close()
	cfg, err := Parse([]byte(fmt.Sprintf(`
targets:
  - {name: discord, type: discord, url: %q}
  - {name: slack, type: slack, url: %q}
  - {name: hub, type: http, url: %q}
`, sink.URL, sink.URL, sink.URL)))
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook/{target}", r)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	const alerts = 10
	for _, target := range []string{"discord", "slack", "hub"} {
		b.Run(target, func(b *testing.B) {
			// A distinct group key each time: the dedup memory must not
			// turn the benchmark into a cache hit.
			body, _ := json.Marshal(notificationOf(formattest.Many(alerts), "GROUPKEY-000000000"))
			var latencies []time.Duration
			i := 0
			for b.Loop() {
				i++
				body := bytes.Replace(body, []byte("GROUPKEY-000000000"), fmt.Appendf(nil, "GROUPKEY-%09d", i), 1)
				start := time.Now()
				resp, err := http.Post(srv.URL+"/webhook/"+target, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies = append(latencies, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			slices.Sort(latencies)
			var busy time.Duration
			for _, l := range latencies {
				busy += l
			}
			b.ReportMetric(float64(len(latencies)*alerts)/busy.Seconds(), "alerts/s")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkDecodeWebhook decodes the body of a notification of 10 alerts,
// as the handler does for every notification.
func BenchmarkDecodeWebhook(b *testing.B) {
	body, _ := json.Marshal(notificationOf(formattest.Many(10), `{}:{alertname="ErrorRateHigh"}`))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeNotification(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}
