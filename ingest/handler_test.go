package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/expositiontest"
)

const testKey = "k-current-0123456789"

// The plan's sample log output, verbatim.
const planPayload = `{
  "logs": [
    {"timestamp": "2025-12-11T01:54:16.123Z", "level": "INFO", "message": "System initialized", "metadata": {"version": "1.0.0"}, "service": "quantum-resonance"},
    {"timestamp": "2025-12-11T01:54:17.456Z", "level": "WARNING", "message": "High CPU usage detected", "metadata": {"cpu": 85}, "service": "quantum-resonance"},
    {"timestamp": "2025-12-11T01:54:18.789Z", "level": "ERROR", "message": "API request failed", "metadata": {"endpoint": "/api/inference", "status_code": 500}, "service": "quantum-resonance"}
  ],
  "source": "quantum-resonance-clean"
}`

type testAPI struct {
	api   *API
	store *Store
	mux   *http.ServeMux
	cfg   config.IngestConfig
	clock *time.Time
}

func writeKeys(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newTestAPI serves the ingest routes with keys (none when keys is "") and
// a clock the test moves.
func newTestAPI(t *testing.T, keys string, edit func(*config.IngestConfig)) *testAPI {
	t.Helper()
	cfg := config.Default().Ingest
	if keys != "" {
		cfg.APIKeysFile = writeKeys(t, keys)
	}
	if edit != nil {
		edit(&cfg)
	}
	clock := time.Date(2025, 12, 11, 2, 0, 0, 0, time.UTC)
	store := NewStore(Limits{})
	store.now = func() time.Time { return clock }
	api := NewAPI(store, promslog.NewNopLogger())
	api.now = store.now
	if err := api.ApplyConfig(cfg, "quantum-resonance-api"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	mux := http.NewServeMux()
	api.Register(mux)
	return &testAPI{api: api, store: store, mux: mux, cfg: cfg, clock: &clock}
}

type req struct {
	method, path, body string
	header             map[string]string
	gzip               bool
	remote             string
	host               string // default example.com
}

func (ta *testAPI) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	body := []byte(r.body)
	if r.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	hr := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+testKey)
	if r.gzip {
		hr.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range r.header {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	hr.RemoteAddr = "192.0.2.10:5555"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.host != "" {
		hr.Host = r.host
	}
	rec := httptest.NewRecorder()
	ta.mux.ServeHTTP(rec, hr)
	return rec
}

func expectStatus(t *testing.T, rec *httptest.ResponseRecorder, code int, body string) {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	if body != "" && strings.TrimSpace(rec.Body.String()) != body {
		t.Fatalf("body\n%s\nwant\n%s", strings.TrimSpace(rec.Body.String()), body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func compare(t *testing.T, s *Store, want string, names ...string) {
	t.Helper()
	if err := testutil.CollectAndCompare(s, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func TestLogsSeedPayload(t *testing.T) {
	for _, path := range []string{LogsPath, LogsAliasPath} {
		t.Run(path, func(t *testing.T) {
			ta := newTestAPI(t, testKey+"\n", nil)
			expectStatus(t, ta.do(t, req{method: "POST", path: path, body: planPayload}), 202, `{"accepted":3}`)
			expositiontest.Compare(t, ta.store, "logs_plan_payload", "resonance_log_entries_total", "resonance_errors_total", "resonance_ingest_requests_total", "resonance_ingest_accepted_items_total")
		})
	}
}

func TestLogsLevelsAndServiceFallback(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	body := `{"logs":[
		{"level":"warn","message":"a","service":"svc"},
		{"level":"Critical","message":"b"},
		{"level":"debug","message":"c","timestamp":"2025-12-11T01:54:16.123456"}
	],"source":"src"}`
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body}), 202, `{"accepted":3}`)
	// No service and no source: the config's service.
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: `{"logs":[{"level":"ERROR","message":"x"}]}`}), 202, `{"accepted":1}`)
	expositiontest.Compare(t, ta.store, "logs_levels_and_service_fallback", "resonance_log_entries_total", "resonance_errors_total")
}

// An hour is the longest duration taken; the histogram's _sum stays finite.
func TestDurationUpToAnHour(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath,
		body: `{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":200,"duration_ms":3600000}]}`}), 202, "")
	for range 1000 {
		ta.do(t, req{method: "POST", path: EventsPath,
			body: `{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":200,"duration_ms":1.7e308}]}`})
	}
	if got := gatherText(t, ta.store, "resonance_api_request_duration_seconds"); !strings.Contains(got, `resonance_api_request_duration_seconds_sum{endpoint="/x",method="GET"} 3600`+"\n") {
		t.Fatalf("histogram sum moved past the one accepted hour:\n%s", got)
	}
}

