// Package loki forwards log entries to Grafana Loki's push API
// (POST /loki/api/v1/push, JSON) through a bounded queue: the ingest API
// never waits for Loki, and when Loki is slow or down the oldest waiting
// entries are kept and newer ones beyond the queue are dropped and counted.
// The queue and each batch are bounded in bytes as well as entries, and
// batches go gzipped.
package loki

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quantum-resonance/telemetry/batchqueue"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// PushPath is Loki's push endpoint, appended to the configured base URL.
const PushPath = "/loki/api/v1/push"

// Stream is the label set of an entry. Loki indexes labels, so they are
// few and bounded: the ingest API caps service, level is an enum, and
// source comes from the same capped set.
type Stream struct {
	Service, Level, Source string
}

// Entry is one log line to forward.
type Entry struct {
	Stream Stream
	Time   time.Time
	Line   string
}

// Metrics are the counters the forwarder reports to. They are described
// here; the ingest Store holds them so that they survive a forwarder being
// replaced on reload.
type Metrics struct {
	Sent    prometheus.Counter
	Dropped *prometheus.CounterVec // by reason
	Errors  prometheus.Counter
}

// NewMetrics describes the forwarder's counters, every drop reason at 0.
func NewMetrics() Metrics {
	m := Metrics{
		Sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resonance_ingest_loki_sent_entries_total",
			Help: "Log entries forwarded to Loki and acknowledged by it.",
		}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_ingest_loki_dropped_entries_total",
			Help: "Log entries not forwarded to Loki, by reason (queue_full, rejected: a 4xx other than 429, retries_exhausted, shutdown).",
		}, []string{"reason"}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "resonance_ingest_loki_push_errors_total",
			Help: "Failed push attempts to Loki (network errors, 429, 5xx, 4xx), retried or not.",
		}),
	}
	for _, r := range []string{"queue_full", "rejected", "retries_exhausted", "shutdown"} {
		m.Dropped.WithLabelValues(r)
	}
	return m
}

// Collectors are the counters, for a collector that exposes them.
func (m Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Sent, m.Dropped, m.Errors}
}

// Options configure a Forwarder.
type Options struct {
	URL        string // Loki's base URL
	TenantID   string // X-Scope-OrgID, when set
	QueueSize  int    // entries waiting at most
	QueueBytes int    // bytes of entries waiting at most (see Entry.size)
	MaxRetries int
	Client     *http.Client
	Logger     *slog.Logger
	Metrics    Metrics

	// Zero values take the defaults below; tests shorten them.
	BatchSize  int
	BatchBytes int
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// FlushTimeout is how long Close keeps sending what is queued.
	FlushTimeout time.Duration
}

const (
	defaultBatchSize  = 1000
	defaultBatchBytes = 1 << 20 // promtail's batchsize
	defaultQueueBytes = 16 << 20
	defaultMinBackoff = 250 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	pushTimeout       = 10 * time.Second
	defaultFlush      = 5 * time.Second
)

// Forwarder sends entries to Loki from one background goroutine.
type Forwarder struct {
	opts    Options
	pushURL string
	queue   *batchqueue.Queue[Entry]
}

// positiveOr is v, or def when v is not positive (unset).
func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// New starts a forwarder.
func New(o Options) *Forwarder {
	o.BatchSize = positiveOr(o.BatchSize, defaultBatchSize)
	o.BatchBytes = positiveOr(o.BatchBytes, defaultBatchBytes)
	o.QueueBytes = positiveOr(o.QueueBytes, defaultQueueBytes)
	o.MinBackoff = positiveOr(o.MinBackoff, defaultMinBackoff)
	o.MaxBackoff = positiveOr(o.MaxBackoff, defaultMaxBackoff)
	o.FlushTimeout = positiveOr(o.FlushTimeout, defaultFlush)
	f := &Forwarder{opts: o, pushURL: strings.TrimSuffix(o.URL, "/") + PushPath}
	f.queue = batchqueue.New(batchqueue.Options[Entry]{
		MaxItems: o.QueueSize, MaxBytes: o.QueueBytes,
		BatchItems: o.BatchSize, BatchBytes: o.BatchBytes,
		Size: Entry.size,
		Send: func(ctx context.Context, batch []Entry) error {
			f.send(ctx, batch)
			return nil
		},
	})
	return f
}

// size is what an entry weighs in the queue and in a batch: its line and
// labels, plus the JSON around them.
func (e Entry) size() int {
	return len(e.Line) + len(e.Stream.Service) + len(e.Stream.Level) + len(e.Stream.Source) + 64
}

// Enqueue adds entries without blocking; those beyond the queue's entries
// or bytes are dropped and counted.
func (f *Forwarder) Enqueue(entries []Entry) {
	n, err := f.queue.Add(entries...)
	reason := "queue_full"
	if errors.Is(err, batchqueue.ErrClosed) {
		reason = "shutdown"
	}
	if dropped := len(entries) - n; dropped > 0 {
		f.opts.Metrics.Dropped.WithLabelValues(reason).Add(float64(dropped))
	}
}

// Close sends what is queued for at most FlushTimeout, then stops; entries
// not sent by then are counted as dropped with reason "shutdown". Entries
// enqueued after Close are dropped the same way.
func (f *Forwarder) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), f.opts.FlushTimeout)
	defer cancel()
	if unsent, _ := f.queue.Close(ctx); unsent > 0 {
		f.opts.Metrics.Dropped.WithLabelValues("shutdown").Add(float64(unsent))
	}
	// A reload that replaces the forwarder must not leave its
	// connections open.
	f.opts.Client.CloseIdleConnections()
	return nil
}

