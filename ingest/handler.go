// Package ingest is the exporter's ingest API: the app pushes log batches,
// events and business figures over HTTP, and they become metrics.
//
// Every request goes through the same steps: method, authentication, media
// type, body (gzip inflated, size limited), decode and validate the whole
// batch, and only then apply it to the Store, so that a bad batch changes
// nothing.
package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"

	"github.com/quantum-resonance/telemetry/bearer"
	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest/loki"
)

// Routes of the ingest API. LogsAliasPath is the plan's HubLogStream URL.
const (
	LogsPath      = "/api/v1/logs"
	LogsAliasPath = "/api/logs"
	EventsPath    = "/api/v1/events"
	BusinessPath  = "/api/v1/business"
)

// API serves the ingest routes. It is built once and outlives config
// reloads, which it takes through ApplyConfig.
type API struct {
	store  *Store
	logger *slog.Logger
	now    func() time.Time

	keys    atomic.Pointer[bearer.KeySet] // nil: loopback clients only
	maxBody atomic.Int64

	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	// bodyTimeout bounds the reading of one request's body.
	bodyTimeout time.Duration

	lokiMu  sync.Mutex // guards lokiCfg and the swap of forwarder
	lokiCfg config.LokiConfig
	loki    atomic.Pointer[loki.Forwarder] // nil: off
}

// NewAPI returns an API writing to store. It refuses every request until
// ApplyConfig has run.
func NewAPI(store *Store, logger *slog.Logger) *API {
	return &API{store: store, logger: logger, now: time.Now, bodyTimeout: BodyTimeout}
}

// ApplyConfig takes a new config: it reads the keys file and builds the
// Loki client first, and changes nothing when either fails, so that a bad
// reload keeps the running keys.
func (a *API) ApplyConfig(cfg config.IngestConfig, service string) error {
	var keys *bearer.KeySet
	if cfg.APIKeysFile != "" {
		var err error
		if keys, err = bearer.Load(cfg.APIKeysFile); err != nil {
			return fmt.Errorf("ingest.api_keys_file: %w", err)
		}
	}
	if keys == nil && a.keys.Load() != nil {
		// Dropping the file would open the API to every loopback client
		// (and whatever proxies through one): a restart makes that choice
		// deliberate.
		return errors.New("ingest.api_keys_file was removed: the running keys stay; restart the exporter to run without keys")
	}
	var next *loki.Forwarder
	a.lokiMu.Lock()
	defer a.lokiMu.Unlock()
	lokiChanged := !reflect.DeepEqual(cfg.Loki, a.lokiCfg) || (cfg.Loki.URL != "" && a.loki.Load() == nil)
	if lokiChanged && cfg.Loki.URL != "" {
		client, err := commonconfig.NewClientFromConfig(cfg.Loki.HTTPClientConfig, "resonance_loki")
		if err != nil {
			return fmt.Errorf("ingest.loki.http_config: %w", err)
		}
		next = loki.New(loki.Options{
			URL:        cfg.Loki.URL,
			TenantID:   cfg.Loki.TenantID,
			QueueSize:  cfg.Loki.QueueSize,
			QueueBytes: cfg.Loki.QueueBytes,
			BatchBytes: cfg.Loki.BatchBytes,
			MaxRetries: cfg.Loki.MaxRetries,
			Client:     client,
			Logger:     a.logger.With("component", "loki"),
			Metrics:    a.store.loki,
		})
	}

	// Nothing can fail from here on.
	if keys == nil {
		a.logger.Warn("NO INGEST API KEYS: ingest.api_keys_file is not set, so the ingest API accepts only direct loopback clients: " +
			"requests from other addresses, relayed by a proxy (Forwarded, X-Forwarded-For, X-Forwarded-Host, X-Real-IP, Via, True-Client-IP, X-Client-IP) or with a Host other than localhost or a loopback address are refused. " +
			"A proxy, sidecar or tunnel on this host still makes remote callers local: set api_keys_file whenever one may reach the exporter")
	} else {
		a.logger.Info("Ingest API keys loaded", "keys", keys.Len())
	}
	a.keys.Store(keys)
	a.maxBody.Store(cfg.MaxBodyBytes)
	a.maxInFlight.Store(int64(cfg.MaxConcurrentRequests))
	a.store.SetLimits(Limits{Service: service, MaxLabelValues: cfg.MaxLabelValues, MaxSeriesPerMetric: cfg.MaxSeriesPerMetric, BusinessTTL: time.Duration(cfg.BusinessTTL)})
	if lokiChanged {
		prev := a.loki.Swap(next)
		if prev != nil {
			prev.Close()
		}
		a.lokiCfg = cfg.Loki
		if next != nil {
			a.logger.Info("Forwarding log batches to Loki", "queue_size", cfg.Loki.QueueSize)
		}
	}
	return nil
}