func gatherText(t *testing.T, c prometheus.Collector, names ...string) string {
	t.Helper()
	out, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, names...)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestBadBatchChangesNothing(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	cases := []struct {
		name, path, body, want string
	}{
		{"bad level", LogsPath,
			`{"logs":[{"level":"INFO","message":"a"},{"level":"INFO"},{"level":"INFO"},{"level":"LOUD","message":"x"}]}`,
			`{"error":"logs[3].level: \"LOUD\" is not one of DEBUG, INFO, WARNING, WARN, ERROR, CRITICAL","index":3}`},
		{"wrong type in entry", LogsPath,
			`{"logs":[{"level":"INFO"},{"level":"INFO","message":42}]}`,
			`{"error":"logs[1].message: number is not a valid string","index":1}`},
		{"bad timestamp", LogsPath,
			`{"logs":[{"level":"INFO","timestamp":"yesterday"}]}`,
			`{"error":"logs[0].timestamp: \"yesterday\" is not an RFC 3339 or ISO 8601 time","index":0}`},
		{"metadata not an object", LogsPath,
			`{"logs":[{"level":"INFO","metadata":[1]}]}`,
			`{"error":"logs[0].metadata: must be a JSON object","index":0}`},
		{"empty batch", LogsPath, `{"logs":[]}`,
			`{"error":"logs: missing or empty: a batch needs at least one entry"}`},
		{"bad transaction status", EventsPath,
			`{"events":[{"type":"transaction","status":"completed"},{"type":"transaction","status":"lost"}]}`,
			`{"error":"events[1].status: \"lost\" is not one of completed, failed, cancelled","index":1}`},
		{"unknown event type", EventsPath, `{"events":[{"type":"click"}]}`,
			`{"error":"events[0].type: \"click\" is not one of api_request, upstream_call, transaction","index":0}`},
		{"api_request without status", EventsPath,
			`{"events":[{"type":"api_request","endpoint":"/x","method":"GET","duration_ms":3}]}`,
			`{"error":"events[0].status: missing","index":0}`},
		{"status out of range", EventsPath,
			`{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":700,"duration_ms":3}]}`,
			`{"error":"events[0].status: 700 is not an HTTP status code (100-599)","index":0}`},
		{"negative duration", EventsPath,
			`{"events":[{"type":"upstream_call","upstream":"huggingface","duration_ms":-1,"ok":true}]}`,
			`{"error":"events[0].duration_ms: -1 is not a duration in milliseconds (0 or more)","index":0}`},
		{"absurd duration", EventsPath,
			`{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":200,"duration_ms":1},{"type":"api_request","endpoint":"/x","method":"GET","status":200,"duration_ms":1e308}]}`,
			`{"error":"events[1].duration_ms: 1e+308 is over the maximum of 3600000 (one hour)","index":1}`},
		{"upstream duration over an hour", EventsPath,
			`{"events":[{"type":"upstream_call","upstream":"huggingface","duration_ms":3600000.5,"ok":true}]}`,
			`{"error":"events[0].duration_ms: 3.6000005e+06 is over the maximum of 3600000 (one hour)","index":0}`},
		{"upstream without ok", EventsPath,
			`{"events":[{"type":"upstream_call","upstream":"huggingface","duration_ms":1}]}`,
			`{"error":"events[0].ok: missing: true when the call succeeded, false when it failed","index":0}`},
		{"business unknown key", BusinessPath, `{"wallet_balanse":3}`, //nolint:misspell // the misspelt key is the input
			`{"error":"wallet_balanse: unknown key: expected active_users, mining_boost_active, wallet_balance, community_resonance, started_at, resident_memory_bytes, version"}`}, //nolint:misspell // echoed back
		{"business out of range", BusinessPath, `{"wallet_balance":5,"community_resonance":101}`,
			`{"error":"community_resonance: 101 is not a score from 0 to 100"}`},
		{"business wrong type", BusinessPath, `{"mining_boost_active":"yes"}`,
			`{"error":"mining_boost_active: string is not a valid boolean"}`},
		{"business started_at", BusinessPath, `{"started_at":"yesterday"}`,
			`{"error":"started_at: \"yesterday\" is not an RFC 3339 time, e.g. 2026-11-27T04:00:00Z"}`},
		{"business resident memory", BusinessPath, `{"resident_memory_bytes":1.5}`,
			`{"error":"resident_memory_bytes: 1.5 is not a byte count (a whole number, 0 or more)"}`},
		{"business empty", BusinessPath, `{}`,
			`{"error":"no value: set at least one of active_users, mining_boost_active, wallet_balance, community_resonance, started_at, resident_memory_bytes, version"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodPost
			if c.path == BusinessPath {
				method = http.MethodPut
			}
			expectStatus(t, ta.do(t, req{method: method, path: c.path, body: c.body}), 400, c.want)
		})
	}
	// Nothing of any rejected batch was applied: the configured service's
	// pre-initialised log and error series are still 0.
	for _, name := range []string{"resonance_api_requests_total",
		"resonance_upstream_requests_total", "resonance_business_last_update_timestamp_seconds"} {
		if n := testutil.CollectAndCount(ta.store, name); n != 0 {
			t.Errorf("%s: %d series after rejected batches", name, n)
		}
	}
	if f := ta.store.AppFigures(); f != (AppFigures{}) {
		t.Errorf("app figures after rejected batches: %+v", f)
	}
	compare(t, ta.store, `
# HELP resonance_errors_total Log entries at level ERROR or CRITICAL, by service (plan: error_rate is its rate per minute).
# TYPE resonance_errors_total counter
resonance_errors_total{service="quantum-resonance-api"} 0
# HELP resonance_log_entries_total Log entries pushed to the ingest API, by service and level.
# TYPE resonance_log_entries_total counter
resonance_log_entries_total{level="critical",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="debug",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="error",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="info",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="warning",service="quantum-resonance-api"} 0
`, "resonance_log_entries_total", "resonance_errors_total")
	compare(t, ta.store, `
# HELP resonance_transactions_total Pi transactions reported by the app, by status (plan: transactions_completed is status="completed").
# TYPE resonance_transactions_total counter
resonance_transactions_total{status="cancelled"} 0
resonance_transactions_total{status="completed"} 0
resonance_transactions_total{status="failed"} 0
# HELP resonance_ingest_rejected_requests_total Requests to the ingest API that were refused, by reason (unauthorized, forbidden, method, media_type, too_large, timeout, bad_encoding, invalid, overloaded).
# TYPE resonance_ingest_rejected_requests_total counter
resonance_ingest_rejected_requests_total{reason="invalid"} 19
`, "resonance_transactions_total", "resonance_ingest_rejected_requests_total")
}

func TestAuthentication(t *testing.T) {
	ta := newTestAPI(t, "# rotation: old and new key both valid\nk-old-key\n\n"+testKey+"\n", nil)
	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	for _, c := range []struct {
		name, auth string
		code       int
	}{
		{"current key", "Bearer " + testKey, 202},
		{"old key during rotation", "Bearer k-old-key", 202},
		{"scheme is case-insensitive", "bearer " + testKey, 202},
		{"no header", "", 401},
		{"wrong key", "Bearer nope", 401},
		{"key prefix", "Bearer " + testKey[:5], 401},
		{"basic auth", "Basic " + testKey, 401},
		{"comment is not a key", "Bearer # rotation: old and new key both valid", 401},
		// With basic auth on every path (--web.config.file), the key
		// travels in X-Api-Key beside the basic credentials.
		{"X-Api-Key beside basic auth", "Basic dXNlcjpwYXNz|" + testKey, 202},
		{"X-Api-Key alone", "|" + testKey, 202},
		{"wrong X-Api-Key", "Bearer " + testKey + "|nope", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth, apiKey, _ := strings.Cut(c.auth, "|")
			rec := ta.do(t, req{method: "POST", path: LogsPath, body: body, header: map[string]string{"Authorization": auth, APIKeyHeader: apiKey}})
			if c.code == 401 {
				expectStatus(t, rec, 401, `{"error":"missing or invalid bearer key"}`)
				if got := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate %q", got)
				}
				return
			}
			expectStatus(t, rec, c.code, "")
		})
	}
}

func TestNoKeysLoopbackOnly(t *testing.T) {
	ta := newTestAPI(t, "", nil)
	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	noAuth := map[string]string{"Authorization": ""}
	for _, c := range []struct{ remote, host string }{
		{"127.0.0.1:4000", "localhost:9861"},
		{"127.0.0.1:4000", "127.0.0.1:9861"},
		{"[::1]:4000", "[::1]:9861"},
		{"[::1]:4000", "LOCALHOST"},
	} {
		expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, remote: c.remote, host: c.host, header: noAuth}), 202, "")
	}
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, remote: "192.0.2.1:4000", host: "localhost"}), 403,
		`{"error":"no ingest API keys are configured: only loopback clients may push"}`)

	// A local proxy makes a remote caller local: Istio delivers from
	// 127.0.0.6, nginx or an SSH tunnel from 127.0.0.1.
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host", "Via", "True-Client-IP", "X-Client-IP", "via", "true-client-ip"} {
		rec := ta.do(t, req{method: "POST", path: LogsPath, body: body, remote: "127.0.0.6:4000", host: "localhost:9861",
			header: map[string]string{"Authorization": "", h: "for=198.51.100.7"}})
		expectStatus(t, rec, 403, "")
		if !strings.Contains(rec.Body.String(), "proxy") {
			t.Errorf("%s: refusal does not say why: %s", h, rec.Body)
		}
	}
	// DNS rebinding: a page at evil.example resolved to 127.0.0.1.
	for _, host := range []string{"evil.example", "evil.example:9861", "127.0.0.1.nip.io", "localhost.evil.example", ""} {
		rec := ta.do(t, req{method: "POST", path: LogsPath, body: body, remote: "127.0.0.1:4000", host: host, header: noAuth})
		if host == "" {
			// httptest fills in example.com; an empty Host is refused too.
			rec = httptest.NewRecorder()
			hr := httptest.NewRequest(http.MethodPost, LogsPath, strings.NewReader(body))
			hr.Header.Set("Content-Type", "application/json")
			hr.RemoteAddr, hr.Host = "127.0.0.1:4000", ""
			ta.mux.ServeHTTP(rec, hr)
		}
		expectStatus(t, rec, 403, `{"error":"no ingest API keys are configured: the Host header must be localhost or a loopback address"}`)
	}
	compare(t, ta.store, `
# HELP resonance_log_entries_total Log entries pushed to the ingest API, by service and level.
# TYPE resonance_log_entries_total counter
resonance_log_entries_total{level="critical",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="debug",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="error",service="quantum-resonance-api"} 0
resonance_log_entries_total{level="info",service="quantum-resonance-api"} 4
resonance_log_entries_total{level="warning",service="quantum-resonance-api"} 0
`, "resonance_log_entries_total")
}

// The warning at start names every proxy header that is refused.
func TestNoKeysWarningNamesProxyHeaders(t *testing.T) {
	var logged bytes.Buffer
	api := NewAPI(NewStore(Limits{}), slog.New(slog.NewTextHandler(&logged, nil)))
	t.Cleanup(func() { api.Close() })
	if err := api.ApplyConfig(config.Default().Ingest, "svc"); err != nil {
		t.Fatal(err)
	}
	for _, h := range proxyHeaders {
		if !strings.Contains(strings.ToLower(logged.String()), strings.ToLower(h)) {
			t.Errorf("the no-keys warning does not name %s: %s", h, logged.String())
		}
	}
}

// With keys, the key is what counts, not where the request comes from.
func TestKeysAcceptProxiedRequests(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	rec := ta.do(t, req{method: "POST", path: LogsPath, body: `{"logs":[{"level":"INFO","message":"x"}]}`,
		remote: "127.0.0.6:4000", header: map[string]string{"X-Forwarded-For": "198.51.100.7"}})
	expectStatus(t, rec, 202, "")
}

// Removing api_keys_file in a reload would open the API to loopback
// clients: the reload fails and the running keys stay.
func TestReloadThatDropsTheKeysFails(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	noKeys := ta.cfg
	noKeys.APIKeysFile = ""
	err := ta.api.ApplyConfig(noKeys, "svc")
	if err == nil || !strings.Contains(err.Error(), "api_keys_file") {
		t.Fatalf("reload without api_keys_file: %v, want an error naming it", err)
	}
	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, remote: "127.0.0.1:1", host: "localhost", header: map[string]string{"Authorization": ""}}), 401, "")
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body}), 202, "")
}

func TestReloadKeys(t *testing.T) {
	ta := newTestAPI(t, "k-first\n", nil)
	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	auth := func(k string) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, header: auth("k-first")}), 202, "")

	// Rotate: the file now holds the new key only.
	if err := os.WriteFile(ta.cfg.APIKeysFile, []byte("k-second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ta.api.ApplyConfig(ta.cfg, "svc"); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, header: auth("k-first")}), 401, "")
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, header: auth("k-second")}), 202, "")

	// A broken file fails the reload and keeps the running keys.
	for _, content := range []string{"# only comments\n\n", "two words\n"} {
		if err := os.WriteFile(ta.cfg.APIKeysFile, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		err := ta.api.ApplyConfig(ta.cfg, "svc")
		if err == nil {
			t.Fatalf("%q: reload accepted", content)
		}
		if strings.Contains(err.Error(), "words") {
			t.Errorf("error quotes the key file: %v", err)
		}
		expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, header: auth("k-second")}), 202, "")
	}
	missing := ta.cfg
	missing.APIKeysFile = filepath.Join(t.TempDir(), "absent")
	if err := ta.api.ApplyConfig(missing, "svc"); err == nil {
		t.Fatal("reload with a missing keys file accepted")
	}
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body, header: auth("k-second")}), 202, "")
}

func TestRequestErrors(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.MaxBodyBytes = 1024 })
	small := `{"logs":[{"level":"INFO","message":"x"}]}`
	big := `{"logs":[{"level":"INFO","message":"` + strings.Repeat("a", 2000) + `"}]}`
	// 1 MiB of spaces inflates from about 1 KiB of gzip.
	bomb := `{"logs":[{"level":"INFO","message":"x"}]` + strings.Repeat(" ", 1<<20) + `}`
	// Incompressible: its gzip form is over the limit while the part of it
	// within the limit inflates to less than the limit.
	noise := make([]byte, 1500)
	rand.NewChaCha8([32]byte{1}).Read(noise)
	incompressible := string(noise)

	cases := []struct {
		name string
		r    req
		code int
		body string
	}{
		{"GET logs", req{method: "GET", path: LogsPath}, 405, `{"error":"/api/v1/logs requires POST"}`},
		{"POST business", req{method: "POST", path: BusinessPath, body: `{"wallet_balance":1}`}, 405, `{"error":"/api/v1/business requires PUT"}`},
		{"too large", req{method: "POST", path: LogsPath, body: big}, 413, `{"error":"body larger than 1024 bytes (ingest.max_body_bytes)"}`},
		{"too large without Content-Length", req{method: "POST", path: LogsPath, body: big, header: map[string]string{"Content-Length": ""}}, 413, ""},
		{"gzip bomb", req{method: "POST", path: LogsPath, body: bomb, gzip: true}, 413, ""},
		{"gzip body itself too large", req{method: "POST", path: LogsPath, body: incompressible, gzip: true}, 413, `{"error":"body larger than 1024 bytes (ingest.max_body_bytes)"}`},
		{"form content type", req{method: "POST", path: LogsPath, body: small, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415,
			`{"error":"Content-Type must be application/json"}`},
		{"no content type", req{method: "POST", path: LogsPath, body: small, header: map[string]string{"Content-Type": ""}}, 415, ""},
		// Malformed JSON under the right Content-Type is a bad request,
		// as Loki, Pushgateway and Prometheus answer.
		{"not JSON", req{method: "POST", path: LogsPath, body: `logs=1`}, 400, `{"error":"body is not valid JSON: invalid character 'l' looking for beginning of value"}`},
		{"truncated JSON", req{method: "POST", path: EventsPath, body: `{"events":[`}, 400, ""},
		{"business not JSON", req{method: "PUT", path: BusinessPath, body: ``}, 400, ""},
		{"unknown encoding", req{method: "POST", path: LogsPath, body: small, header: map[string]string{"Content-Encoding": "br"}}, 415, ""},
		{"corrupt gzip", req{method: "POST", path: LogsPath, body: small, header: map[string]string{"Content-Encoding": "gzip"}}, 400, ""},
		{"unauthorized before anything else", req{method: "POST", path: LogsPath, body: big, header: map[string]string{"Authorization": "", "Content-Type": "text/plain"}}, 401, ""},
		{"content type with charset", req{method: "POST", path: LogsPath, body: small, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}, 202, ""},
		{"gzip", req{method: "POST", path: LogsPath, body: small, gzip: true}, 202, `{"accepted":1}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := ta.do(t, c.r)
			expectStatus(t, rec, c.code, c.body)
			if c.code == 405 {
				if allow := rec.Header().Get("Allow"); allow == "" {
					t.Error("405 without Allow")
				}
			}
		})
	}
	compare(t, ta.store, `
# HELP resonance_ingest_rejected_requests_total Requests to the ingest API that were refused, by reason (unauthorized, forbidden, method, media_type, too_large, timeout, bad_encoding, invalid, overloaded).
# TYPE resonance_ingest_rejected_requests_total counter
resonance_ingest_rejected_requests_total{reason="bad_encoding"} 1
resonance_ingest_rejected_requests_total{reason="invalid"} 3
resonance_ingest_rejected_requests_total{reason="media_type"} 3
resonance_ingest_rejected_requests_total{reason="method"} 2
resonance_ingest_rejected_requests_total{reason="too_large"} 4
resonance_ingest_rejected_requests_total{reason="unauthorized"} 1
`, "resonance_ingest_rejected_requests_total")
}

func TestEvents(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	body := `{"events":[
		{"type":"api_request","endpoint":"/api/inference","method":"post","status":200,"duration_ms":1500,"user":"alice"},
		{"type":"api_request","endpoint":"/api/inference","method":"POST","status":503,"duration_ms":2600,"user":"bob"},
		{"type":"api_request","endpoint":"/api/inference","method":"BREW","status":200,"duration_ms":1,"user":"alice"},
		{"type":"upstream_call","upstream":"huggingface","operation":"inference","duration_ms":4200,"ok":true},
		{"type":"upstream_call","upstream":"pi_sdk","duration_ms":100,"ok":false},
		{"type":"transaction","status":"completed","amount":3.14},
		{"type":"transaction","status":"completed","authorized":false},
		{"type":"transaction","status":"failed","authorized":true}
	]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: body}), 202, `{"accepted":8}`)
	expositiontest.Compare(t, ta.store, "events", "resonance_api_requests_total", "resonance_upstream_requests_total", "resonance_transactions_total",
		"resonance_active_users")
	// Exposed by the ingest collector as resonance_wallet_unauthorized_transactions_total{source="app"}.
	if got := ta.store.AppFigures().UnauthorizedTransactions; got != 1 {
		t.Errorf("unauthorized transactions: %v, want 1", got)
	}
	expositiontest.Compare(t, ta.store, "events_upstream_duration", "resonance_upstream_request_duration_seconds")
	// The API histogram: 1.5 s and 2.6 s POSTs either side of the 2 s threshold.
	if got := testutil.CollectAndCount(ta.store, "resonance_api_request_duration_seconds"); got != 2 {
		t.Errorf("api duration series: %d, want 2 (POST, OTHER)", got)
	}
}

func TestActiveUsersWindow(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	event := func(user, ts string) string {
		return fmt.Sprintf(`{"type":"api_request","endpoint":"/","method":"GET","status":200,"duration_ms":1,"user":%q,"timestamp":%q}`, user, ts)
	}
	now := *ta.clock
	body := `{"events":[` + strings.Join([]string{
		event("alice", ""),
		event("bob", now.Add(-4*time.Minute).Format(time.RFC3339)),
		event("carol", now.Add(-6*time.Minute).Format(time.RFC3339)), // already outside the window
		event("alice", now.Add(-time.Minute).Format(time.RFC3339)),
	}, ",") + `]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: body}), 202, "")
	gauge := func() float64 {
		t.Helper()
		return testutil.ToFloat64(collectorOf(ta.store, "resonance_active_users"))
	}
	if got := gauge(); got != 2 {
		t.Fatalf("active users %v, want 2", got)
	}
	*ta.clock = now.Add(90 * time.Second) // bob was last seen 5.5 minutes ago
	if got := gauge(); got != 1 {
		t.Fatalf("active users %v after bob expired, want 1", got)
	}
	// A fresh pushed value wins over the window.
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"active_users":42}`}), 202, "")
	if got := gauge(); got != 42 {
		t.Fatalf("active users %v, want the pushed 42", got)
	}
	*ta.clock = ta.clock.Add(6 * time.Minute)
	if got := gauge(); got != 0 {
		t.Fatalf("active users %v once the push and the window are stale, want 0", got)
	}
}

// collectorOf narrows c to the metrics of one family, for testutil.ToFloat64.
func collectorOf(c prometheus.Collector, name string) prometheus.Collector {
	return familyFilter{c, name}
}

type familyFilter struct {
	c    prometheus.Collector
	name string
}

func (f familyFilter) Describe(ch chan<- *prometheus.Desc) { f.c.Describe(ch) }
func (f familyFilter) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { f.c.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `fqName: "`+f.name+`"`) {
			ch <- m
		}
	}
}

func TestBusinessExpires(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.BusinessTTL = model.Duration(time.Minute) })
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath,
		body: `{"mining_boost_active":true,"wallet_balance":12.5,"community_resonance":37}`}), 202, `{"accepted":3}`)
	pushed := float64(ta.clock.Unix())
	*ta.clock = ta.clock.Add(30 * time.Second)
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"mining_boost_active":false}`}), 202, `{"accepted":1}`)
	names := []string{"resonance_mining_boost_active", "resonance_community_resonance_score", "resonance_business_last_update_timestamp_seconds"}
	compare(t, ta.store, fmt.Sprintf(`
# HELP resonance_business_last_update_timestamp_seconds When business values were last pushed (PUT /api/v1/business), as a Unix time.
# TYPE resonance_business_last_update_timestamp_seconds gauge
resonance_business_last_update_timestamp_seconds %v
# HELP resonance_community_resonance_score Community engagement score 0-100, as last pushed (plan: community_resonance).
# TYPE resonance_community_resonance_score gauge
resonance_community_resonance_score 37
# HELP resonance_mining_boost_active Whether the mining boost is active (1) or not (0), as last pushed (plan: mining_boost_active).
# TYPE resonance_mining_boost_active gauge
resonance_mining_boost_active 0
`, pushed+30), names...)
	if got, want := ta.store.AppFigures().WalletBalance, (Reported{Value: 12.5, Fresh: true}); got != want {
		t.Errorf("wallet balance: %+v, want %+v", got, want)
	}

	// 31 s later the first push is past the TTL; the second is not.
	*ta.clock = ta.clock.Add(31 * time.Second)
	compare(t, ta.store, fmt.Sprintf(`
# HELP resonance_business_last_update_timestamp_seconds When business values were last pushed (PUT /api/v1/business), as a Unix time.
# TYPE resonance_business_last_update_timestamp_seconds gauge
resonance_business_last_update_timestamp_seconds %v
# HELP resonance_mining_boost_active Whether the mining boost is active (1) or not (0), as last pushed (plan: mining_boost_active).
# TYPE resonance_mining_boost_active gauge
resonance_mining_boost_active 0
`, pushed+30), names...)
	if got := ta.store.AppFigures().WalletBalance; got != (Reported{}) {
		t.Errorf("wallet balance past the TTL: %+v, want none", got)
	}
}

