// Package batchqueue is the buffered batch sender the Go client and the
// Loki forwarder share: callers add items without ever waiting on the
// network; one goroutine takes them in batches bounded in items and bytes
// and hands each to a send function (which retries with httpretry); the
// queue is bounded in items and bytes, and what does not fit is refused
// for the caller to count; Close sends what is queued until its context
// is done.
package batchqueue

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrClosed is Add's and Flush's answer after Close.
var ErrClosed = errors.New("batchqueue: closed")

// Options configure a Queue.
type Options[T any] struct {
	// MaxItems and MaxBytes bound what waits; MaxBytes 0 bounds only
	// the items.
	MaxItems, MaxBytes int
	// BatchItems and BatchBytes bound a batch; BatchBytes 0 bounds only
	// the items. A batch always takes its first item, however large.
	BatchItems, BatchBytes int
	// Size is what an item weighs against the byte bounds.
	Size func(T) int
	// Linger is how long a batch that is not full may wait for more
	// items (a ticker: with it, only full batches go before the tick). 0
	// sends as soon as anything is queued.
	Linger time.Duration
	// Send sends one batch. Its context is cancelled when Close gives up;
	// what it returns is Flush's and Close's error, and counting is its
	// business.
	Send func(ctx context.Context, batch []T) error
}

// Queue is a bounded queue drained in batches by one goroutine.
type Queue[T any] struct {
	o Options[T]

	mu     sync.Mutex
	items  []T
	bytes  int
	closed bool

	ready   chan struct{} // capacity 1: a batch is ready
	flushes chan chan error
	closing chan struct{} // closed by Close: drain, then return
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	// drainErr is the first error of Close's drain, set before done
	// closes.
	drainErr error
}

// New starts a queue.
func New[T any](o Options[T]) *Queue[T] {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[T]{
		o:       o,
		ready:   make(chan struct{}, 1),
		flushes: make(chan chan error),
		closing: make(chan struct{}),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	go q.run()
	return q
}

// Add queues items in order, without blocking, until one does not fit;
// it returns how many it queued (the caller counts the rest as dropped),
// and ErrClosed after Close.
func (q *Queue[T]) Add(items ...T) (int, error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, ErrClosed
	}
	n := 0
	for _, it := range items {
		size := q.o.Size(it)
		if len(q.items) >= q.o.MaxItems || (q.o.MaxBytes > 0 && q.bytes+size > q.o.MaxBytes) {
			break
		}
		q.items = append(q.items, it)
		q.bytes += size
		n++
	}
	ready := n > 0 && (q.o.Linger == 0 || len(q.items) >= q.o.BatchItems || (q.o.BatchBytes > 0 && q.bytes >= q.o.BatchBytes))
	q.mu.Unlock()
	if ready {
		select {
		case q.ready <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// Len is the number of items waiting (not those of a batch being sent).
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Closing is closed when Close starts: a Send's retries can hurry then
// (httpretry.Retrier.Hurry) rather than sleep past Close's deadline.
func (q *Queue[T]) Closing() <-chan struct{} { return q.closing }

// Flush sends everything queued and returns Send's first error.
func (q *Queue[T]) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case q.flushes <- reply:
	case <-q.done:
		return ErrClosed
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

// Close refuses new items and sends what is queued until ctx is done; then
// it cancels the batch in flight and stops. It returns the items left
// unsent (removed from the queue, for the caller to count) and Send's
// first error, or ctx's error when ctx cut the drain. Closing again
// returns 0, nil.
func (q *Queue[T]) Close(ctx context.Context) (unsent int, err error) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, nil
	}
	q.closed = true
	q.mu.Unlock()
	close(q.closing)
	select {
	case <-q.done:
		err = q.drainErr
	case <-ctx.Done():
		q.cancel()
		<-q.done
		err = ctx.Err()
	}
	q.cancel()
	q.mu.Lock()
	unsent = len(q.items)
	q.items, q.bytes = nil, 0
	q.mu.Unlock()
	return unsent, err
}

func (q *Queue[T]) run() {
	defer close(q.done)
	var tick <-chan time.Time
	if q.o.Linger > 0 {
		t := time.NewTicker(q.o.Linger)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-q.ready:
			_ = q.sendAll(q.o.Linger > 0)
		case <-tick:
			_ = q.sendAll(false)
		case reply := <-q.flushes:
			reply <- q.sendAll(false)
		case <-q.closing:
			q.drainErr = q.sendAll(false)
			return
		}
	}
}

// sendAll sends queued batches until none is left or Close gave up;
// fullOnly stops at a batch that is not full.
func (q *Queue[T]) sendAll(fullOnly bool) error {
	var first error
	for q.ctx.Err() == nil {
		batch := q.take(fullOnly)
		if len(batch) == 0 {
			break
		}
		if err := q.o.Send(q.ctx, batch); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (q *Queue[T]) take(fullOnly bool) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, size := 0, 0
	for n < len(q.items) && n < q.o.BatchItems {
		s := q.o.Size(q.items[n])
		if n > 0 && q.o.BatchBytes > 0 && size+s > q.o.BatchBytes {
			break
		}
		size += s
		n++
	}
	full := n == q.o.BatchItems || n < len(q.items) // by items or by bytes
	if n == 0 || (fullOnly && !full) {
		return nil
	}
	batch := slices.Clone(q.items[:n])
	// Shift rather than reslice, so that the backing array does not grow
	// without bound while the receiver keeps up.
	q.items = append(q.items[:0], q.items[n:]...)
	q.bytes -= size
	return batch
}
