package loki

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
)

// fakeLoki checks each push the way Loki's distributor does and answers
// with the scripted status codes in turn (204 once they run out).
type fakeLoki struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	pushes   []PushRequest
	got      chan struct{}
}

func (l *fakeLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != PushPath {
		l.t.Errorf("%s %s, want POST %s", r.Method, r.URL.Path, PushPath)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		l.t.Errorf("Content-Type %q", ct)
	}
	if org := r.Header.Get("X-Scope-OrgID"); org != "tenant-1" {
		l.t.Errorf("X-Scope-OrgID %q", org)
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "gzip" {
		l.t.Errorf("Content-Encoding %q, want gzip", enc)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(zr)
	var req PushRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad push body: "+err.Error(), http.StatusBadRequest)
		l.t.Errorf("body %s: %v", body, err)
		return
	}
	for _, s := range req.Streams {
		if len(s.Stream) == 0 {
			l.t.Errorf("stream without labels")
		}
		for _, v := range s.Values {
			if _, err := time.Parse(time.RFC3339, v[0]); err == nil || strings.ContainsAny(v[0], ".e") {
				l.t.Errorf("timestamp %q is not Unix nanoseconds", v[0])
			}
		}
	}
	l.mu.Lock()
	code := http.StatusNoContent
	if len(l.statuses) > 0 {
		code, l.statuses = l.statuses[0], l.statuses[1:]
	}
	if code == http.StatusNoContent {
		l.pushes = append(l.pushes, req)
	}
	l.mu.Unlock()
	if code == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(code)
	l.got <- struct{}{}
}

func newMetrics() Metrics {
	return Metrics{
		Sent:    prometheus.NewCounter(prometheus.CounterOpts{Name: "sent"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dropped"}, []string{"reason"}),
		Errors:  prometheus.NewCounter(prometheus.CounterOpts{Name: "errors"}),
	}
}

func start(t *testing.T, statuses ...int) (*fakeLoki, *Forwarder, Metrics) {
	return startWith(t, nil, statuses...)
}

func startWith(t *testing.T, edit func(*Options), statuses ...int) (*fakeLoki, *Forwarder, Metrics) {
	loki := &fakeLoki{t: t, statuses: statuses, got: make(chan struct{}, 100)}
	srv := httptest.NewServer(loki)
	t.Cleanup(srv.Close)
	m := newMetrics()
	o := Options{
		URL: srv.URL + "/", TenantID: "tenant-1", QueueSize: 10, MaxRetries: 2,
		Client: srv.Client(), Logger: promslog.NewNopLogger(), Metrics: m,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}
	if edit != nil {
		edit(&o)
	}
	f := New(o)
	t.Cleanup(func() { f.Close() })
	return loki, f, m
}

func wait(t *testing.T, l *fakeLoki, n int) {
	t.Helper()
	for range n {
		select {
		case <-l.got:
		case <-time.After(5 * time.Second):
			t.Fatal("no push arrived")
		}
	}
}

var t0 = time.Unix(1765418056, 123000000)

func entries() []Entry {
	web := Stream{Service: "quantum-resonance", Level: "info", Source: "quantum-resonance-clean"}
	errs := Stream{Service: "quantum-resonance", Level: "error"}
	return []Entry{
		{Stream: web, Time: t0.Add(time.Second), Line: `{"message":"second"}`},
		{Stream: errs, Time: t0, Line: `{"message":"failed"}`},
		{Stream: web, Time: t0, Line: `{"message":"first"}`},
	}
}

func TestPushBodyIsLokiFormat(t *testing.T) {
	loki, f, m := start(t)
	f.Enqueue(entries())
	wait(t, loki, 1)
	f.Close()
	got, _ := json.Marshal(loki.pushes[0])
	want := `{"streams":[` +
		`{"stream":{"level":"info","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418056123000000","{\"message\":\"first\"}"],["1765418057123000000","{\"message\":\"second\"}"]]},` +
		`{"stream":{"level":"error","service":"quantum-resonance"},"values":[["1765418056123000000","{\"message\":\"failed\"}"]]}]}`
	if string(got) != want {
		t.Errorf("push\n%s\nwant\n%s", got, want)
	}
	if v := testutil.ToFloat64(m.Sent); v != 3 {
		t.Errorf("sent %v, want 3", v)
	}
}

func TestRetriesRateLimitAndServerErrors(t *testing.T) {
	loki, f, m := start(t, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	f.Enqueue(entries())
	wait(t, loki, 3)
	f.Close()
	if v := testutil.ToFloat64(m.Sent); v != 3 {
		t.Errorf("sent %v, want 3 after two retries", v)
	}
	if v := testutil.ToFloat64(m.Errors); v != 2 {
		t.Errorf("errors %v, want 2", v)
	}
}

func TestRetriesExhausted(t *testing.T) {
	loki, f, m := start(t, 500, 500, 500)
	f.Enqueue(entries())
	wait(t, loki, 3) // first attempt and MaxRetries=2
	f.Close()
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("retries_exhausted")); v != 3 {
		t.Errorf("dropped %v, want 3", v)
	}
}

// A refusal retrying cannot fix, and that no split would change (here an
// unknown tenant), drops the batch without a retry.
func TestRefusalIsNotRetried(t *testing.T) {
	loki, f, m := start(t, http.StatusUnauthorized)
	f.Enqueue(entries())
	wait(t, loki, 1)
	f.Close()
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("rejected")); v != 3 {
		t.Errorf("rejected %v, want 3", v)
	}
	if v := testutil.ToFloat64(m.Errors); v != 1 {
		t.Errorf("errors %v, want 1 (no retry)", v)
	}
}

// partialLoki behaves as Loki's distributor does with a push holding an
// entry it refuses: it stores the valid entries (dropping exact
// duplicates, as its ingesters do) and answers 400 naming the bad one.
type partialLoki struct {
	mu       sync.Mutex
	stored   map[string]bool
	requests int
}

func (l *partialLoki) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req PushRequest
	if err := json.NewDecoder(zr).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	var refused []string
	for _, s := range req.Streams {
		for _, v := range s.Values {
			if strings.Contains(v[1], "too old") {
				refused = append(refused, fmt.Sprintf("entry for stream '%v' has timestamp too old: %s", s.Stream, v[0]))
				continue
			}
			l.stored[v[0]+v[1]] = true
		}
	}
	if len(refused) > 0 {
		http.Error(w, strings.Join(refused, "\n"), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// One entry Loki refuses costs only itself: the batch is split until the
// refused entry is alone.
func TestRefusedEntryAloneIsDropped(t *testing.T) {
	loki := &partialLoki{stored: map[string]bool{}}
	srv := httptest.NewServer(loki)
	defer srv.Close()
	m := newMetrics()
	f := New(Options{URL: srv.URL, QueueSize: 1000, Client: srv.Client(), Logger: promslog.NewNopLogger(), Metrics: m, MinBackoff: time.Millisecond})
	batch := make([]Entry, 100)
	for i := range batch {
		line := fmt.Sprintf(`{"message":"entry %d"}`, i)
		if i == 61 {
			line = `{"message":"too old"}`
		}
		batch[i] = Entry{Stream: Stream{Service: "s", Level: "info"}, Time: t0.Add(time.Duration(i) * time.Millisecond), Line: line}
	}
	f.Enqueue(batch)
	f.Close()
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("rejected")); v != 1 {
		t.Errorf("rejected %v, want the 1 entry Loki refused", v)
	}
	if v := testutil.ToFloat64(m.Sent); v != 99 {
		t.Errorf("sent %v, want 99", v)
	}
	loki.mu.Lock()
	defer loki.mu.Unlock()
	if len(loki.stored) != 99 {
		t.Errorf("Loki holds %d entries, want 99", len(loki.stored))
	}
	// log2(100) rounds of splitting, not one request per entry.
	if loki.requests > 20 {
		t.Errorf("%d requests for one bad entry in 100", loki.requests)
	}
}

// The queue and the batches are bounded in bytes: 10,000 entries of 1 MiB
// would otherwise be 10 GB.
func TestQueueAndBatchesAreBoundedInBytes(t *testing.T) {
	loki, f, m := startWith(t, func(o *Options) { o.QueueSize = 10000; o.QueueBytes = 300 << 10; o.BatchBytes = 150 << 10 })
	big := Entry{Stream: Stream{Service: "s", Level: "info"}, Time: t0, Line: strings.Repeat("x", 100<<10)}
	f.Enqueue([]Entry{big, big, big, big, big})
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("queue_full")); v < 2 {
		t.Errorf("queue_full drops %v, want the entries beyond 300 KiB", v)
	}
	sent := 5 - int(testutil.ToFloat64(m.Dropped.WithLabelValues("queue_full")))
	wait(t, loki, sent) // one 100 KiB entry a batch of at most 150 KiB
	f.Close()
	for _, p := range loki.pushes {
		n := 0
		for _, s := range p.Streams {
			n += len(s.Values)
		}
		if n != 1 {
			t.Errorf("a push of %d entries of 100 KiB, batch_bytes is 150 KiB", n)
		}
	}
}

func TestQueueIsBounded(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	m := newMetrics()
	f := New(Options{URL: srv.URL, QueueSize: 10, BatchSize: 5, Client: srv.Client(), Logger: promslog.NewNopLogger(), Metrics: m, FlushTimeout: 50 * time.Millisecond})
	many := make([]Entry, 0, 40)
	for range 40 {
		many = append(many, entries()[0])
	}
	f.Enqueue(many[:5])
	// Let the sender take those 5 into its (stalled) push.
	for deadline := time.Now().Add(5 * time.Second); f.queue.Len() > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	f.Enqueue(many[5:])
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("queue_full")); v != 25 {
		t.Errorf("queue_full drops %v, want 25 (35 offered, room for 10)", v)
	}
	f.Close()
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("shutdown")); v != 15 {
		t.Errorf("shutdown drops %v, want 15 (5 in flight, 10 queued)", v)
	}
}