// An app on another machine pushes its own start time and memory, expiring
// with the other business values. The ingest collector exposes them in the
// process collector's families with source="app".
func TestBusinessProcessFigures(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.BusinessTTL = model.Duration(time.Minute) })
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath,
		body: `{"started_at":"2025-12-11T02:00:00.5+01:00","resident_memory_bytes":734003200}`}), 202, `{"accepted":2}`)
	f := ta.store.AppFigures()
	if want := (Reported{Value: 1.7654148005e+09, Fresh: true}); f.ProcessStartTime != want {
		t.Errorf("start time: %+v, want %+v", f.ProcessStartTime, want)
	}
	if want := (Reported{Value: 734003200, Fresh: true}); f.ProcessResidentMemory != want {
		t.Errorf("resident memory: %+v, want %+v", f.ProcessResidentMemory, want)
	}
	*ta.clock = ta.clock.Add(61 * time.Second)
	if f := ta.store.AppFigures(); f != (AppFigures{}) {
		t.Errorf("app figures past the TTL: %+v, want none", f)
	}
}

// The app's version is exposed as resonance_app_info{version} 1 and, like
// the other business values, gone once it is older than the TTL.
func TestBusinessVersion(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.BusinessTTL = model.Duration(time.Minute) })
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"version":"1.4.2","active_users":3}`}), 202, `{"accepted":2}`)
	const help = `