// Close stops the Loki forwarder.
func (a *API) Close() error {
	a.lokiMu.Lock()
	defer a.lokiMu.Unlock()
	if f := a.loki.Swap(nil); f != nil {
		return f.Close()
	}
	return nil
}

// Register mounts the ingest routes on mux.
func (a *API) Register(mux *http.ServeMux) {
	logs := a.handle(LogsPath, http.MethodPost, a.ingestLogs)
	mux.Handle(LogsPath, logs)
	mux.Handle(LogsAliasPath, logs)
	mux.Handle(EventsPath, a.handle(EventsPath, http.MethodPost, a.ingestEvents))
	mux.Handle(BusinessPath, a.handle(BusinessPath, http.MethodPut, a.ingestBusiness))
}

// requestMetrics are the ingest API's own metrics, counted by handle. The
// Store holds and exposes them, so they outlive config reloads.
type requestMetrics struct {
	requests *prometheus.CounterVec
	rejected *prometheus.CounterVec
	accepted *prometheus.CounterVec
}

func newRequestMetrics() requestMetrics {
	return requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_ingest_requests_total",
			Help: "Requests to the ingest API, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_ingest_rejected_requests_total",
			Help: "Requests to the ingest API that were refused, by reason (unauthorized, forbidden, method, media_type, too_large, timeout, bad_encoding, invalid, overloaded).",
		}, []string{"reason"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_ingest_accepted_items_total",
			Help: "Log entries, events and business values accepted by the ingest API, by endpoint.",
		}, []string{"endpoint"}),
	}
}

// requestError is a refusal: its status, the reason it is counted under and
// what the client is told.
type requestError struct {
	code   int
	reason string
	msg    string
	index  int // entry index for 400s, else -1
}

func (e *requestError) Error() string { return e.msg }

func refuse(code int, reason, format string, args ...any) *requestError {
	return &requestError{code: code, reason: reason, msg: fmt.Sprintf(format, args...), index: -1}
}

type errorBody struct {
	Error string `json:"error"`
	Index *int   `json:"index,omitempty"`
}

