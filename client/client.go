// Package client is the Go client of the resonance ingest API: the real
// version of the plan's HubLogStream. Log calls never block on the network:
// entries are buffered and sent in batches of up to 100 (the plan's
// buffer_size) when a batch is full or on an interval, from one background
// goroutine that retries with exponential backoff, or after the ingest API's
// Retry-After. Memory is bounded: when the ingest API is unreachable for long,
// entries beyond MaxBuffered are dropped and counted. Close flushes what
// is buffered.
//
// One bad entry never costs its batch: Log refuses what the API would
// refuse, a 400 names the index of the entry it refused and only that one
// is dropped, and a 413 splits the batch in two.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quantum-resonance/telemetry/batchqueue"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// Options configure a Stream. Zero values take the defaults.
type Options struct {
	// URL of the logs endpoint, e.g. http://127.0.0.1:9861/api/v1/logs.
	URL    string
	APIKey string
	// Service is the service of each entry; Source the batch's source.
	Service string
	Source  string

	BatchSize     int           // entries a request; default 100
	MaxBatchBytes int           // encoded entries a request; default 512 KiB (the API takes 1 MiB by default)
	FlushInterval time.Duration // default 5s
	MaxBuffered   int           // entries held at most; default 10000
	MaxRetries    int           // per batch; default 5
	MinBackoff    time.Duration // default 200ms
	MaxBackoff    time.Duration // default 10s
	HTTPClient    *http.Client  // default: 10s timeout
}

// Entry is one log entry, in the plan's shape.
type Entry struct {
	Timestamp string         `json:"timestamp"`
	Level     string         `json:"level"`
	Message   string         `json:"message"`
	Metadata  map[string]any `json:"metadata"`
	Service   string         `json:"service"`
}

// The ingest API's limits on an entry, checked in Log.
const (
	maxMessageBytes = 64 << 10
	maxServiceBytes = 256
)

var levels = map[string]bool{"DEBUG": true, "INFO": true, "WARNING": true, "WARN": true, "ERROR": true, "CRITICAL": true}

// ErrInvalidEntry wraps the reason Log refused an entry.
var ErrInvalidEntry = errors.New("client: invalid log entry")

// Stream buffers log entries and sends them to the exporter's ingest API.
type Stream struct {
	opts  Options
	queue *batchqueue.Queue[json.RawMessage] // encoded entries

	dropped  atomic.Uint64
	sent     atomic.Uint64
	rejected atomic.Uint64
}

// New starts a Stream.
func New(o Options) (*Stream, error) {
	if o.URL == "" {
		return nil, errors.New("client: URL is required")
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.BatchSize, 100)
	def(&o.MaxBatchBytes, 512<<10)
	def(&o.MaxBuffered, 10000)
	def(&o.MaxRetries, 5)
	defDur(&o.FlushInterval, 5*time.Second)
	defDur(&o.MinBackoff, 200*time.Millisecond)
	defDur(&o.MaxBackoff, 10*time.Second)
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Stream{opts: o}
	s.queue = batchqueue.New(batchqueue.Options[json.RawMessage]{
		MaxItems:   o.MaxBuffered,
		BatchItems: o.BatchSize, BatchBytes: o.MaxBatchBytes,
		// An entry and the comma after it.
		Size:   func(raw json.RawMessage) int { return len(raw) + 1 },
		Linger: o.FlushInterval,
		Send:   s.sendBatch,
	})
	return s, nil
}

// Log buffers one entry; it never blocks on the network. Levels are the
// plan's: DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL. An entry the
// API would refuse (unknown level, message over 64 KiB, metadata that is
// not JSON, larger than a batch) is not buffered: Log returns an error
// wrapping ErrInvalidEntry and counts it in Rejected and Dropped.
func (s *Stream) Log(level, message string, metadata map[string]any) error {
	e := Entry{
		Timestamp: time.Now().UTC().Format(time.RFC3339Nano),
		Level:     level,
		Message:   message,
		Metadata:  metadata,
		Service:   s.opts.Service,
	}
	if e.Metadata == nil {
		e.Metadata = map[string]any{}
	}
	raw, err := s.encode(e)
	if err != nil {
		s.rejected.Add(1)
		s.dropped.Add(1)
		return err
	}
	if n, _ := s.queue.Add(raw); n == 0 { // buffer full, or closed
		s.dropped.Add(1)
	}
	return nil
}