# HELP resonance_app_info The app's version as it last reported it (PUT /api/v1/business version); a restart with a new version is a deploy.
# TYPE resonance_app_info gauge
`
	compare(t, ta.store, help+`resonance_app_info{version="1.4.2"} 1
`, "resonance_app_info")

	// A new version replaces the old one: one series, never two.
	*ta.clock = ta.clock.Add(50 * time.Second)
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"version":"1.5.0"}`}), 202, `{"accepted":1}`)
	compare(t, ta.store, help+`resonance_app_info{version="1.5.0"} 1
`, "resonance_app_info")

	// A refused version changes nothing.
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"version":"` + strings.Repeat("x", 65) + `"}`}), 400,
		`{"error":"version: longer than 64 bytes"}`)
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"version":2}`}), 400,
		`{"error":"version: number is not a valid string"}`)
	compare(t, ta.store, help+`resonance_app_info{version="1.5.0"} 1
`, "resonance_app_info")

	// Pushes without a version keep it only until the TTL has passed
	// since the version itself was pushed.
	*ta.clock = ta.clock.Add(30 * time.Second)
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"active_users":4}`}), 202, `{"accepted":1}`)
	compare(t, ta.store, help+`resonance_app_info{version="1.5.0"} 1
`, "resonance_app_info")
	*ta.clock = ta.clock.Add(31 * time.Second)
	if n := testutil.CollectAndCount(ta.store, "resonance_app_info"); n != 0 {
		t.Errorf("resonance_app_info past the TTL: %d series, want none", n)
	}
}

// A started_at far ahead of the exporter's clock or before 2000 is refused
// with a 400 naming it and why, and the whole update is dropped: the store
// is exactly as before.
func TestBusinessStartedAtOutOfBounds(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath,
		body: `{"started_at":"2025-12-11T01:00:00Z","wallet_balance":12.5,"version":"1.4.2"}`}), 202, `{"accepted":3}`)
	before := ta.store.AppFigures()
	exposed := func() string {
		t.Helper()
		out, err := testutil.CollectAndFormat(ta.store, expfmt.TypeTextPlain)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	was := exposed()
	*ta.clock = ta.clock.Add(time.Second)
	for _, c := range []struct{ startedAt, want string }{
		{"9999-12-31T23:59:59Z", `{"error":"started_at: \"9999-12-31T23:59:59Z\" is more than 5m in the future (clock skew?)"}`},
		{ta.clock.Add(10 * time.Minute).Format(time.RFC3339), `{"error":"started_at: \"2025-12-11T02:10:01Z\" is more than 5m in the future (clock skew?)"}`},
		{"1999-12-31T23:59:59Z", `{"error":"started_at: \"1999-12-31T23:59:59Z\" is before 2000-01-01"}`},
	} {
		expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath,
			body: `{"started_at":"` + c.startedAt + `","wallet_balance":99,"version":"2.0.0","active_users":7}`}), 400, c.want)
	}
	if got := ta.store.AppFigures(); got != before {
		t.Errorf("app figures after refused updates: %+v, want %+v", got, before)
	}
	// The ingest API's own request counters move; nothing pushed does.
	strip := func(s string) string {
		var keep []string
		for _, line := range strings.Split(s, "\n") {
			if !strings.Contains(line, "resonance_ingest_") {
				keep = append(keep, line)
			}
		}
		return strings.Join(keep, "\n")
	}
	if now := exposed(); strip(now) != strip(was) {
		t.Errorf("exposition changed by refused updates:\n%s\nwas:\n%s", now, was)
	}

	// One minute ahead is a clock a little fast: accepted.
	expectStatus(t, ta.do(t, req{method: "PUT", path: BusinessPath,
		body: `{"started_at":"` + ta.clock.Add(time.Minute).Format(time.RFC3339) + `"}`}), 202, `{"accepted":1}`)
	if got, want := ta.store.AppFigures().ProcessStartTime, (Reported{Value: float64(ta.clock.Add(time.Minute).Unix()), Fresh: true}); got != want {
		t.Errorf("start time: %+v, want %+v", got, want)
	}
}

func TestCardinalityCap(t *testing.T) {
	const limit = 500
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.MaxLabelValues = limit })
	// 100,000 distinct endpoints in batches of 1,000.
	for batch := range 100 {
		events := make([]string, 1000)
		for i := range events {
			events[i] = fmt.Sprintf(`{"type":"api_request","endpoint":"/e/%d","method":"GET","status":200,"duration_ms":1}`, batch*1000+i)
		}
		expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: `{"events":[` + strings.Join(events, ",") + `]}`}), 202, "")
	}
	if n := testutil.CollectAndCount(ta.store, "resonance_api_requests_total"); n != limit+1 {
		t.Errorf("resonance_api_requests_total: %d series, want %d", n, limit+1)
	}
	if n := testutil.CollectAndCount(ta.store, "resonance_api_request_duration_seconds"); n != limit+1 {
		t.Errorf("resonance_api_request_duration_seconds: %d series, want %d", n, limit+1)
	}
	// Services too, through log entries.
	logs := make([]string, 1000)
	for i := range logs {
		logs[i] = fmt.Sprintf(`{"level":"INFO","service":"s%d"}`, i)
	}
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: `{"logs":[` + strings.Join(logs, ",") + `]}`}), 202, "")
	// The configured service holds one of the service values from the
	// start, with its five levels pre-initialised: 499 pushed services
	// fit, the rest fold into "other".
	if n := testutil.CollectAndCount(ta.store, "resonance_log_entries_total"); n != limit+5 {
		t.Errorf("resonance_log_entries_total: %d series, want %d", n, limit+5)
	}
	compare(t, ta.store, `
