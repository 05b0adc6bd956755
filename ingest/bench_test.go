package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/config"
)

// benchBatch is a 100-entry batch shaped like the plan's HubLogStream
// output, with levels and metadata varying as in a real app.
func benchBatch() []byte {
	levels := []string{"INFO", "INFO", "INFO", "WARNING", "ERROR", "DEBUG"}
	entries := make([]string, 100)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"timestamp":"2025-12-11T01:54:%02d.%06d","level":%q,"message":"API request %d served","metadata":{"endpoint":"/api/inference","status_code":200,"duration_ms":%d},"service":"quantum-resonance"}`,
			i%60, i*1000, levels[i%len(levels)], i, 100+i)
	}
	return []byte(`{"logs":[` + strings.Join(entries, ",") + `],"source":"quantum-resonance-clean"}`)
}

// BenchmarkDecodeLogs is the bare decode and validation of a batch: the
// ceiling the HTTP path is measured against.
func BenchmarkDecodeLogs(b *testing.B) {
	body := benchBatch()
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeLogs(body, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkDecodeLogsParallel decodes on every core, as the server does:
// the in-process ceiling the wrk figure (bench/ingest.sh) is compared with.
func BenchmarkDecodeLogsParallel(b *testing.B) {
	body := benchBatch()
	now := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := DecodeLogs(body, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkIngestLogsHTTP is the whole handler: auth, body, decode, store.
func BenchmarkIngestLogsHTTP(b *testing.B) {
	body := benchBatch()
	b.SetBytes(int64(len(body)))
	benchHandler(b, http.MethodPost, LogsPath, body)
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkBusinessHTTP is one PUT /api/v1/business through the handler.
func BenchmarkBusinessHTTP(b *testing.B) {
	benchHandler(b, http.MethodPut, BusinessPath, []byte(`{"active_users":42,"mining_boost_active":true,"wallet_balance":12.5,"community_resonance":37}`))
}

// benchHandler serves method path with body, from loopback, on the API of
// the default config until the benchmark ends.
func benchHandler(b *testing.B, method, path string, body []byte) {
	api := NewAPI(NewStore(Limits{}), promslog.NewNopLogger())
	if err := api.ApplyConfig(config.Default().Ingest, "svc"); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(method, path, bytes.NewReader(body))
		r.RemoteAddr, r.Host = "127.0.0.1:1", "localhost:9861"
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		if rec.Code != http.StatusAccepted {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}
