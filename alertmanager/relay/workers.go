package relay

import "sync/atomic"

// maxIdleWorkers bounds the goroutines that stay for the next
// notification: enough for a few concurrent hub notifications.
const maxIdleWorkers = 4 * hubParallelism

// hubParallelism is the hub channel's parallel (see channels).
const hubParallelism = 8

// workers runs functions on long-lived goroutines. A goroutine started for
// each hub notification grows its stack in the HTTP client every time
// (a measurable share of the relay's CPU); a kept one has grown it already.
// Go never waits: with no idle worker it starts one, or, with maxIdle
// running, a plain goroutine.
type workers struct {
	jobs    chan func()
	running atomic.Int32
	max     int32
}

func newWorkers(maxIdle int) workers {
	return workers{jobs: make(chan func()), max: int32(maxIdle)}
}

// Go runs f on an idle worker, or else on a new goroutine.
func (w *workers) Go(f func()) {
	select {
	case w.jobs <- f:
		return
	default:
	}
	if w.running.Add(1) <= w.max {
		go w.loop(f)
		return
	}
	w.running.Add(-1)
	go f()
}

func (w *workers) loop(f func()) {
	for ; ; f = <-w.jobs {
		f()
	}
}