# HELP resonance_ingest_label_values_overflow_total Pushed values folded into "other" because the label already had ingest.max_label_values distinct values, or (label="series") the metric already had ingest.max_series_per_metric label combinations; by metric and label.
# TYPE resonance_ingest_label_values_overflow_total counter
resonance_ingest_label_values_overflow_total{label="endpoint",metric="resonance_api_requests_total"} 99500
resonance_ingest_label_values_overflow_total{label="service",metric="resonance_log_entries_total"} 501
`, "resonance_ingest_label_values_overflow_total")
}

// Capped labels multiply (endpoint × method × code, upstream × operation):
// the series cap bounds the combinations of each metric.
func TestSeriesCap(t *testing.T) {
	const maxSeries = 20
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) {
		c.MaxLabelValues = 100
		c.MaxSeriesPerMetric = maxSeries
	})
	var events []string
	for endpoint := range 10 { // 10 endpoints × 10 codes × 1 method = 100 combinations
		for code := 500; code < 510; code++ {
			events = append(events, fmt.Sprintf(`{"type":"api_request","endpoint":"/e/%d","method":"POST","status":%d,"duration_ms":1}`, endpoint, code))
			events = append(events, fmt.Sprintf(`{"type":"upstream_call","upstream":"u%d","operation":"op%d","duration_ms":1,"ok":false}`, endpoint, code))
		}
	}
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: `{"events":[` + strings.Join(events, ",") + `]}`}), 202, "")

	// 20 admitted combinations, plus one fold: endpoint "other", code class "5xx".
	if n := testutil.CollectAndCount(ta.store, "resonance_api_requests_total"); n != maxSeries+1 {
		t.Errorf("resonance_api_requests_total: %d series, want %d", n, maxSeries+1)
	}
	if n := testutil.CollectAndCount(ta.store, "resonance_upstream_requests_total"); n != maxSeries+1 {
		t.Errorf("resonance_upstream_requests_total: %d series, want %d", n, maxSeries+1)
	}
	if n := testutil.CollectAndCount(ta.store, "resonance_upstream_request_duration_seconds"); n != maxSeries+1 {
		t.Errorf("resonance_upstream_request_duration_seconds: %d series, want %d", n, maxSeries+1)
	}
	// Nothing is lost: the folded requests are counted under the fold, with
	// a code that still matches code=~"5..".
	if got := testutil.ToFloat64(ta.store.apiRequests.WithLabelValues(OtherValue, "POST", "5xx")); got != 80 {
		t.Errorf(`folded requests {endpoint="other",code="5xx"} = %v, want 80`, got)
	}
	compare(t, ta.store, `
