package batchqueue

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// receiver records the batches it is sent; block, when set, holds each
// send until it is closed or the send's context is done.
type receiver struct {
	mu      sync.Mutex
	batches [][]string
	got     chan struct{}
	block   chan struct{}
	err     error
}

func newReceiver() *receiver { return &receiver{got: make(chan struct{}, 100)} }

func (r *receiver) send(ctx context.Context, batch []string) error {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	r.batches = append(r.batches, batch)
	err := r.err
	r.mu.Unlock()
	r.got <- struct{}{}
	return err
}

func (r *receiver) sent() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			t.Fatal("no batch arrived")
		}
	}
}

func start(t *testing.T, r *receiver, edit func(*Options[string])) *Queue[string] {
	o := Options[string]{
		MaxItems: 100, BatchItems: 3,
		Size: func(s string) int { return len(s) },
		Send: r.send,
	}
	if edit != nil {
		edit(&o)
	}
	q := New(o)
	t.Cleanup(func() { q.Close(context.Background()) })
	return q
}

func TestAddIsBoundedInItemsAndBytes(t *testing.T) {
	// No batch is ever full and the tick is an hour away: nothing leaves.
	q := start(t, newReceiver(), func(o *Options[string]) { o.MaxItems, o.MaxBytes, o.BatchItems, o.Linger = 4, 10, 100, time.Hour })
	for _, tc := range []struct {
		add  []string
		want int
	}{
		{[]string{"aa", "bb", "cc"}, 3},
		{[]string{"dd", "ee"}, 1}, // a fifth item is one too many
		{[]string{"f"}, 0},
	} {
		if n, err := q.Add(tc.add...); n != tc.want || err != nil {
			t.Errorf("Add(%q) = %d, %v; want %d", tc.add, n, err, tc.want)
		}
	}
	q2 := start(t, newReceiver(), func(o *Options[string]) { o.MaxItems, o.MaxBytes, o.BatchItems, o.Linger = 100, 10, 100, time.Hour })
	if n, _ := q2.Add("aaaa", "bbbb", "ccc", "d"); n != 2 {
		t.Errorf("queued %d of 4+4+3+1 bytes under MaxBytes 10, want 2 (in order, stopping at the first that does not fit)", n)
	}
}

func TestBatchesAreBoundedInItemsAndBytes(t *testing.T) {
	r := newReceiver()
	q := start(t, r, func(o *Options[string]) { o.BatchItems, o.BatchBytes, o.Linger = 3, 6, time.Hour })
	q.Add("a", "b", "c", "d", "eeee", "ff", "gggggggggg", "h")
	if err := q.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"a", "b", "c"}, {"d", "eeee"}, {"ff"}, {"gggggggggg"}, {"h"}}
	if got := r.sent(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches %q, want %q (a batch takes its first item however large)", got, want)
	}
}

// Without Linger a batch goes as soon as anything is queued (the Loki
// forwarder); with it, only full batches go before the tick (the client).
func TestLinger(t *testing.T) {
	r := newReceiver()
	q := start(t, r, nil)
	q.Add("a")
	r.wait(t, 1)

	r = newReceiver()
	q = start(t, r, func(o *Options[string]) { o.Linger = time.Second })
	began := time.Now()
	q.Add("a", "b", "c", "d")
	r.wait(t, 1)
	if got := r.sent(); len(got) != 1 || len(got[0]) != 3 || time.Since(began) >= time.Second {
		t.Errorf("got %q after %s, want the full batch before the tick", got, time.Since(began))
	}
	r.wait(t, 1)
	if got := r.sent(); len(got) != 2 || time.Since(began) < time.Second {
		t.Errorf("got %q after %s, want the partial batch on the tick", got, time.Since(began))
	}
}

func TestFlushReturnsTheFirstError(t *testing.T) {
	r := newReceiver()
	r.err = errors.New("503 Service Unavailable")
	q := start(t, r, func(o *Options[string]) { o.Linger = time.Hour })
	q.Add("a", "b", "c", "d")
	if err := q.Flush(context.Background()); !errors.Is(err, r.err) {
		t.Errorf("Flush = %v", err)
	}
	if n := len(r.sent()); n != 2 {
		t.Errorf("%d batches, want both sent despite the first error", n)
	}
}

func TestCloseDrains(t *testing.T) {
	r := newReceiver()
	q := start(t, r, func(o *Options[string]) { o.Linger = time.Hour })
	q.Add("a", "b", "c", "d", "e")
	unsent, err := q.Close(context.Background())
	if unsent != 0 || err != nil || len(r.sent()) != 2 {
		t.Errorf("Close = %d, %v after %q", unsent, err, r.sent())
	}
	if n, err := q.Add("f"); n != 0 || !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close = %d, %v", n, err)
	}
	if err := q.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if unsent, err := q.Close(context.Background()); unsent != 0 || err != nil {
		t.Errorf("second Close = %d, %v", unsent, err)
	}
}

// A receiver that does not answer holds Close only until its context is
// done: the batch in flight is cancelled, the rest reported unsent.
func TestCloseGivesUpWithItsContext(t *testing.T) {
	r := newReceiver()
	r.block = make(chan struct{})
	defer close(r.block)
	q := start(t, r, nil)
	q.Add("a", "b", "c")
	for deadline := time.Now().Add(5 * time.Second); q.Len() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // until the sender holds the batch
	}
	q.Add("d", "e")
	select {
	case <-q.Closing():
		t.Fatal("Closing before Close")
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	unsent, err := q.Close(ctx)
	if unsent != 2 || !errors.Is(err, context.DeadlineExceeded) || time.Since(began) > time.Second {
		t.Errorf("Close = %d, %v after %s; want the 2 queued unsent, at the deadline", unsent, err, time.Since(began))
	}
	select {
	case <-q.Closing():
	default:
		t.Error("Closing is not closed after Close")
	}
}
