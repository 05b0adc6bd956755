package ingest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Latency SLOs count the requests under their threshold from the bucket
// whose boundary is that threshold: the exposed histograms must have a
// boundary exactly at 2 s (api-latency), 3 s (pi-sdk-latency) and 5 s
// (huggingface-latency), and a request of exactly the threshold counts as
// fast, one a millisecond over it as slow.
func TestHistogramsHaveABoundaryAtEachSLOThreshold(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	body := `{"events":[
		{"type":"api_request","endpoint":"/api/inference","method":"POST","status":200,"duration_ms":2000},
		{"type":"api_request","endpoint":"/api/inference","method":"POST","status":200,"duration_ms":2001},
		{"type":"upstream_call","upstream":"pi_sdk","operation":"pay","duration_ms":3000,"ok":true},
		{"type":"upstream_call","upstream":"pi_sdk","operation":"pay","duration_ms":3001,"ok":true},
		{"type":"upstream_call","upstream":"huggingface","operation":"inference","duration_ms":5000,"ok":true},
		{"type":"upstream_call","upstream":"huggingface","operation":"inference","duration_ms":5001,"ok":true}
	]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: body}), 202, `{"accepted":6}`)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ta.store)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		family, label, value string
		boundary             float64
	}{
		{"resonance_api_request_duration_seconds", "endpoint", "/api/inference", 2},
		{"resonance_upstream_request_duration_seconds", "upstream", "pi_sdk", 3},
		{"resonance_upstream_request_duration_seconds", "upstream", "huggingface", 5},
	} {
		var buckets []float64
		var counts []uint64
		var total uint64
		for _, f := range families {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if f.GetName() == c.family && l.GetName() == c.label && l.GetValue() == c.value {
						for _, b := range m.GetHistogram().GetBucket() {
							buckets = append(buckets, b.GetUpperBound())
							counts = append(counts, b.GetCumulativeCount())
						}
						total = m.GetHistogram().GetSampleCount()
					}
				}
			}
		}
		if buckets == nil {
			t.Errorf("%s{%s=%q}: not exposed", c.family, c.label, c.value)
			continue
		}
		found := false
		for i, boundary := range buckets {
			if boundary == c.boundary {
				found = true
				if counts[i] != 1 {
					t.Errorf("%s{%s=%q,le=%v} = %d, want 1 (the request at exactly the threshold only)", c.family, c.label, c.value, c.boundary, counts[i])
				}
			}
		}
		if !found {
			t.Errorf("%s{%s=%q}: no bucket boundary at %v s, the SLO threshold", c.family, c.label, c.value, c.boundary)
		}
		if total != 2 {
			t.Errorf("%s{%s=%q}: count %d, want 2", c.family, c.label, c.value, total)
		}
	}
}
