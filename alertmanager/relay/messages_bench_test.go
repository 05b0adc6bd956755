//go:build unix

package relay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/alertmanager/relay/statefile"
)

// processCPU is the process's user and system time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDiscordPostWithStore is the relay's whole cost of one firing
// notification to a Discord target that edits on resolve, with
// delivery.messages_file holding no message or 5,000 of them: decoding,
// formatting, the post (?wait=true, to a local server answering with the
// message's id, as Discord does) and remembering the id. Each notification
// carries 8 new alerts, one message. It reports the process's CPU time and
// the bytes the store wrote per notification.
func BenchmarkDiscordPostWithStore(b *testing.B) {
	var ids atomic.Int64
	ids.Store(1300000000000000000)
	channel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"%d","channel_id":"1200000000000000000","type":0}`, ids.Add(1))
	}))
	defer channel.Close()
	for _, entries := range []int{0, 5000} {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			dir := b.TempDir()
			store := filepath.Join(dir, "messages.json")
			// A store file as a relay that posted these messages left it.
			f := storeFileV1{Version: 1, Messages: []*statefile.Message{}}
			sent := time.Date(2026, 12, 2, 18, 0, 0, 123456789, time.UTC)
			for i := range entries {
				m := &statefile.Message{Target: "discord", ID: strconv.Itoa(1200000000000000000 + i), Sent: sent}
				for j := range 8 {
					m.Alerts = append(m.Alerts, fmt.Sprintf("%016x@%d", i*8+j, sent.Unix()))
				}
				f.Messages = append(f.Messages, m)
			}
			data, _ := json.Marshal(f)
			if err := os.WriteFile(store, data, 0o600); err != nil {
				b.Fatal(err)
			}
			cfg, err := Parse(fmt.Appendf(nil, `
delivery: {messages_file: %q}
targets: [{name: discord, type: discord, on_resolve: edit, url: %q}]
`, store, channel.URL+"/api/webhooks/1/tok"))
			if err != nil {
				b.Fatal(err)
			}
			r, err := New(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
			if err != nil {
				b.Fatal(err)
			}
			if n := r.sent.Load().Len(); n != entries {
				b.Fatalf("%d messages loaded, want %d", n, entries)
			}
			firing := formattest.ByInstance(8)
			cpu0, written0 := processCPU(b), statefile.BytesWritten()
			i := 0
			for b.Loop() {
				i++
				d := *firing
				d.Alerts = slices.Clone(firing.Alerts)
				for j := range d.Alerts {
					d.Alerts[j].StartsAt = formattest.PlanTime.Add(time.Duration(i) * time.Second)
				}
				body, _ := json.Marshal(notificationOf(&d, fmt.Sprintf(`{}:{alertname="ErrorRateHigh",n="%d"}`, i)))
				rec := httptest.NewRecorder()
				req := httptest.NewRequest(http.MethodPost, "/webhook/discord", bytes.NewReader(body))
				req.SetPathValue("target", "discord")
				r.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			if n := r.sent.Load().Len(); n != min(entries+i, 5000) {
				b.Fatalf("%d messages remembered, want %d", n, min(entries+i, 5000))
			}
			n := float64(b.N)
			b.ReportMetric(float64(processCPU(b)-cpu0)/n/1e6, "cpu-ms/notification")
			b.ReportMetric(float64(statefile.BytesWritten()-written0)/n/1e3, "kB-written/notification")
		})
	}
}

// storeFileV1 is a version 1 delivery.messages_file, as a relay that
// predates the journal wrote it.
type storeFileV1 struct {
	Version  int                  `json:"version"`
	Messages []*statefile.Message `json:"messages"`
}
