package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/quantum-resonance/telemetry/config"
)

// The HELP of each probe metric says that probes run in the background: a
// scrape reads the last result and never calls the upstream, so neither the
// scrape interval nor the number of Prometheus replicas changes how often a
// paid endpoint is called.
var (
	probeSuccessDesc = prometheus.NewDesc(
		"resonance_probe_success",
		"Whether the last run of the probe got an expected status (1) or not (0).",
		[]string{"probe"}, nil,
	)
	probeDurationDesc = prometheus.NewDesc(
		"resonance_probe_duration_seconds",
		"Duration of the last run of the probe, from sending the request to reading the (bounded) body.",
		[]string{"probe"}, nil,
	)
	probeLastRunDesc = prometheus.NewDesc(
		"resonance_probe_last_run_timestamp_seconds",
		"Unix time the last run of the probe started.",
		[]string{"probe"}, nil,
	)
	probeFailuresDesc = prometheus.NewDesc(
		"resonance_probe_failures_total",
		"Probe runs that failed, by reason: timeout, network (no HTTP answer), http_429, http_4xx, http_5xx, model_loading (Hugging Face 503 with estimated_time), unexpected_status (any other status not in expected_status).",
		[]string{"probe", "reason"}, nil,
	)
	probeModelLoadingDesc = prometheus.NewDesc(
		"resonance_probe_model_loading_estimated_seconds",
		"Hugging Face's estimated_time from the 503 \"model is loading\" answer of the probe's last run; absent when the last run got any other answer.",
		[]string{"probe"}, nil,
	)
)

// Failure reasons of a probe run, the values of the reason label.
const (
	reasonTimeout          = "timeout"
	reasonNetwork          = "network"
	reasonHTTP429          = "http_429"
	reasonHTTP4xx          = "http_4xx"
	reasonHTTP5xx          = "http_5xx"
	reasonModelLoading     = "model_loading"
	reasonUnexpectedStatus = "unexpected_status"
)

var probeFailureReasons = []string{
	reasonTimeout, reasonNetwork, reasonHTTP429, reasonHTTP4xx, reasonHTTP5xx,
	reasonModelLoading, reasonUnexpectedStatus,
}

// maxProbeBody bounds what a probe reads of a response: enough for Hugging
// Face's loading JSON, never a model's whole answer or a list of models.
const maxProbeBody = 64 << 10

func init() {
	registerCollector("probes", newProbeCollector)
	reuseWhileUnchanged("probes", func(c *config.Config) any { return c.Probes })
}

// probeCollector exposes the last result of every configured probe; each
// probe runs on its own background loop.
type probeCollector struct {
	probers []*prober
	loops   []*background
}

func newProbeCollector(d Deps) (Collector, error) {
	if len(d.Config.Probes) == 0 {
		return nil, nil
	}
	c := &probeCollector{}
	for _, cfg := range d.Config.Probes {
		p, err := newProber(cfg, d.Logger.With("probe", cfg.Name))
		if err != nil {
			return nil, fmt.Errorf("probe %s: %w", cfg.Name, err)
		}
		c.probers = append(c.probers, p)
	}
	return c, nil
}

func (c *probeCollector) start() {
	for _, p := range c.probers {
		c.loops = append(c.loops, startBackground(p.runAndRecord))
	}
}

// Update sends the last results; it never calls an upstream.
func (c *probeCollector) Update(ch chan<- prometheus.Metric) error {
	for _, p := range c.probers {
		p.collect(ch)
	}
	return nil
}

// Close stops every probe, aborting requests in flight, and closes their
// connections.
func (c *probeCollector) Close() error {
	for _, l := range c.loops {
		l.stop()
	}
	for _, p := range c.probers {
		p.client.CloseIdleConnections()
	}
	return nil
}

// prober runs one configured probe and keeps its last result.
type prober struct {
	cfg    config.ProbeConfig
	client *http.Client
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	last     *probeResult // nil until the first run has finished
	failures map[string]float64
}

// probeResult is the outcome of one run.
type probeResult struct {
	start    time.Time
	duration time.Duration
	status   int    // 0 when no HTTP answer came
	reason   string // empty on success
	err      error  // the transport error, for the log; never carries the URL
	// loadingEstimate is Hugging Face's estimated_time, when reason is
	// model_loading.
	loadingEstimate float64
}

func (r probeResult) success() bool { return r.reason == "" }

func newProber(cfg config.ProbeConfig, logger *slog.Logger) (*prober, error) {
	client, err := commonconfig.NewClientFromConfig(cfg.HTTPClientConfig, "probe_"+cfg.Name,
		commonconfig.WithUserAgent("resonance-exporter/"+version.Version))
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	failures := make(map[string]float64, len(probeFailureReasons))
	for _, r := range probeFailureReasons {
		failures[r] = 0 // exposed from the start, so increase() sees the first failure
	}
	return &prober{
		cfg:      cfg,
		client:   client,
		logger:   logger,
		now:      time.Now,
		failures: failures,
	}, nil
}

