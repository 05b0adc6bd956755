// Package httpretry is the retry policy every outbound HTTP sender shares,
// in the shape of Prometheus's remote-write client and Alertmanager's
// notify.Retrier: Classify reads an answer as ok, retry (after the wait
// the server asked for) or permanent; ParseRetryAfter is the one reader of
// Retry-After; Retrier.Do is the one loop, with capped exponential backoff
// and full jitter, that never starts a wait it could not finish before its
// context's deadline.
package httpretry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps any wait a server asks for, so that a broken or
// hostile value cannot stall a sender for days.
const MaxRetryAfter = time.Hour

// RecoverableError is a failed attempt worth repeating: a network error, a
// 429 or a 5xx. RetryAfter is the wait the server asked for, 0 when it named
// none (the backoff decides).
type RecoverableError struct {
	Err        error
	RetryAfter time.Duration
}

func (e *RecoverableError) Error() string { return e.Err.Error() }
func (e *RecoverableError) Unwrap() error { return e.Err }

// RejectedError is a channel's definitive "no" (a 4xx other than 429, or
// a refusal in a 2xx reply such as Slack's {"ok": false}): the payload is
// invalid or the webhook is gone, and retrying the same request cannot
// succeed. Retrier.Do returns it as it is.
type RejectedError struct {
	Status int
	Reason string // the channel's own words, shortened
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("channel rejected the message: %d %s: %s", e.Status, http.StatusText(e.Status), e.Reason)
}

// Verdict is what to do with an HTTP answer.
type Verdict int

const (
	// OK means the request was accepted.
	OK Verdict = iota
	// Retry means the same request may succeed later (429, 5xx).
	Retry
	// Permanent means repeating the same request cannot succeed (other
	// 4xx, or anything unexpected).
	Permanent
)

// Classifier reads HTTP answers. Its zero value reads the Retry-After
// header of a 429 or 5xx.
type Classifier struct {
	// RetryAfter, when set, replaces the Retry-After header as the source
	// of a retryable answer's wait: a channel that says it elsewhere
	// (Discord's X-RateLimit-Reset-After header and retry_after body)
	// plugs in here. ok false means the answer named no wait.
	RetryAfter func(status int, h http.Header, body []byte) (d time.Duration, ok bool)
	// Now is the clock for Retry-After dates; time.Now when nil.
	Now func() time.Time
}

// Classify says what to do with an answer of status with header h and the
// start of its body: OK for 2xx; Retry for 429 and 5xx, with the wait the
// server asked for (0 when none, capped at MaxRetryAfter); Permanent
// otherwise.
func (c Classifier) Classify(status int, h http.Header, body []byte) (Verdict, time.Duration) {
	switch {
	case status >= 200 && status < 300:
		return OK, 0
	case status != http.StatusTooManyRequests && (status < 500 || status > 599):
		return Permanent, 0
	}
	if c.RetryAfter != nil {
		if d, ok := c.RetryAfter(status, h, body); ok {
			return Retry, min(max(d, 0), MaxRetryAfter)
		}
		return Retry, 0
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	d, _ := ParseRetryAfter(h.Get("Retry-After"), now())
	return Retry, d
}

// ParseRetryAfter reads a Retry-After value (RFC 9110 10.2.3): delta-seconds,
// fractions accepted as Discord and some proxies send them, or an HTTP
// date, relative to now. A date in the past or a negative number is 0; the
// result is capped at MaxRetryAfter. ok is false for an absent or
// unreadable value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil { // out of range: as long as can be
			return MaxRetryAfter, true
		}
		return Seconds(s), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter), true
	}
	return 0, false
}

// isDecimal: digits with at most one decimal point, not at either end.
// (ParseFloat alone would take "-1", "1e3", "Inf" and hex.)
func isDecimal(v string) bool {
	point := -1
	for i := range len(v) {
		switch c := v[i]; {
		case c == '.' && point < 0 && i > 0 && i < len(v)-1:
			point = i
		case c < '0' || c > '9':
			return false
		}
	}
	return true
}

// Seconds is a wait given in seconds, negative as 0, capped at
// MaxRetryAfter.
func Seconds(s float64) time.Duration {
	const limit = float64(MaxRetryAfter / time.Second)
	return time.Duration(min(max(s, 0), limit) * float64(time.Second))
}

// Backoff is exponential backoff with full jitter: the wait before retry n
// is drawn uniformly from [0, min(Max, Min·2ⁿ⁻¹)], so that senders failing
// together do not retry together.
type Backoff struct {
	Min, Max time.Duration
}

// Delay is the wait before retry n (n ≥ 1).
func (b Backoff) Delay(n int) time.Duration {
	limit := b.Min << min(max(n-1, 0), 30)
	if limit > b.Max || limit <= 0 {
		limit = b.Max
	}
	if limit <= 0 {
		return 0
	}
	return rand.N(limit + 1)
}

// Retrier repeats an attempt that failed with a *RecoverableError.
type Retrier struct {
	Backoff Backoff
	// MaxAttempts bounds the attempts; 0 leaves it to the context.
	MaxAttempts int
	// MaxRetryAfter caps a server's wait, below the package's
	// MaxRetryAfter (0: that one).
	MaxRetryAfter time.Duration
	// Hurry, once closed, ends the current wait and makes the later ones
	// Backoff.Min: a sender draining its queue before shutdown retries
	// quickly rather than sleeping past its last moment.
	Hurry <-chan struct{}
}

// Do calls attempt until it succeeds, fails with an error other than a
// *RecoverableError (returned as it is), or runs out: MaxAttempts made,
// ctx done, or the next wait would end after ctx's deadline. Running out
// returns the last attempt's error wrapped with why, so that errors.As
// still finds its *RecoverableError and errors.Is the context's error.
func (r *Retrier) Do(ctx context.Context, attempt func(context.Context) error) error {
	var answered error // the last attempt that got an answer, for when ctx cuts the next one
	hurry := r.Hurry
	hurried := false
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil && answered != nil {
			return fmt.Errorf("%w (attempt %d cut by the deadline: %w)", answered, n, ctx.Err())
		}
		var recoverable *RecoverableError
		if !errors.As(err, &recoverable) || ctx.Err() != nil {
			return err
		}
		if r.MaxAttempts > 0 && n >= r.MaxAttempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, n)
		}
		answered = err
		wait := min(recoverable.RetryAfter, MaxRetryAfter)
		if r.MaxRetryAfter > 0 {
			wait = min(wait, r.MaxRetryAfter)
		}
		switch {
		case hurried:
			wait = r.Backoff.Min
		case wait <= 0:
			wait = r.Backoff.Delay(n)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("%w (gave up after %d attempts: the next one, in %s, would miss the deadline)", err, n, wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up after %d attempts: %w)", err, n, ctx.Err())
		case <-hurry:
			t.Stop()
			hurry, hurried = nil, true
		case <-t.C:
		}
	}
}
