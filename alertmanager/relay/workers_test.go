package relay

import (
	"sync"
	"testing"
)

// TestWorkersNeverWait: more functions than kept workers all run at once
// (a busy pool must not hold back a notification's messages), and the
// pool keeps no more than its bound.
func TestWorkersNeverWait(t *testing.T) {
	w := newWorkers(3)
	release := make(chan struct{})
	var started, done sync.WaitGroup
	const n = 10
	for range 2 { // the second round runs on the workers the first one kept
		started.Add(n)
		done.Add(n)
		for range n {
			w.Go(func() {
				started.Done()
				<-release
				done.Done()
			})
		}
		started.Wait() // all n run concurrently, or this never returns
		for range n {
			release <- struct{}{}
		}
		done.Wait()
		if got := w.running.Load(); got != 3 {
			t.Fatalf("kept workers = %d, want 3", got)
		}
	}
}