// runAndRecord is the background job: one run, then wait an interval.
func (p *prober) runAndRecord(ctx context.Context) time.Duration {
	r := p.run(ctx)
	if ctx.Err() != nil {
		// Stopped (config reload or shutdown) mid-run: that is not a
		// failure of the upstream.
		return 0
	}
	p.record(r)
	return time.Duration(p.cfg.Interval)
}

// run sends the request once, under the probe's timeout, and classifies
// the answer.
func (p *prober) run(ctx context.Context) probeResult {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.cfg.Timeout))
	defer cancel()

	r := probeResult{start: p.now()}
	req, err := p.newRequest(ctx)
	if err != nil {
		// The config was validated; this cannot happen short of a bug.
		r.reason, r.err = reasonNetwork, err
		return r
	}
	resp, err := p.client.Do(req)
	if err != nil {
		r.duration = p.now().Sub(r.start)
		r.reason, r.err = transportFailure(err)
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	r.duration = p.now().Sub(r.start)
	r.status = resp.StatusCode
	if err != nil {
		r.reason, r.err = transportFailure(err)
		return r
	}
	r.reason, r.loadingEstimate = classifyStatus(resp.StatusCode, body, p.cfg.ExpectedStatus)
	return r
}

func (p *prober) newRequest(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if p.cfg.Body != "" {
		body = strings.NewReader(p.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.cfg.Method, p.cfg.URL, body)
	if err != nil {
		return nil, errors.New("cannot build the request")
	}
	for name, value := range p.cfg.Headers {
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	return req, nil
}

// classifyStatus returns "" when status is expected, else the failure
// reason. A 503 whose body carries estimated_time is Hugging Face loading a
// cold model: not an outage, and its own reason, with the estimate.
func classifyStatus(status int, body []byte, expected []int) (reason string, loadingEstimate float64) {
	if slices.Contains(expected, status) {
		return "", 0
	}
	switch {
	case status == http.StatusServiceUnavailable:
		if estimate, ok := modelLoadingEstimate(body); ok {
			return reasonModelLoading, estimate
		}
		return reasonHTTP5xx, 0
	case status == http.StatusTooManyRequests:
		return reasonHTTP429, 0
	case status >= 500 && status <= 599:
		return reasonHTTP5xx, 0
	case status >= 400 && status <= 499:
		return reasonHTTP4xx, 0
	default:
		return reasonUnexpectedStatus, 0
	}
}

// modelLoadingEstimate reads Hugging Face's loading answer,
// {"error":"Model ... is currently loading","estimated_time":20.0}.
func modelLoadingEstimate(body []byte) (float64, bool) {
	var loading struct {
		Error         string   `json:"error"`
		EstimatedTime *float64 `json:"estimated_time"`
	}
	if json.Unmarshal(body, &loading) != nil || loading.EstimatedTime == nil {
		return 0, false
	}
	return *loading.EstimatedTime, true
}

// transportFailure classifies an error that left no HTTP status, and strips
// the URL from it: a URL may carry a token in its query.
func transportFailure(err error) (reason string, cleaned error) {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return reasonTimeout, err
	}
	return reasonNetwork, err
}

// record keeps r as the last result and logs a change of state: a probe
// that keeps failing for the same reason logs once, not every interval.
func (p *prober) record(r probeResult) {
	p.mu.Lock()
	prev := p.last
	p.last = &r
	if !r.success() {
		p.failures[r.reason]++
	}
	p.mu.Unlock()

	attrs := []any{"status", r.status, "duration_seconds", r.duration.Seconds()}
	if r.err != nil {
		attrs = append(attrs, "err", r.err)
	}
	if r.reason == reasonModelLoading {
		attrs = append(attrs, "estimated_seconds", r.loadingEstimate)
	}
	switch {
	case !r.success() && (prev == nil || prev.reason != r.reason):
		p.logger.Warn("Probe failed", append([]any{"reason", r.reason}, attrs...)...)
	case r.success() && prev != nil && !prev.success():
		p.logger.Info("Probe recovered", attrs...)
	default:
		p.logger.Debug("Probe ran", append([]any{"reason", r.reason}, attrs...)...)
	}
}

func (p *prober) collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := p.cfg.Name
	for _, reason := range probeFailureReasons {
		ch <- prometheus.MustNewConstMetric(probeFailuresDesc, prometheus.CounterValue, p.failures[reason], name, reason)
	}
	if p.last == nil {
		return // not run yet: no result rather than a made-up one
	}
	success := 0.0
	if p.last.success() {
		success = 1
	}
	ch <- prometheus.MustNewConstMetric(probeSuccessDesc, prometheus.GaugeValue, success, name)
	ch <- prometheus.MustNewConstMetric(probeDurationDesc, prometheus.GaugeValue, p.last.duration.Seconds(), name)
	ch <- prometheus.MustNewConstMetric(probeLastRunDesc, prometheus.GaugeValue, float64(p.last.start.UnixNano())/1e9, name)
	if p.last.reason == reasonModelLoading {
		ch <- prometheus.MustNewConstMetric(probeModelLoadingDesc, prometheus.GaugeValue, p.last.loadingEstimate, name)
	}
}