// send pushes one batch, retrying network errors, 429 and 5xx with
// exponential backoff. A batch Loki refuses with 400 (an entry outside its
// time window, a line too long) or 413 is split in two and each half sent
// again, down to the single entries it refuses, so that one bad entry
// costs only itself. (Loki stores the valid entries of a push it answers
// 400, and drops the identical ones sent again.)
func (f *Forwarder) send(ctx context.Context, batch []Entry) {
	status := f.sendOnce(ctx, batch)
	if (status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge) && len(batch) > 1 && ctx.Err() == nil {
		half := len(batch) / 2
		f.send(ctx, batch[:half])
		f.send(ctx, batch[half:])
		return
	}
	if status != 0 {
		f.opts.Metrics.Dropped.WithLabelValues("rejected").Add(float64(len(batch)))
	}
}

// sendOnce pushes batch with retries; it returns the status of a refusal
// that retrying cannot fix, 0 otherwise (sent, or dropped and counted).
func (f *Forwarder) sendOnce(ctx context.Context, batch []Entry) int {
	body, err := EncodePush(batch)
	if err != nil { // cannot happen with string fields
		return http.StatusBadRequest
	}
	r := httpretry.Retrier{
		Backoff:     httpretry.Backoff{Min: f.opts.MinBackoff, Max: f.opts.MaxBackoff},
		MaxAttempts: f.opts.MaxRetries + 1,
		// Loki's Retry-After is honoured up to MaxBackoff: the queue
		// behind this batch keeps filling meanwhile.
		MaxRetryAfter: f.opts.MaxBackoff,
		// Once Close is flushing, retries come every MinBackoff instead
		// of sleeping past its FlushTimeout.
		Hurry: f.queue.Closing(),
	}
	err = r.Do(ctx, func(ctx context.Context) error {
		err := f.push(ctx, body)
		if err != nil && ctx.Err() == nil {
			f.opts.Metrics.Errors.Inc()
			f.opts.Logger.Debug("Loki push failed", "err", err)
		}
		return err
	})
	var recoverable *httpretry.RecoverableError
	var refused *refusedError
	switch {
	case err == nil:
		f.opts.Metrics.Sent.Add(float64(len(batch)))
		return 0
	case ctx.Err() != nil: // Close gave up waiting
		f.opts.Metrics.Dropped.WithLabelValues("shutdown").Add(float64(len(batch)))
		return 0
	case errors.As(err, &recoverable):
		f.opts.Logger.Warn("Loki push failed after retries; its entries are dropped", "entries", len(batch), "err", err)
		f.opts.Metrics.Dropped.WithLabelValues("retries_exhausted").Add(float64(len(batch)))
		return 0
	case errors.As(err, &refused):
		f.opts.Logger.Warn("Loki refused a push", "entries", len(batch), "err", err)
		return refused.status
	default:
		f.opts.Logger.Warn("Loki refused a push", "entries", len(batch), "err", err)
		return http.StatusBadRequest
	}
}

// refusedError is Loki's answer to a push that retrying cannot fix.
type refusedError struct {
	status int
	msg    string
}

func (e *refusedError) Error() string { return e.msg }

// push makes one attempt, gzipped. A failure worth repeating is a
// *httpretry.RecoverableError, a refusal a *refusedError.
func (f *Forwarder) push(ctx context.Context, body []byte) error {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write(body)
	_ = zw.Close()
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.pushURL, &zipped)
	if err != nil {
		return &refusedError{status: http.StatusBadRequest, msg: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	if f.opts.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", f.opts.TenantID)
	}
	resp, err := f.opts.Client.Do(req)
	if err != nil {
		return &httpretry.RecoverableError{Err: err}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	verdict, wait := httpretry.Classifier{}.Classify(resp.StatusCode, resp.Header, msg)
	err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
	switch verdict {
	case httpretry.OK:
		return nil
	case httpretry.Retry:
		return &httpretry.RecoverableError{Err: err, RetryAfter: wait}
	default:
		return &refusedError{status: resp.StatusCode, msg: err.Error()}
	}
}

// PushRequest is Loki's JSON push body.
type PushRequest struct {
	Streams []PushStream `json:"streams"`
}

// PushStream is one stream of a push: its labels and its [time, line]
// pairs, the time as Unix nanoseconds in a string.
type PushStream struct {
	Stream map[string]string `json:"stream"`
	Values [][2]string       `json:"values"`
}

// EncodePush builds the push body: one stream per label set, entries in
// time order within each (older Loki versions reject out-of-order entries).
func EncodePush(entries []Entry) ([]byte, error) {
	index := map[Stream]int{}
	var streams []Stream
	byStream := [][]Entry{}
	for _, e := range entries {
		i, ok := index[e.Stream]
		if !ok {
			i = len(streams)
			index[e.Stream] = i
			streams = append(streams, e.Stream)
			byStream = append(byStream, nil)
		}
		byStream[i] = append(byStream[i], e)
	}
	req := PushRequest{Streams: make([]PushStream, len(streams))}
	for i, s := range streams {
		es := byStream[i]
		slices.SortStableFunc(es, func(a, b Entry) int { return cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()) })
		labels := map[string]string{"service": s.Service, "level": s.Level}
		if s.Source != "" {
			labels["source"] = s.Source
		}
		ps := PushStream{Stream: labels, Values: make([][2]string, len(es))}
		for j, e := range es {
			ps.Values[j] = [2]string{strconv.FormatInt(e.Time.UnixNano(), 10), e.Line}
		}
		req.Streams[i] = ps
	}
	return json.Marshal(req)
}
