package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/common/promslog"
)

// BenchmarkScrape measures one full /metrics scrape on the built-in
// defaults, gzip-encoded as Prometheus asks for it.
func BenchmarkScrape(b *testing.B) {
	benchmarkScrape(b, options{metricsPath: "/metrics"})
}

// BenchmarkScrapeWithoutExporterMetrics is the same scrape with
// --web.disable-exporter-metrics: the share of client_golang's Go and
// process collectors in the cost.
func BenchmarkScrapeWithoutExporterMetrics(b *testing.B) {
	benchmarkScrape(b, options{metricsPath: "/metrics", disableExporterMetrics: true})
}

func benchmarkScrape(b *testing.B, opts options) {
	e, err := newExporter(opts, promslog.NewNopLogger())
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	req := httptest.NewRequest(http.MethodGet, opts.metricsPath, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
