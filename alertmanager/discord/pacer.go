package discord

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/quantum-resonance/telemetry/httpretry"
)

// ErrPacedBeyondDeadline is returned when the webhook's rate limit allows the next request
// only after the delivery deadline.
var ErrPacedBeyondDeadline = errors.New("the channel's rate limit allows no request before the delivery deadline")

// Pacer spaces the requests to one webhook by what the channel announces
// in its rate-limit headers, so that a burst of notifications waits its
// turn instead of meeting 429s. Discord answers every request with
// X-RateLimit-Remaining (requests left in the current window) and
// X-RateLimit-Reset-After (seconds until the window resets, e.g. "1.2"),
// per webhook (discord.com/developers/docs/topics/rate-limits). Its windows
// are fixed, not a leaky bucket, which is why the headers, not a token
// bucket such as golang.org/x/time/rate, decide.
//
// Until a response has told the window, requests go one at a time.
type Pacer struct {
	now func() time.Time

	mu        sync.Mutex
	remaining int       // requests left until reset; -1 unknown
	reset     time.Time // when the window resets
	inFlight  int
	changed   chan struct{} // closed when a response updates the state
}

// NewPacer returns the pacer of one webhook, which knows nothing yet.
func NewPacer() *Pacer {
	return &Pacer{now: time.Now, remaining: -1, changed: make(chan struct{})}
}

// maxJitter bounds the random delay added to a wait for a window's reset,
// so that requests held back together do not arrive in the same instant.
const maxJitter = 50 * time.Millisecond

// Wait blocks until a request may go out and counts it in flight; the
// caller must then call Done with the response's headers (nil when there
// was no response). waited tells whether the request had to wait its turn.
func (p *Pacer) Wait(ctx context.Context) (waited bool, err error) {
	for ; ; waited = true {
		p.mu.Lock()
		now := p.now()
		if p.remaining >= 0 && !p.reset.IsZero() && !now.Before(p.reset) {
			p.remaining, p.reset = -1, time.Time{} // a new window: unknown again
		}
		var delay time.Duration
		switch {
		case p.remaining > 0:
			p.remaining--
			p.inFlight++
			p.mu.Unlock()
			return waited, nil
		case p.remaining < 0 && p.inFlight == 0:
			p.inFlight++
			p.mu.Unlock()
			return waited, nil
		case p.remaining == 0:
			delay = p.reset.Sub(now) + rand.N(maxJitter)
		}
		changed := p.changed
		p.mu.Unlock()

		var timer <-chan time.Time
		if delay > 0 {
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
				return waited, ErrPacedBeyondDeadline
			}
			t := time.NewTimer(delay)
			timer = t.C
			defer t.Stop()
		}
		select {
		case <-ctx.Done():
			return waited, ctx.Err()
		case <-changed:
		case <-timer:
		}
	}
}

// Done records a response's rate-limit headers (h nil: no response) and
// ends the request's turn.
func (p *Pacer) Done(h http.Header, status int, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	now := p.now()
	if status == http.StatusTooManyRequests {
		p.remaining, p.reset = 0, now.Add(retryAfter)
	} else if h != nil {
		remaining, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
		resetAfter, err2 := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)
		if err1 == nil && err2 == nil && remaining >= 0 && resetAfter >= 0 {
			// Requests sent after this one may not be counted in its
			// Remaining yet: count them against it. Responses of one
			// window arrive in any order; the lowest count stands.
			left, reset := max(remaining-p.inFlight, 0), now.Add(httpretry.Seconds(resetAfter))
			if p.remaining < 0 {
				p.remaining, p.reset = left, reset
			} else {
				p.remaining, p.reset = min(p.remaining, left), later(p.reset, reset)
			}
		}
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
