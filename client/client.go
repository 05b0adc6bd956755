// Package client is the Go client of the resonance ingest API: the real
// version of the seed's HubLogStream. Log calls never block on the network:
// entries are buffered and sent in batches of up to 100 (the seed's
// buffer_size) when a batch is full or on an interval, from one background
// goroutine that retries with exponential backoff. Memory is bounded: when
// the hub is unreachable for long, entries beyond MaxBuffered are dropped
// and counted. Close flushes what is buffered.
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
	"sync"
	"sync/atomic"
	"time"
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
	FlushInterval time.Duration // default 5s
	MaxBuffered   int           // entries held at most; default 10000
	MaxRetries    int           // per batch; default 5
	MinBackoff    time.Duration // default 200ms
	MaxBackoff    time.Duration // default 10s
	HTTPClient    *http.Client  // default: 10s timeout
}

// Entry is one log entry, in the seed's shape.
type Entry struct {
	Timestamp string         `json:"timestamp"`
	Level     string         `json:"level"`
	Message   string         `json:"message"`
	Metadata  map[string]any `json:"metadata"`
	Service   string         `json:"service"`
}

type payload struct {
	Logs   []Entry `json:"logs"`
	Source string  `json:"source"`
}

// Stream buffers log entries and sends them to the hub.
type Stream struct {
	opts Options

	mu     sync.Mutex
	buf    []Entry
	closed bool

	full    chan struct{} // a batch is ready
	flushCh chan chan error
	done    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc

	dropped atomic.Uint64
	sent    atomic.Uint64
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
	def(&o.MaxBuffered, 10000)
	def(&o.MaxRetries, 5)
	defDur(&o.FlushInterval, 5*time.Second)
	defDur(&o.MinBackoff, 200*time.Millisecond)
	defDur(&o.MaxBackoff, 10*time.Second)
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stream{
		opts:    o,
		full:    make(chan struct{}, 1),
		flushCh: make(chan chan error),
		done:    make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
	}
	go s.run()
	return s, nil
}

// Log buffers one entry; it never blocks on the network. Levels are the
// seed's: DEBUG, INFO, WARNING, ERROR, CRITICAL.
func (s *Stream) Log(level, message string, metadata map[string]any) {
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
	s.mu.Lock()
	if s.closed || len(s.buf) >= s.opts.MaxBuffered {
		s.mu.Unlock()
		s.dropped.Add(1)
		return
	}
	s.buf = append(s.buf, e)
	ready := len(s.buf) >= s.opts.BatchSize
	s.mu.Unlock()
	if ready {
		select {
		case s.full <- struct{}{}:
		default:
		}
	}
}

// Flush sends everything buffered and returns the first error.
func (s *Stream) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case s.flushCh <- reply:
	case <-s.done:
		return errors.New("client: stream closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close flushes what is buffered, waiting at most until ctx is done, and
// stops the stream. Entries logged after Close are dropped.
func (s *Stream) Close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	err := s.Flush(ctx)
	s.cancel()
	<-s.done
	return err
}

// Dropped is the number of entries given up: buffer full, stream closed,
// or a batch that failed after all retries.
func (s *Stream) Dropped() uint64 { return s.dropped.Load() }

// Sent is the number of entries the hub accepted.
func (s *Stream) Sent() uint64 { return s.sent.Load() }

func (s *Stream) run() {
	defer close(s.done)
	tick := time.NewTicker(s.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			_ = s.sendAll(false)
		case <-s.full:
			_ = s.sendAll(true)
		case reply := <-s.flushCh:
			reply <- s.sendAll(false)
		}
	}
}

// sendAll sends buffered batches; fullOnly stops at a partial batch.
func (s *Stream) sendAll(fullOnly bool) error {
	var first error
	for {
		s.mu.Lock()
		n := min(len(s.buf), s.opts.BatchSize)
		if n == 0 || (fullOnly && n < s.opts.BatchSize) {
			s.mu.Unlock()
			return first
		}
		batch := make([]Entry, n)
		copy(batch, s.buf)
		s.buf = append(s.buf[:0], s.buf[n:]...)
		s.mu.Unlock()
		if err := s.send(batch); err != nil {
			s.dropped.Add(uint64(len(batch)))
			if first == nil {
				first = err
			}
		} else {
			s.sent.Add(uint64(len(batch)))
		}
	}
}

// PermanentError is a refusal that retrying cannot fix (400, 401, 413, 415).
type PermanentError struct {
	Status int
	Body   string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("hub refused the batch: %d %s", e.Status, e.Body)
}

func (s *Stream) send(batch []Entry) error {
	body, err := json.Marshal(payload{Logs: batch, Source: s.opts.Source})
	if err != nil {
		return err
	}
	backoff := s.opts.MinBackoff
	for attempt := 0; ; attempt++ {
		err = s.post(body)
		var perm *PermanentError
		if err == nil || errors.As(err, &perm) || attempt >= s.opts.MaxRetries {
			return err
		}
		select {
		case <-s.ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, s.opts.MaxBackoff)
	}
}

func (s *Stream) post(body []byte) error {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.APIKey)
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case resp.StatusCode/100 == 2:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("hub answered %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	default:
		return &PermanentError{Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
	}
}