# HELP resonance_ingest_label_values_overflow_total Pushed values folded into "other" because the label already had ingest.max_label_values distinct values, or (label="series") the metric already had ingest.max_series_per_metric label combinations; by metric and label.
# TYPE resonance_ingest_label_values_overflow_total counter
resonance_ingest_label_values_overflow_total{label="series",metric="resonance_api_requests_total"} 80
resonance_ingest_label_values_overflow_total{label="series",metric="resonance_upstream_request_duration_seconds"} 80
resonance_ingest_label_values_overflow_total{label="series",metric="resonance_upstream_requests_total"} 80
`, "resonance_ingest_label_values_overflow_total")
}

// The store is a valid collector: no duplicate or inconsistent series.
func TestStorePedanticRegistry(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	ta.do(t, req{method: "POST", path: LogsPath, body: planPayload})
	ta.do(t, req{method: "PUT", path: BusinessPath, body: `{"active_users":3,"wallet_balance":1}`})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ta.store)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeErrorIsJSON(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	rec := ta.do(t, req{method: "POST", path: LogsPath, body: `{"logs":[{"level":"X"}]}`})
	var body struct {
		Error string `json:"error"`
		Index *int   `json:"index"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Index == nil || *body.Index != 0 {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
}

// Beyond ingest.max_concurrent_requests a request is refused at once with
// 503 and Retry-After, and counted; the slots free up when requests end.
// A slot is held while a batch is decoded and applied, not while its body
// arrives: slow uploads hold none.
func TestConcurrencyLimit(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.MaxConcurrentRequests = 3 })
	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	// Slow uploads: their bodies are not written yet.
	var writers []*io.PipeWriter
	done := make(chan int, 6)
	serve := func(h http.Handler, r *http.Request) {
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+testKey)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			done <- rec.Code
		}()
	}
	for range 3 {
		pr, pw := io.Pipe()
		writers = append(writers, pw)
		serve(ta.mux, httptest.NewRequest(http.MethodPost, LogsPath, pr))
		// A pipe's write returns once the handler reads it: the upload is
		// past the slot check and reading its body, whatever the
		// goroutines' order.
		io.WriteString(pw, body[:1])
	}
	// Requests stuck in their ingest step: these hold the slots.
	entered, release := make(chan struct{}), make(chan struct{})
	stuck := ta.api.handle(LogsPath, http.MethodPost, func([]byte) (int, error) {
		entered <- struct{}{}
		<-release
		return 1, nil
	})
	for range 3 {
		serve(stuck, httptest.NewRequest(http.MethodPost, LogsPath, strings.NewReader(body)))
		select {
		case <-entered:
		case code := <-done:
			t.Fatalf("request answered %d before its ingest step: the slow uploads hold the slots", code)
		}
	}
	if n := ta.api.inFlight.Load(); n != 3 {
		t.Fatalf("%d requests in flight, want the 3 in their ingest step", n)
	}
	rec := ta.do(t, req{method: "POST", path: LogsPath, body: body})
	expectStatus(t, rec, 503, "")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	close(release)
	for range 3 {
		if code := <-done; code != 202 {
			t.Errorf("request in flight: %d, want 202", code)
		}
	}
	// The slow uploads held no slot all along.
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body}), 202, "")
	for _, pw := range writers {
		io.WriteString(pw, body[1:])
		pw.Close()
	}
	for range 3 {
		if code := <-done; code != 202 {
			t.Errorf("slow upload: %d, want 202", code)
		}
	}
	compare(t, ta.store, `
# HELP resonance_ingest_rejected_requests_total Requests to the ingest API that were refused, by reason (unauthorized, forbidden, method, media_type, too_large, timeout, bad_encoding, invalid, overloaded).
# TYPE resonance_ingest_rejected_requests_total counter
resonance_ingest_rejected_requests_total{reason="overloaded"} 1
`, "resonance_ingest_rejected_requests_total")
}

