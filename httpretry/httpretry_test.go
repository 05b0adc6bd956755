package httpretry

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"   ", 0, false},
		{"7", 7 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"0.300", 300 * time.Millisecond, true}, // Discord's headers
		{"1.5", 1500 * time.Millisecond, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-90 * time.Second).Format(http.TimeFormat), 0, true},                           // a date in the past: go now
		{now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter, true},                  // far future: capped
		{now.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second, true},                 // obsolete date forms HTTP still allows
		{"86400", MaxRetryAfter, true},                                                          // a day: capped
		{"99999999999999999999999999999999999999999999999999999999999999", MaxRetryAfter, true}, // overflows float64's range and Duration
		{"-3", 0, false},
		{"soon", 0, false},
		{"1e3", 0, false},
		{"Inf", 0, false},
		{"NaN", 0, false},
		{"0x10", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"1.2.3", 0, false},
		{"7 seconds", 0, false},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseRetryAfter(%q) = %s, %t; want %s, %t", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestClassify(t *testing.T) {
	header := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	plain := Classifier{Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name     string
		status   int
		header   http.Header
		want     Verdict
		wantWait time.Duration
	}{
		{"200", 200, nil, OK, 0},
		{"204 (Loki)", 204, nil, OK, 0},
		{"429 with seconds", 429, header("Retry-After", "3"), Retry, 3 * time.Second},
		{"429 with a fraction", 429, header("Retry-After", "0.25"), Retry, 250 * time.Millisecond},
		{"429 with garbage: the backoff decides", 429, header("Retry-After", "later"), Retry, 0},
		{"429 without the header", 429, nil, Retry, 0},
		{"429 with a huge value", 429, header("Retry-After", "1000000"), Retry, MaxRetryAfter},
		{"503 with a date", 503, header("Retry-After", now.Add(time.Minute).Format(http.TimeFormat)), Retry, time.Minute},
		{"500", 500, nil, Retry, 0},
		{"502", 502, nil, Retry, 0},
		{"400", 400, header("Retry-After", "3"), Permanent, 0},
		{"401", 401, nil, Permanent, 0},
		{"404 (webhook deleted)", 404, nil, Permanent, 0},
		{"413", 413, nil, Permanent, 0},
		{"301 (not followed: unexpected)", 301, nil, Permanent, 0},
		{"600 (no such class)", 600, nil, Permanent, 0},
		{"100", 100, nil, Permanent, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			v, wait := plain.Classify(tc.status, h, nil)
			if v != tc.want || wait != tc.wantWait {
				t.Errorf("Classify(%d, %v) = %v, %s; want %v, %s", tc.status, tc.header, v, wait, tc.want, tc.wantWait)
			}
		})
	}
}

// A channel's own reading of the wait replaces the header's, for retryable
// answers only; what it returns is capped too.
func TestClassifyWithAChannelsRetryAfter(t *testing.T) {
	var asked []int
	c := Classifier{RetryAfter: func(status int, _ http.Header, body []byte) (time.Duration, bool) {
		asked = append(asked, status)
		if strings.Contains(string(body), "retry_after") {
			return 48 * time.Hour, true
		}
		return 0, false
	}}
	h := http.Header{"Retry-After": {"5"}}
	if v, wait := c.Classify(429, h, []byte(`{"retry_after": 172800}`)); v != Retry || wait != MaxRetryAfter {
		t.Errorf("body's wait: %v %s", v, wait)
	}
	if v, wait := c.Classify(503, h, []byte("down")); v != Retry || wait != 0 {
		t.Errorf("no wait named by the hook: %v %s, want the backoff (0)", v, wait)
	}
	if v, _ := c.Classify(404, h, []byte(`{"retry_after": 1}`)); v != Permanent {
		t.Errorf("404: %v", v)
	}
	if v, _ := c.Classify(200, h, nil); v != OK {
		t.Errorf("200: %v", v)
	}
	if len(asked) != 2 {
		t.Errorf("hook asked for statuses %v, want only the two retryable ones", asked)
	}
}

func TestBackoffIsCappedWithFullJitter(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for n, limit := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 100: time.Second} {
		var low, high bool
		for range 2000 {
			d := b.Delay(n)
			if d < 0 || d > limit {
				t.Fatalf("delay(%d) = %s, want within [0, %s]", n, d, limit)
			}
			low = low || d < limit/4
			high = high || d > limit*3/4
		}
		if !low || !high {
			t.Errorf("delay(%d) does not spread over [0, %s] (full jitter)", n, limit)
		}
	}
	if d := (Backoff{}).Delay(3); d != 0 {
		t.Errorf("zero backoff: %s", d)
	}
}

// attempts answers from a script of errors, then nil, recording when each
// attempt came.
type attempts struct {
	script []error
	times  []time.Time
}

func (a *attempts) do(context.Context) error {
	a.times = append(a.times, time.Now())
	if len(a.script) == 0 {
		return nil
	}
	err := a.script[0]
	a.script = a.script[1:]
	return err
}