// handle wraps an ingest function with the steps common to every route:
// method, authentication, media type, body, and the self-metrics.
func (a *API) handle(endpoint, method string, ingest func(body []byte) (int, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := a.serve(method, w, r, ingest)
		if err == nil {
			a.store.api.accepted.WithLabelValues(endpoint).Add(float64(n))
			a.store.api.requests.WithLabelValues(endpoint, "202").Inc()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write(acceptedBody(n))
			return
		}
		var re *requestError
		if !errors.As(err, &re) {
			re = &requestError{code: http.StatusInternalServerError, reason: "internal", msg: err.Error(), index: -1}
		}
		a.store.api.rejected.WithLabelValues(re.reason).Inc()
		a.store.api.requests.WithLabelValues(endpoint, strconv.Itoa(re.code)).Inc()
		switch re.code {
		case http.StatusServiceUnavailable:
			w.Header().Set("Retry-After", RetryAfterSeconds)
		case http.StatusMethodNotAllowed:
			w.Header().Set("Allow", method)
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="resonance-ingest"`)
		}
		body := errorBody{Error: re.msg}
		if re.index >= 0 {
			body.Index = &re.index
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(re.code)
		_ = json.NewEncoder(w).Encode(body)
	})
}

func acceptedBody(n int) []byte {
	b := make([]byte, 0, 32)
	b = append(b, `{"accepted":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "}\n"...)
}

// RetryAfterSeconds is the Retry-After of a 503: requests are served in
// milliseconds, so a second is plenty for a slot to free up.
const RetryAfterSeconds = "1"

// BodyTimeout bounds the reading of a request body, from the end of its
// headers: a body of max_body_bytes (1 MiB by default) takes a fraction of
// a second on any link the app pushes over, and a client that trickles its
// body gets 408 instead of holding a connection for the server's whole
// ReadTimeout.
const BodyTimeout = 10 * time.Second

func (a *API) serve(method string, w http.ResponseWriter, r *http.Request, ingest func([]byte) (int, error)) (int, error) {
	// Refuse at once when the slots are taken, before reading a body
	// that could not be served anyway. Only requests being decoded and
	// applied hold a slot, never one whose body is still arriving: 40
	// clients trickling their bodies took every slot and locked out every
	// push until the server's ReadTimeout cut them off.
	if n := a.inFlight.Load(); n >= a.maxInFlight.Load() {
		return 0, overloaded(n)
	}
	if r.Method != method {
		return 0, refuse(http.StatusMethodNotAllowed, "method", "%s requires %s", r.URL.Path, method)
	}
	if err := a.authorize(r); err != nil {
		return 0, err
	}
	if err := checkMediaType(r.Header.Get("Content-Type")); err != nil {
		return 0, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	defer putBuf(buf)
	rc := http.NewResponseController(w)
	deadline := a.bodyTimeout > 0
	if deadline {
		if err := rc.SetReadDeadline(time.Now().Add(a.bodyTimeout)); err != nil {
			// Without the deadline the server's own ReadTimeout still
			// bounds the body; a writer that cannot set one (a test's
			// recorder, a wrapping middleware) is not an error.
			deadline = false
			if !errors.Is(err, http.ErrNotSupported) {
				a.logger.Debug("Cannot set the body read deadline", "err", err)
			}
		}
	}
	if err := a.readBody(r, buf); err != nil {
		return 0, err
	}
	if deadline {
		// The body is in: the deadline must not outlive it, or the
		// server's background read of the connection would time out
		// under a slow decode and cancel the request.
		_ = rc.SetReadDeadline(time.Time{})
	}
	// The slot bounds the CPU of decoding and the memory of decoded
	// batches; the bodies read so far are bounded by what clients sent
	// within BodyTimeout.
	if n := a.inFlight.Add(1); n > a.maxInFlight.Load() {
		a.inFlight.Add(-1)
		return 0, overloaded(n - 1)
	}
	defer a.inFlight.Add(-1)
	n, err := ingest(buf.Bytes())
	if err != nil {
		var in *InputError
		var nj *NotJSONError
		switch {
		case errors.As(err, &in):
			return 0, &requestError{code: http.StatusBadRequest, reason: "invalid", msg: in.Error(), index: in.Index}
		case errors.As(err, &nj):
			// Like Loki, Pushgateway and Prometheus: a body that cannot be
			// parsed is a bad request; 415 is for the media type itself.
			return 0, refuse(http.StatusBadRequest, "invalid", "%s", nj.Error())
		}
		return 0, err
	}
	return n, nil
}

func overloaded(n int64) error {
	return refuse(http.StatusServiceUnavailable, "overloaded", "%d ingest requests in flight (ingest.max_concurrent_requests): retry later", n)
}

// APIKeyHeader carries the ingest key when Authorization is taken: with
// basic_auth_users in --web.config.file, exporter-toolkit checks
// Authorization on every path, so a client sends its basic credentials
// there and the ingest key here.
const APIKeyHeader = "X-Api-Key"

func (a *API) authorize(r *http.Request) error {
	keys := a.keys.Load()
	if keys == nil {
		return authorizeLoopback(r)
	}
	key, ok := requestKey(r)
	if !ok || !keys.Match(key) {
		return refuse(http.StatusUnauthorized, "unauthorized", "missing or invalid bearer key")
	}
	return nil
}

// requestKey returns the key of X-Api-Key, else of Authorization: Bearer.
func requestKey(r *http.Request) (string, bool) {
	if k := strings.TrimSpace(r.Header.Get(APIKeyHeader)); k != "" {
		return k, true
	}
	return bearer.Token(r.Header.Get("Authorization"))
}

// proxyHeaders mark a request relayed by a proxy: on loopback, that proxy
// (a sidecar, an ingress, an SSH or port-forward tunnel behind one) may be
// carrying a remote caller.
// True-Client-IP (Akamai, Cloudflare) and X-Client-IP name the caller as
// X-Real-IP does; Via is what an RFC 9110 proxy adds whatever else it sets.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip", "Via", "True-Client-Ip", "X-Client-Ip"}

// authorizeLoopback is the rule without keys: a direct client on loopback,
// addressing the exporter by a loopback name, so that neither a local
// proxy nor a DNS-rebound browser page can push.
func authorizeLoopback(r *http.Request) error {
	if !isLoopback(r.RemoteAddr) {
		return refuse(http.StatusForbidden, "forbidden", "no ingest API keys are configured: only loopback clients may push")
	}
	for _, h := range proxyHeaders {
		if _, ok := r.Header[h]; ok {
			return refuse(http.StatusForbidden, "forbidden", "no ingest API keys are configured: requests relayed by a proxy (%s header) are refused", h)
		}
	}
	if !isLoopbackHost(r.Host) {
		return refuse(http.StatusForbidden, "forbidden", "no ingest API keys are configured: the Host header must be localhost or a loopback address")
	}
	return nil
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isLoopbackHost reports whether a Host header names loopback: localhost
// or a loopback address, with or without a port.
func isLoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkMediaType(ct string) error {
	if ct == "application/json" { // the common case, without parsing
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return refuse(http.StatusUnsupportedMediaType, "media_type", "Content-Type must be application/json")
	}
	return nil
}

var (
	bufPool  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzipPool sync.Pool // *gzip.Reader
)

// maxPooledBuf keeps one huge body from pinning its buffer in the pool.
const maxPooledBuf = 4 << 20

func putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuf {
		return
	}
	b.Reset()
	bufPool.Put(b)
}

// readBody reads the body into buf, inflating gzip. The limit applies to
// the inflated bytes, so a small gzip bomb is cut off at the limit.
func (a *API) readBody(r *http.Request, buf *bytes.Buffer) error {
	limit := a.maxBody.Load()
	tooLarge := refuse(http.StatusRequestEntityTooLarge, "too_large", "body larger than %d bytes (ingest.max_body_bytes)", limit)
	var body io.Reader = r.Body
	// compressed counts what is read of a gzip body: when it ran out, the
	// answer is 413 whatever gzip made of the truncated stream.
	var compressed *io.LimitedReader
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		if r.ContentLength > limit {
			return tooLarge
		}
	case "gzip", "x-gzip":
		// The compressed body cannot sensibly be larger than the
		// inflated limit either.
		compressed = &io.LimitedReader{R: r.Body, N: limit + 1}
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(compressed)
		} else {
			err = zr.Reset(compressed)
		}
		if compressed.N == 0 {
			return tooLarge
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return a.bodyTimedOut()
			}
			return refuse(http.StatusBadRequest, "bad_encoding", "Content-Encoding gzip: %s", err)
		}
		defer gzipPool.Put(zr)
		body = zr
	default:
		return refuse(http.StatusUnsupportedMediaType, "media_type", "Content-Encoding %q is not supported: send identity or gzip", truncateForError(enc))
	}
	if r.ContentLength > 0 && r.ContentLength <= limit {
		// Content-Length is only a claim: a client that announces a
		// megabyte and sends nothing gets a small buffer, which grows
		// with what actually arrives.
		buf.Grow(int(min(r.ContentLength, maxPreallocBody)))
	}
	n, err := buf.ReadFrom(io.LimitReader(body, limit+1))
	if compressed != nil && compressed.N == 0 {
		return tooLarge
	}
	if err != nil {
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return a.bodyTimedOut()
		case compressed != nil && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
			return refuse(http.StatusBadRequest, "bad_encoding", "Content-Encoding gzip: %s", err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			// A plain body cut short: it is no gzip stream that failed.
			return refuse(http.StatusBadRequest, "bad_body", "the body ends before its Content-Length of %d bytes", r.ContentLength)
		}
		return refuse(http.StatusBadRequest, "bad_body", "reading the body: %s", err)
	}
	if n > limit {
		return tooLarge
	}
	return nil
}