// Slowloris: 40 raw TCP clients send their headers, then trickle their
// bodies a byte at a time, over a real http.Server. A normal push made
// meanwhile gets 202 at once (it got 503 until the server's ReadTimeout cut
// the slow clients off: they held every slot), and the slow clients are
// cut off by the body deadline with 408.
func TestSlowBodiesDoNotLockOut(t *testing.T) {
	ta := newTestAPI(t, testKey, nil) // max_concurrent_requests: 32
	const bodyTimeout = 2 * time.Second
	ta.api.bodyTimeout = bodyTimeout
	srv := httptest.NewUnstartedServer(ta.mux)
	// The daemon's server-wide ReadTimeout (30 s), scaled down: what cut
	// the slow clients off before the body deadline.
	srv.Config.ReadTimeout = 4 * time.Second
	srv.Start()
	defer srv.Close()

	body := `{"logs":[{"level":"INFO","message":"x"}]}`
	const slowClients = 40
	type outcome struct {
		status string
		after  time.Duration
	}
	outcomes := make(chan outcome, slowClients)
	stop := make(chan struct{})
	defer close(stop)
	slowStart := time.Now()
	for range slowClients {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", LogsPath, testKey, len(body)); err != nil {
			t.Fatal(err)
		}
		go func() { // a byte every 100 ms, never the last one
			for i := range len(body) - 1 {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		go func() {
			conn.SetReadDeadline(time.Now().Add(3 * bodyTimeout))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			o := outcome{status: "closed", after: time.Since(slowStart)}
			switch {
			case err == nil:
				o.status = resp.Status
				resp.Body.Close()
			case errors.Is(err, os.ErrDeadlineExceeded):
				o.status = "still open"
			}
			outcomes <- o
		}()
	}
	time.Sleep(300 * time.Millisecond) // every slow client is in its handler

	// A normal push, retried on 503 as a client honouring Retry-After
	// would, faster: how long until it is accepted.
	client := srv.Client()
	pushStart := time.Now()
	var first, final int
	var attempts int
	for {
		r, _ := http.NewRequest(http.MethodPost, srv.URL+LogsPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		attempts++
		final = resp.StatusCode
		if attempts == 1 {
			first = final
		}
		if final != http.StatusServiceUnavailable || time.Since(pushStart) > 3*bodyTimeout {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(pushStart)
	t.Logf("normal push with %d slow clients: first answer %d, accepted (%d) after %v and %d attempts", slowClients, first, final, took, attempts)
	if first != http.StatusAccepted || took > time.Second {
		t.Errorf("normal push: first answer %d, %d after %v (%d attempts); want 202 at once", first, final, took, attempts)
	}
	if elapsed := time.Since(slowStart); first == http.StatusAccepted && elapsed >= bodyTimeout {
		t.Fatalf("the push ended %v after the slow clients started, not within the %v they are allowed: the test proves nothing", elapsed, bodyTimeout)
	}

	counts := map[string]int{}
	var latest time.Duration
	for range slowClients {
		o := <-outcomes
		counts[o.status]++
		latest = max(latest, o.after)
	}
	t.Logf("slow clients: %v, the last after %v", counts, latest)
	if n := counts["408 Request Timeout"] + counts["closed"]; n != slowClients {
		t.Errorf("slow clients: %v; want each cut off with 408 or a closed connection", counts)
	}
	if latest > bodyTimeout+time.Second {
		t.Errorf("the last slow client was cut off after %v; the body deadline is %v", latest, bodyTimeout)
	}
}

// Every input value an error quotes is cut: a megabyte of level, timestamp,
// type, status, number literal or key name gives an error body of a few
// hundred bytes at most (it was the whole megabyte, quoted).
func TestErrorsEchoBoundedInput(t *testing.T) {
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.MaxBodyBytes = 4 << 20 })
	huge := strings.Repeat("A", 1_000_000)
	digits := strings.Repeat("9", 1_000_000)
	for _, c := range []struct {
		name, method, path, body string
		header                   map[string]string
		max                      int
	}{
		{"level", "POST", LogsPath, `{"logs":[{"level":"` + huge + `"}]}`, nil, 200},
		{"timestamp", "POST", LogsPath, `{"logs":[{"level":"INFO","timestamp":"` + huge + `"}]}`, nil, 200},
		{"event type", "POST", EventsPath, `{"events":[{"type":"` + huge + `"}]}`, nil, 200},
		{"api_request status string", "POST", EventsPath, `{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":"` + huge + `"}]}`, nil, 200},
		{"api_request status number", "POST", EventsPath, `{"events":[{"type":"api_request","endpoint":"/x","method":"GET","status":` + digits + `}]}`, nil, 200},
		{"transaction status", "POST", EventsPath, `{"events":[{"type":"transaction","status":"` + huge + `"}]}`, nil, 200},
		{"duration literal", "POST", EventsPath, `{"events":[{"type":"upstream_call","upstream":"u","ok":true,"duration_ms":` + digits + `}]}`, nil, 200},
		{"unknown business key", "PUT", BusinessPath, `{"` + huge + `":1}`, nil, 256},
		{"business number literal", "PUT", BusinessPath, `{"active_users":` + digits + `}`, nil, 200},
		{"started_at", "PUT", BusinessPath, `{"started_at":"` + huge + `"}`, nil, 200},
		{"content encoding", "POST", LogsPath, `{}`, map[string]string{"Content-Encoding": strings.Repeat("x", 50_000)}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := ta.do(t, req{method: c.method, path: c.path, body: c.body, gzip: c.header == nil, header: c.header})
			if rec.Code != 400 && rec.Code != 415 {
				t.Fatalf("status %d: %.300s", rec.Code, rec.Body)
			}
			var body errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not the JSON error shape: %v: %.300s", err, rec.Body)
			}
			t.Logf("%d-byte error body", rec.Body.Len())
			if rec.Body.Len() > c.max || !strings.Contains(body.Error, "…") {
				t.Errorf("%d-byte error body (at most %d, the value cut and marked): %.300s", rec.Body.Len(), c.max, rec.Body)
			}
			if !utf8.Valid(rec.Body.Bytes()) {
				t.Errorf("error body is not valid UTF-8: %q", rec.Body)
			}
		})
	}
	// A multi-byte value is cut between runes, not inside one.
	rec := ta.do(t, req{method: "POST", path: LogsPath, body: `{"logs":[{"level":"` + strings.Repeat("€", 1000) + `"}]}`})
	var body errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || strings.ContainsRune(body.Error, utf8.RuneError) || !strings.Contains(body.Error, "€…") {
		t.Errorf("multi-byte level: %v: %s", err, rec.Body)
	}
}

