package collector

import (
	"context"
	"sync"
	"time"
)

// background runs a job at once and then again after the delay the job
// returns, until it is stopped. Probes and the wallet use it: their calls cost
// money or rate limit, so they run on their own clock, never per scrape.
type background struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// startBackground runs job in its own goroutine. job gets a context that is
// cancelled by stop, and returns how long to wait before its next run.
func startBackground(job func(context.Context) time.Duration) *background {
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			delay := job(ctx)
			timer := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
	}()
	return b
}

// stop cancels the job, which aborts a request in flight, and waits for it
// to return, so that a reload never has two runs of the same job at once
// for longer than one aborted request.
func (b *background) stop() {
	b.once.Do(b.cancel)
	<-b.done
}