// maxPreallocBody bounds the buffer allocated for a body before it is read.
const maxPreallocBody = 64 << 10

func (a *API) bodyTimedOut() error {
	return refuse(http.StatusRequestTimeout, "timeout", "the body did not arrive within %s", a.bodyTimeout)
}

func (a *API) ingestLogs(body []byte) (int, error) {
	b, err := DecodeLogs(body, a.now())
	if err != nil {
		return 0, err
	}
	a.store.AddLogs(b)
	if f := a.loki.Load(); f != nil {
		f.Enqueue(a.lokiEntries(b))
	}
	return len(b.Logs), nil
}

func (a *API) ingestEvents(body []byte) (int, error) {
	b, err := DecodeEvents(body, a.now())
	if err != nil {
		return 0, err
	}
	a.store.AddEvents(b)
	return len(b.Events), nil
}

func (a *API) ingestBusiness(body []byte) (int, error) {
	u, err := DecodeBusiness(body, a.now())
	if err != nil {
		return 0, err
	}
	a.store.SetBusiness(u)
	return u.Len(), nil
}

// lokiLine is the line sent to Loki: JSON, so that LogQL's json parser
// gives back message and metadata. Timestamp is the entry's own time when
// it was outside what Loki accepts and the entry went with the receive
// time instead.
type lokiLine struct {
	Message   string          `json:"message"`
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Timestamp string          `json:"timestamp,omitempty"`
}