var errDown = errors.New("503 Service Unavailable")

func TestDoRetriesUntilSuccess(t *testing.T) {
	a := &attempts{script: []error{&RecoverableError{Err: errDown}, &RecoverableError{Err: errDown}}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}}
	if err := r.Do(context.Background(), a.do); err != nil {
		t.Fatal(err)
	}
	if len(a.times) != 3 {
		t.Errorf("%d attempts, want 3", len(a.times))
	}
}

func TestDoHonoursRetryAfter(t *testing.T) {
	a := &attempts{script: []error{&RecoverableError{Err: errDown, RetryAfter: 200 * time.Millisecond}}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}}
	if err := r.Do(context.Background(), a.do); err != nil {
		t.Fatal(err)
	}
	if waited := a.times[1].Sub(a.times[0]); waited < 200*time.Millisecond {
		t.Errorf("retried after %s, the server asked for 200ms", waited)
	}
}

func TestDoCapsRetryAfter(t *testing.T) {
	a := &attempts{script: []error{&RecoverableError{Err: errDown, RetryAfter: time.Hour}}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}, MaxRetryAfter: 20 * time.Millisecond}
	if err := r.Do(context.Background(), a.do); err != nil {
		t.Fatal(err)
	}
	if waited := a.times[1].Sub(a.times[0]); waited < 20*time.Millisecond || waited > time.Second {
		t.Errorf("retried after %s, want the cap of 20ms", waited)
	}
}

func TestDoStopsAtAPermanentError(t *testing.T) {
	rejected := errors.New("400 Bad Request")
	a := &attempts{script: []error{&RecoverableError{Err: errDown}, rejected, nil}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}}
	if err := r.Do(context.Background(), a.do); !errors.Is(err, rejected) || errors.Unwrap(err) != nil {
		t.Errorf("got %v, want the permanent error as it is", err)
	}
	if len(a.times) != 2 {
		t.Errorf("%d attempts, want 2", len(a.times))
	}
}

func TestDoStopsAfterMaxAttempts(t *testing.T) {
	a := &attempts{script: []error{&RecoverableError{Err: errDown}, &RecoverableError{Err: errDown}, &RecoverableError{Err: errDown}, nil}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}, MaxAttempts: 3}
	err := r.Do(context.Background(), a.do)
	var recoverable *RecoverableError
	if !errors.As(err, &recoverable) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("got %v, want the last error, still recoverable, after 3 attempts", err)
	}
	if len(a.times) != 3 {
		t.Errorf("%d attempts, want 3", len(a.times))
	}
}

// A wait that would end after the deadline is not started: the caller
// learns at once, with time left to answer its own client.
func TestDoGivesUpBeforeAWaitPastTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a := &attempts{script: []error{&RecoverableError{Err: errDown, RetryAfter: 30 * time.Second}}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}}
	start := time.Now()
	err := r.Do(ctx, a.do)
	if err == nil || !strings.Contains(err.Error(), "would miss the deadline") || !errors.Is(err, errDown) {
		t.Errorf("got %v", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("gave up after %s, want at once", took)
	}
}

// An attempt cut by the deadline reports the channel's last answer, which
// says more than "context deadline exceeded".
func TestDoReportsTheLastAnswerWhenTheDeadlineCutsAnAttempt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n := 0
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}}
	err := r.Do(ctx, func(ctx context.Context) error {
		n++
		if n == 1 {
			return &RecoverableError{Err: errDown}
		}
		<-ctx.Done()
		return &RecoverableError{Err: ctx.Err()}
	})
	if !errors.Is(err, errDown) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "attempt 2 cut by the deadline") {
		t.Errorf("got %v", err)
	}
}

func TestDoStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a := &attempts{script: []error{&RecoverableError{Err: errDown, RetryAfter: time.Minute}}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}}
	time.AfterFunc(20*time.Millisecond, cancel)
	err := r.Do(ctx, a.do)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errDown) || len(a.times) != 1 {
		t.Errorf("got %v after %d attempts", err, len(a.times))
	}
}

// Hurry ends a long wait and shortens the later ones to Backoff.Min.
func TestDoHurries(t *testing.T) {
	hurry := make(chan struct{})
	a := &attempts{script: []error{
		&RecoverableError{Err: errDown, RetryAfter: time.Minute},
		&RecoverableError{Err: errDown, RetryAfter: time.Minute},
	}}
	r := Retrier{Backoff: Backoff{Min: time.Millisecond, Max: time.Minute}, Hurry: hurry}
	time.AfterFunc(20*time.Millisecond, func() { close(hurry) })
	start := time.Now()
	if err := r.Do(context.Background(), a.do); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); len(a.times) != 3 || took > 5*time.Second {
		t.Errorf("%d attempts in %s, want 3 soon after Hurry", len(a.times), took)
	}
}