func (s *Stream) encode(e Entry) (json.RawMessage, error) {
	switch {
	case !levels[strings.ToUpper(e.Level)]:
		return nil, fmt.Errorf("%w: level %q is not one of DEBUG, INFO, WARNING, WARN, ERROR, CRITICAL", ErrInvalidEntry, e.Level)
	case len(e.Message) > maxMessageBytes:
		return nil, fmt.Errorf("%w: message longer than %d bytes", ErrInvalidEntry, maxMessageBytes)
	case len(e.Service) > maxServiceBytes:
		return nil, fmt.Errorf("%w: service longer than %d bytes", ErrInvalidEntry, maxServiceBytes)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	if len(raw) > s.opts.MaxBatchBytes {
		return nil, fmt.Errorf("%w: %d bytes encoded, more than a batch (MaxBatchBytes %d)", ErrInvalidEntry, len(raw), s.opts.MaxBatchBytes)
	}
	return raw, nil
}

// Flush sends everything buffered and returns the first error.
func (s *Stream) Flush(ctx context.Context) error {
	err := s.queue.Flush(ctx)
	if errors.Is(err, batchqueue.ErrClosed) {
		return errors.New("client: stream closed")
	}
	return err
}

// Close flushes what is buffered, waiting at most until ctx is done, and
// stops the stream. Entries logged after Close are dropped.
func (s *Stream) Close(ctx context.Context) error {
	unsent, err := s.queue.Close(ctx)
	s.dropped.Add(uint64(unsent))
	return err
}

// Dropped is the number of entries given up: buffer full, stream closed,
// refused (see Rejected), or in a batch that failed after all retries.
func (s *Stream) Dropped() uint64 { return s.dropped.Load() }

// Rejected is the number of entries refused as invalid, by Log or by the
// ingest API (a 400 naming the entry, or a 413 for an entry on its own).
func (s *Stream) Rejected() uint64 { return s.rejected.Load() }

// Sent is the number of entries the ingest API accepted.
func (s *Stream) Sent() uint64 { return s.sent.Load() }

// PermanentError is a refusal that retrying cannot fix (400, 401, 413, 415).
type PermanentError struct {
	Status int
	Body   string
	// Index is the entry a 400 names, or -1.
	Index int
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("ingest API refused the batch: %d %s", e.Status, e.Body)
}

// sendBatch sends batch and deals with the refusals that concern part of
// it: on a 400 naming an entry, that entry is dropped and the rest sent
// again; on a 413 the batch is split in two. It returns the first error.
func (s *Stream) sendBatch(ctx context.Context, batch []json.RawMessage) error {
	err := s.send(ctx, batch)
	var perm *PermanentError
	switch {
	case err == nil:
		s.sent.Add(uint64(len(batch)))
		return nil
	case errors.As(err, &perm) && perm.Status == http.StatusBadRequest && perm.Index >= 0 && perm.Index < len(batch):
		s.rejected.Add(1)
		s.dropped.Add(1)
		rest := append(batch[:perm.Index:perm.Index], batch[perm.Index+1:]...)
		if len(rest) > 0 {
			if err2 := s.sendBatch(ctx, rest); err2 != nil {
				return err2
			}
		}
		return err
	case errors.As(err, &perm) && perm.Status == http.StatusRequestEntityTooLarge && len(batch) > 1:
		half := len(batch) / 2
		return errors.Join(s.sendBatch(ctx, batch[:half]), s.sendBatch(ctx, batch[half:]))
	case errors.As(err, &perm) && perm.Status == http.StatusRequestEntityTooLarge:
		s.rejected.Add(1)
		s.dropped.Add(1)
		return err
	default:
		s.dropped.Add(uint64(len(batch)))
		return err
	}
}

func (s *Stream) encodeBatch(batch []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"logs":[`)
	for i, raw := range batch {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteString(`],"source":`)
	source, _ := json.Marshal(s.opts.Source)
	b.Write(source)
	b.WriteByte('}')
	return b.Bytes()
}

// send posts batch, retrying network errors, 429 and 5xx with backoff or
// after the ingest API's Retry-After (up to MaxBackoff).
func (s *Stream) send(ctx context.Context, batch []json.RawMessage) error {
	body := s.encodeBatch(batch)
	r := httpretry.Retrier{
		Backoff:       httpretry.Backoff{Min: s.opts.MinBackoff, Max: s.opts.MaxBackoff},
		MaxAttempts:   s.opts.MaxRetries + 1,
		MaxRetryAfter: s.opts.MaxBackoff,
	}
	return r.Do(ctx, func(ctx context.Context) error { return s.post(ctx, body) })
}

func (s *Stream) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.APIKey)
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return &httpretry.RecoverableError{Err: err}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch verdict, wait := (httpretry.Classifier{}).Classify(resp.StatusCode, resp.Header, msg); verdict {
	case httpretry.OK:
		return nil
	case httpretry.Retry:
		return &httpretry.RecoverableError{Err: fmt.Errorf("ingest API answered %d: %s", resp.StatusCode, strings.TrimSpace(string(msg))), RetryAfter: wait}
	default:
		perm := &PermanentError{Status: resp.StatusCode, Body: strings.TrimSpace(string(msg)), Index: -1}
		var reply struct {
			Index *int `json:"index"`
		}
		if json.Unmarshal(msg, &reply) == nil && reply.Index != nil {
			perm.Index = *reply.Index
		}
		return perm
	}
}