// Loki refuses entries more than its creation grace period (10m by
// default) ahead, and, with unordered writes, more than an hour behind the
// newest entry of their stream; its default reject_old_samples_max_age is
// a week. An entry outside [now - lokiMaxAge, now + lokiMaxAhead] goes
// with the receive time, its own time kept in the line.
const (
	lokiMaxAge   = 50 * time.Minute
	lokiMaxAhead = 5 * time.Minute
)

func (a *API) lokiEntries(b *LogBatch) []loki.Entry {
	limits := a.store.Limits()
	now := a.now()
	out := make([]loki.Entry, len(b.Logs))
	for i, e := range b.Logs {
		svc := cmpOr(e.Service, b.Source, limits.Service)
		// Loki labels are indexed: the service goes through the same cap
		// as the metrics' service label.
		svc = a.store.foldService(svc)
		meta := e.Metadata
		if string(meta) == "null" {
			meta = nil
		}
		line := lokiLine{Message: e.Message, Metadata: meta}
		at := e.Time
		if at.Before(now.Add(-lokiMaxAge)) || at.After(now.Add(lokiMaxAhead)) {
			line.Timestamp = at.UTC().Format(time.RFC3339Nano)
			at = now
		}
		text, _ := json.Marshal(line)
		out[i] = loki.Entry{
			Stream: loki.Stream{Service: svc, Level: e.Level.String(), Source: a.store.foldService(b.Source)},
			Time:   at,
			Line:   string(text),
		}
	}
	return out
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
