// Package buckets holds the boundaries of the exporter's latency
// histograms. A leaf: the ingest API exposes histograms with them and the
// rules generator checks each latency SLO's threshold against them, and
// neither should link the other.
package buckets

// API requests: around the plan's 2000 ms SlowAPI threshold. Upstream
// calls: up to 30 s, with 3 s and 5 s for the plan's SlowInference,
// PiSDKLatencyHigh and HuggingFaceLatencyHigh thresholds. Latency SLOs count
// the requests under their threshold from the bucket at that boundary, so
// each SLO threshold (2 s, 3 s, 5 s) must stay a boundary: the rules
// generator refuses a latency SLO without one.
var (
	APIDuration      = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 2.5, 5, 10}
	UpstreamDuration = []float64{.05, .1, .25, .5, 1, 2, 3, 5, 10, 20, 30}
)