// Control characters in label-bound fields never reach /metrics raw (the
// text format escapes only \, " and newline): NUL, ESC, DEL and the C1
// controls become U+FFFD, as invalid UTF-8 already does.
func TestControlCharactersNeverReachTheExposition(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	const ctl = `\u0000\u001b[31m\u0007\r\t\u001f\u007f\u0085\u009b` + "\x7f\u0085\u009f"
	logs := `{"logs":[{"level":"ERROR","message":"m` + ctl + `","service":"svc` + ctl + `"},{"level":"INFO"}],"source":"src` + ctl + `"}`
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: logs}), 202, `{"accepted":2}`)
	events := `{"events":[
		{"type":"api_request","endpoint":"/x` + ctl + `","method":"GET` + ctl + `","status":200,"duration_ms":1,"user":"u` + ctl + `"},
		{"type":"upstream_call","upstream":"up` + ctl + `","operation":"op` + ctl + `","duration_ms":1,"ok":true}]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: EventsPath, body: events}), 202, `{"accepted":2}`)

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(ta.store)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	enc := expfmt.NewEncoder(&out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	text := out.String()
	for i, r := range text {
		if r != '\n' && isControl(r) {
			t.Fatalf("control character %U at %d of the exposition: %q", r, i, text[max(0, i-60):min(len(text), i+20)])
		}
	}
	for _, want := range []string{"service=\"svc\ufffd\ufffd[31m", "service=\"src\ufffd", "endpoint=\"/x\ufffd", "upstream=\"up\ufffd", "operation=\"op\ufffd"} {
		if !strings.Contains(text, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	// The same values label Loki streams.
	b, err := DecodeLogs([]byte(logs), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ta.api.lokiEntries(b) {
		for _, v := range []string{e.Stream.Service, e.Stream.Source} {
			if strings.ContainsFunc(v, isControl) {
				t.Errorf("Loki stream label %q keeps a control character", v)
			}
		}
	}
}

// A plain body cut short (the client half-closes before its Content-Length)
// is answered as what it is, not as a gzip stream that failed.
func TestTruncatedPlainBody(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	srv := httptest.NewServer(ta.mux)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"logs\":[", LogsPath, testKey)
	conn.(*net.TCPConn).CloseWrite()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	answer, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(answer), "HTTP/1.1 400") || !strings.Contains(string(answer), "the body ends before its Content-Length of 100 bytes") || strings.Contains(string(answer), "gzip") {
		t.Errorf("answer:\n%s", answer)
	}
}
