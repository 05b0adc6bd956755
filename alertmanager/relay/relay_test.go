package relay

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	commonconfig "github.com/prometheus/common/config"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/alertmanager/hub"
)

// harness is a relay served over HTTP, its log and its metrics.
type harness struct {
	relay *Relay
	srv   *httptest.Server
	logs  *syncBuffer
	reg   *prometheus.Registry
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	b  bytes.Buffer
	ch chan struct{} // capacity 1: a mutex
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.ch <- struct{}{}
	defer func() { <-s.ch }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.ch <- struct{}{}
	defer func() { <-s.ch }()
	return s.b.String()
}

// newHarness loads the YAML config (with files relative to a temp dir) and
// serves the relay.
func newHarness(t testing.TB, yaml string, files map[string]string) *harness {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{ch: make(chan struct{}, 1)}
	reg := prometheus.NewRegistry()
	r, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), reg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook/{target}", r)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{relay: r, srv: srv, logs: logs, reg: reg}
}

// reply is the relay's JSON answer.
type reply struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	Messages  int    `json:"messages"`
	Delivered int    `json:"delivered"`
	Duplicate int    `json:"already_delivered"`
	Failed    int    `json:"failed"`
	Rejected  int    `json:"rejected"`
	NotSent   int    `json:"not_sent"`
}

func (h *harness) post(t testing.TB, target string, body []byte, header ...string) (int, reply) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/webhook/"+target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("answer Content-Type %q, body %s", ct, raw)
	}
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, r
}

func sinkServer(t testing.TB, s *formattest.Sink) *httptest.Server {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv
}

const fastDelivery = `
delivery: {deadline: 2s, initial_backoff: 5ms, max_backoff: 20ms}
`

func TestFixturesReachEveryChannel(t *testing.T) {
	discordSink := formattest.NewSink(formattest.DiscordLimits)
	slackSink := formattest.NewSink(formattest.SlackLimits)
	hubSink := formattest.NewSink(nil)
	h := newHarness(t, fastDelivery+`
targets:
  - {name: discord, type: discord, url_file: discord.url}
  - {name: slack, type: slack, url_file: slack.url}
  - {name: hub, type: hub, url: "`+sinkServer(t, hubSink).URL+`/api/alerts", bearer_token_file: hub.token}
`, map[string]string{
		"discord.url": sinkServer(t, discordSink).URL + "/api/webhooks/1/token\n",
		"slack.url":   sinkServer(t, slackSink).URL + "/services/T/B/X",
		"hub.token":   "hub-secret\n",
	})
	for _, body := range [][]byte{formattest.FiringBody, formattest.ResolvedBody} {
		for _, target := range []string{"discord", "slack", "hub"} {
			if code, r := h.post(t, target, body); code != http.StatusOK || r.Delivered != 1 {
				t.Errorf("%s: %d %+v", target, code, r)
			}
		}
	}
	for name, s := range map[string]*formattest.Sink{"discord": discordSink, "slack": slackSink, "hub": hubSink} {
		if n := len(s.Accepted()); n != 2 {
			t.Errorf("%s received %d messages, want 2", name, n)
		}
	}
	var ev struct {
		EventType string `json:"event_type"`
	}
	json.Unmarshal(hubSink.Accepted()[1], &ev)
	if ev.EventType != "alert.resolved" {
		t.Errorf("second hub event is %q", ev.EventType)
	}
	if got := hubSink.Requests()[0].Header.Get("Authorization"); got != "Bearer hub-secret" {
		t.Errorf("hub Authorization = %q", got)
	}
	if got := testutil.ToFloat64(h.relay.metrics.notifications.WithLabelValues("discord", outcomeDelivered)); got != 2 {
		t.Errorf("delivered notifications metric = %v", got)
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, fastDelivery+`
webhook: {max_body_bytes: 4096}
targets: [{name: hub, type: file, path: out.jsonl, format: hub}]
`, nil)
	big := bytes.Repeat([]byte(" "), 5000)
	for _, c := range []struct {
		name, target string
		body         []byte
		code         int
		errPart      string
	}{
		{"not JSON", "hub", []byte("hello"), 400, "invalid JSON"},
		{"trailing data", "hub", append(append([]byte{}, formattest.FiringBody...), "{}"...), 400, "data after"},
		{"no version", "hub", []byte(`{"alerts":[]}`), 400, `no "version"`},
		{"other version", "hub", []byte(`{"version":"3","alerts":[{"status":"firing"}]}`), 400, `version "3"`},
		{"no alerts", "hub", []byte(`{"version":"4","alerts":[]}`), 400, "no alert"},
		{"bad status", "hub", []byte(`{"version":"4","alerts":[{"status":"burning"}]}`), 400, `alerts[0].status`},
		{"wrong types", "hub", []byte(`{"version":"4","alerts":"x"}`), 400, "invalid JSON"},
		{"unknown target", "nope", formattest.FiringBody, 404, `no target named "nope"`},
		{"too large", "hub", append(big, formattest.FiringBody...), 413, "4096 bytes"},
	} {
		code, r := h.post(t, c.target, c.body)
		if code != c.code || !strings.Contains(r.Error, c.errPart) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, code, r.Error, c.code, c.errPart)
		}
	}
	resp, err := http.Get(h.srv.URL + "/webhook/hub")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	if got := testutil.ToFloat64(h.relay.metrics.rejected.WithLabelValues(rejectBadPayload)); got != 7 {
		t.Errorf("bad_payload rejections = %v, want 7", got)
	}
}

func TestAuth(t *testing.T) {
	h := newHarness(t, fastDelivery+`
auth:
  bearer_token_file: token
targets: [{name: hub, type: file, path: out.jsonl, format: hub}]
`, map[string]string{"token": "t0ken\n"})
	basic := func(u, p string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return req.Header.Get("Authorization")
	}
	for _, c := range []struct {
		auth string
		code int
	}{
		{"", 401},
		{"Bearer wrong", 401},
		{"Bearer t0ken", 200},
		{"bearer t0ken", 200}, // the scheme is case-insensitive (RFC 9110)
		{"Basic t0ken", 401},
		{basic("am", "t0ken"), 401}, // basic auth is --web.config.file's
	} {
		if code, _ := h.post(t, "hub", formattest.FiringBody, "Authorization", c.auth); code != c.code {
			t.Errorf("Authorization %q: %d, want %d", c.auth, code, c.code)
		}
	}
}

// Token rotation as an operator does it, with Alertmanager's own HTTP
// client (prometheus/common, which re-reads credentials_file on every
// request) posting all along: add the new token to the relay's tokens file,
// switch Alertmanager's file, remove the old token. No notification fails,
// no reload is needed, and the old token is refused at the end.
func TestTokenRotationWithoutAFailedNotification(t *testing.T) {
	h := newHarness(t, fastDelivery+`
auth: {bearer_tokens_file: tokens}
targets: [{name: hub, type: file, path: out.jsonl, format: hub}]
`, map[string]string{"tokens": "# relay tokens\nold-token-1\n"})
	dir := filepath.Dir(h.relay.state.Load().cfg.Targets[0].Path)
	tokens, credentials := filepath.Join(dir, "tokens"), filepath.Join(dir, "am-credentials")
	write := func(path, content string) {
		t.Helper()
		// As an editor saves: a new file renamed over the old one.
		if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".tmp", path); err != nil {
			t.Fatal(err)
		}
	}
	write(credentials, "old-token-1\n")
	am, err := commonconfig.NewClientFromConfig(commonconfig.HTTPClientConfig{
		Authorization: &commonconfig.Authorization{Type: "Bearer", CredentialsFile: credentials},
	}, "alertmanager")
	if err != nil {
		t.Fatal(err)
	}
	notify := func() int {
		resp, err := am.Post(h.srv.URL+"/webhook/hub", "application/json", bytes.NewReader(formattest.FiringBody))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	stop := make(chan struct{})
	var sent, failed atomic.Int32
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			sent.Add(1)
			if notify() != 200 {
				failed.Add(1)
			}
		}
	})
	pause := func() { time.Sleep(50 * time.Millisecond) }
	pause()
	write(tokens, "old-token-1\nnew-token-22\n")
	pause()
	write(credentials, "new-token-22\n")
	pause()
	write(tokens, "new-token-22\n")
	pause()
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || sent.Load() < 4 {
		t.Errorf("%d of %d notifications failed during the rotation", failed.Load(), sent.Load())
	}
	if code, _ := h.post(t, "hub", formattest.FiringBody, "Authorization", "Bearer old-token-1"); code != 401 {
		t.Errorf("the removed token: %d, want 401", code)
	}
	if code, _ := h.post(t, "hub", formattest.FiringBody, "Authorization", "Bearer new-token-22"); code != 200 {
		t.Errorf("the new token: %d, want 200", code)
	}
}

// A 429 is retried after the delay the channel asks, read in its units:
// the headers first (seconds in every Discord version, and Slack's), then
// Discord's body, in milliseconds for an unversioned webhook URL (as users
// copy it) and in seconds from v8 on. Misreading 300 ms as 300 s would
// fail the notification at once. A 5xx honours Retry-After only: Discord's
// X-RateLimit-Reset-After there describes its bucket, not the outage.
func TestRateLimitIsRetriedAfterTheChannelsDelay(t *testing.T) {
	limited := `{"message": "You are being rate limited.", "retry_after": %s, "global": false}`
	for _, c := range []struct {
		name, typ, path string
		reply           formattest.Reply
		want            time.Duration
		result          string // of the first attempt; rate_limited when empty
	}{
		{"discord unversioned, headers and body in ms", "discord", "/api/webhooks/1/tok", formattest.Reply{
			Status: 429, Header: map[string]string{"Retry-After": "1", "X-RateLimit-Reset-After": "0.300", "X-RateLimit-Remaining": "0"},
			Body: fmt.Sprintf(limited, "300")}, 300 * time.Millisecond, ""},
		{"discord unversioned, body in ms only", "discord", "/api/webhooks/1/tok", formattest.Reply{
			Status: 429, Body: fmt.Sprintf(limited, "300")}, 300 * time.Millisecond, ""},
		{"discord v10, body in seconds only", "discord", "/api/v10/webhooks/1/tok", formattest.Reply{
			Status: 429, Body: fmt.Sprintf(limited, "0.3")}, 300 * time.Millisecond, ""},
		{"slack, Retry-After in seconds", "slack", "/services/T0/B0/x", formattest.Reply{
			Status: 429, Header: map[string]string{"Retry-After": "1"}, Body: "rate_limited"}, time.Second, ""},
		{"hub, 503 with Retry-After", "http", "", formattest.Reply{
			Status: 503, Header: map[string]string{"Retry-After": "0.4"}, Body: "down for maintenance"}, 400 * time.Millisecond, resultServerError},
		{"discord, 503 with bucket headers only", "discord", "/api/v10/webhooks/1/tok", formattest.Reply{
			Status: 503, Header: map[string]string{"X-RateLimit-Reset-After": "3"}, Body: "upstream connect error"}, 0, resultServerError},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := formattest.NewSink(nil)
			sink.Script(c.reply)
			h := newHarness(t, `
delivery: {deadline: 5s, initial_backoff: 5ms, max_backoff: 20ms}
targets: [{name: t, type: `+c.typ+`, url: "`+sinkServer(t, sink).URL+c.path+`"}]
`, nil)
			start := time.Now()
			code, r := h.post(t, "t", formattest.FiringBody)
			took := time.Since(start)
			if code != 200 || r.Delivered != 1 {
				t.Errorf("%d %+v", code, r)
			}
			if took < c.want || took > c.want+500*time.Millisecond {
				t.Errorf("delivered after %s, want about %s", took, c.want)
			}
			result := cmp.Or(c.result, resultRateLimited)
			if got := testutil.ToFloat64(h.relay.metrics.attempts.WithLabelValues("t", result)); got != 1 {
				t.Errorf("%s attempts = %v", result, got)
			}
		})
	}
}

// A 429 asking for longer than the deadline allows fails at once with 5xx,
// so Alertmanager retries later instead of timing out on us.
func TestRateLimitBeyondDeadlineFailsFast(t *testing.T) {
	s := formattest.NewSink(nil)
	s.Script(formattest.Reply{Status: 429, Body: `{"retry_after": 30.5, "global": true}`})
	h := newHarness(t, fastDelivery+`
targets: [{name: discord, type: discord, url: "`+sinkServer(t, s).URL+`/api/v10/webhooks/1/tok"}]
`, nil)
	start := time.Now()
	code, r := h.post(t, "discord", formattest.FiringBody)
	if code < 500 || time.Since(start) > time.Second || !strings.Contains(r.Error, "429") {
		t.Errorf("%d after %s: %+v", code, time.Since(start), r)
	}
}

// A burst of 50 notifications to one Discord webhook, against a fake that
// enforces Discord's 5 requests per 2 seconds: the relay paces itself by
// the X-RateLimit-* headers and meets no 429. What cannot go out before a
// notification's deadline is answered 5xx at once and delivered when
// Alertmanager retries, as it does here.
func TestDiscordBurstMeetsNoRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 20 s: 50 requests at 5 per 2 s")
	}
	fake := formattest.NewDiscord()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	h := newHarness(t, `
webhook: {max_concurrent_requests: 50}
delivery: {deadline: 10s}
targets: [{name: discord, type: discord, url: "`+srv.URL+`/api/webhooks/1/tok"}]
`, nil)
	const n = 50
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	for round := 0; len(pending) > 0; round++ {
		if round == 5 {
			t.Fatalf("%d notifications still not delivered after %d rounds", len(pending), round)
		}
		var mu sync.Mutex
		var failed []int
		var wg sync.WaitGroup
		for _, i := range pending {
			wg.Go(func() {
				a := formattest.PlanAlert()
				a.Labels["instance"] = fmt.Sprintf("app-%02d:8080", i)
				a.Fingerprint = fmt.Sprintf("%016x", i)
				body, _ := json.Marshal(notificationOf(formattest.Group(a), fmt.Sprintf(`{}:{instance="app-%02d:8080"}`, i)))
				code, r := h.post(t, "discord", body)
				if code != 200 {
					if code < 500 {
						t.Errorf("notification %d: %d %+v", i, code, r)
					}
					mu.Lock()
					failed = append(failed, i)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		pending = failed
	}
	if got := fake.TooManyRequests(); got != 0 {
		t.Errorf("the fake answered 429 %d times", got)
	}
	if got := len(fake.Ops()); got != n {
		t.Errorf("%d messages posted, want %d", got, n)
	}
	if got := testutil.ToFloat64(h.relay.metrics.attempts.WithLabelValues("discord", resultRateLimited)); got != 0 {
		t.Errorf("rate_limited attempts = %v", got)
	}
}

// A channel that fails for a while then recovers: 5xx and network errors
// are retried with backoff within the deadline.
func TestServerErrorsAreRetriedUntilRecovery(t *testing.T) {
	s := formattest.NewSink(nil)
	s.Script(
		formattest.Reply{Status: 502, Body: "bad gateway"},
		formattest.Reply{Status: 503, Body: "unavailable"},
		formattest.Reply{Status: 500, Body: `{"message": "500: Internal Server Error", "code": 0}`},
	)
	h := newHarness(t, fastDelivery+`
targets: [{name: hub, type: http, url: "`+sinkServer(t, s).URL+`"}]
`, nil)
	if code, r := h.post(t, "hub", formattest.FiringBody); code != 200 || r.Delivered != 1 {
		t.Fatalf("%d %+v", code, r)
	}
	if n := len(s.Requests()); n != 4 {
		t.Errorf("%d requests, want 3 failures and 1 success", n)
	}
}

// A notification delivered in part: the relay answers 5xx so that
// Alertmanager retries; the parts after the failed one are held back, and
// the retry sends only what was not delivered, so every part arrives once
// and in order. (The channel fails with 503 at once here, which leaves no
// request in flight when the relay answers; with a request abandoned at the
// deadline a channel may still process it, and that one message can then
// arrive twice.)
func TestOrderKeptAcrossRetry(t *testing.T) {
	var broken atomic.Bool
	var accepted atomic.Int32
	s := formattest.NewSink(func(body []byte) (int, string) {
		if broken.Load() && accepted.Load() >= 10 {
			return 503, `upstream connect error`
		}
		if code, reply := formattest.DiscordLimits(body); code != 204 {
			return code, reply
		}
		accepted.Add(1)
		return 204, ""
	})
	h := newHarness(t, `
delivery: {deadline: 1500ms, initial_backoff: 5ms, max_backoff: 20ms}
targets: [{name: discord, type: discord, url: "`+sinkServer(t, s).URL+`"}]
`, nil)
	body, _ := json.Marshal(notificationOf(formattest.Many(300), "{}:{alertname=\"ErrorRateHigh\"}"))

	broken.Store(true)
	code, r := h.post(t, "discord", body)
	parts := r.Messages
	if code < 500 || parts < 30 || r.Delivered != 10 || r.Failed != 1 || r.NotSent != parts-11 {
		t.Fatalf("while broken: %d %+v", code, r)
	}
	broken.Store(false)
	code, r = h.post(t, "discord", body)
	if code != 200 || r.Delivered != parts-10 || r.Duplicate != 10 {
		t.Fatalf("after recovery: %d %+v", code, r)
	}
	got := s.Accepted()
	if len(got) != parts {
		t.Fatalf("%d messages accepted, want %d, each once", len(got), parts)
	}
	for i, b := range got {
		var m struct{ Content string }
		json.Unmarshal(b, &m)
		if n := partNumber(m.Content); n != i+1 {
			t.Fatalf("message %d arrived as part %d: %q", i+1, n, m.Content)
		}
	}
}

// A channel down for longer than the deadline: 5xx to Alertmanager, in time.
func TestChannelDownBeyondDeadline(t *testing.T) {
	s := formattest.NewSink(func([]byte) (int, string) { return 503, "down" })
	h := newHarness(t, `
delivery: {deadline: 300ms, initial_backoff: 5ms, max_backoff: 20ms}
targets: [{name: hub, type: http, url: "`+sinkServer(t, s).URL+`"}]
`, nil)
	start := time.Now()
	code, r := h.post(t, "hub", formattest.FiringBody)
	if code < 500 || r.Failed != 1 || !strings.Contains(r.Error, "503") {
		t.Errorf("%d %+v", code, r)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("answered after %s, deadline 300ms", took)
	}
	if n := len(s.Requests()); n < 3 {
		t.Errorf("%d attempts within the deadline, want several", n)
	}
}

// A 4xx is the channel's final word: no retry, one log line with the
// channel's reason, counted as a rejected notification, and a 422 that
// Alertmanager does not retry for hours (it retries only 5xx).
func TestChannelRejectionIsLoggedOnceWithItsReason(t *testing.T) {
	slackSink := formattest.NewSink(formattest.SlackLimits)
	slackSink.Script(formattest.Reply{Status: 400, Body: "invalid_blocks"})
	discordSink := formattest.NewSink(nil)
	discordSink.Script(formattest.Reply{Status: 404, Body: `{"message": "Unknown Webhook", "code": 10015}`})
	h := newHarness(t, fastDelivery+`
targets:
  - {name: slack, type: slack, url: "`+sinkServer(t, slackSink).URL+`"}
  - {name: discord, type: discord, url: "`+sinkServer(t, discordSink).URL+`"}
`, nil)
	for target, want := range map[string]string{"slack": "invalid_blocks", "discord": "Unknown Webhook"} {
		code, r := h.post(t, target, formattest.FiringBody)
		if code != http.StatusUnprocessableEntity || r.Rejected != 1 || !strings.Contains(r.Error, want) {
			t.Errorf("%s: %d %q", target, code, r.Error)
		}
		if n := strings.Count(h.logs.String(), want); n != 1 {
			t.Errorf("%s: reason logged %d times, want once", target, n)
		}
		if !strings.Contains(h.logs.String(), "target="+target+" group_key=") {
			t.Errorf("%s: the log line does not name the target and group:\n%s", target, h.logs.String())
		}
		if got := testutil.ToFloat64(h.relay.metrics.messages.WithLabelValues(target, messageRejected)); got != 1 {
			t.Errorf("%s: rejected messages = %v", target, got)
		}
		if got := testutil.ToFloat64(h.relay.metrics.notifications.WithLabelValues(target, outcomeRejected)); got != 1 {
			t.Errorf("%s: rejected notifications = %v", target, got)
		}
	}
	if len(slackSink.Requests()) != 1 || len(discordSink.Requests()) != 1 {
		t.Error("a rejected message was retried")
	}
}

// The webhook URL is the channel's credential: it must not appear in an
// answer or a log line, even when Go's *url.Error would print it.
func TestWebhookURLNeverLeaks(t *testing.T) {
	const token = "SECRET-TOKEN-4f9a"
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connection refused: a *url.Error carrying the URL
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"message": "bad request to http://%s%s"}`, r.Host, r.URL.Path)
	}))
	t.Cleanup(echo.Close)
	// A 404 page that quotes the path, not the URL: the token in it must
	// go too (Express's "Cannot POST /path").
	pathOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		fmt.Fprintf(w, "Cannot POST %s", r.URL.Path)
	}))
	t.Cleanup(pathOnly.Close)
	h := newHarness(t, fastDelivery+`
targets:
  - {name: down, type: discord, url_file: down.url}
  - {name: echo, type: slack, url: "`+echo.URL+`/services/`+token+`"}
  - {name: gone, type: discord, url: "`+pathOnly.URL+`/api/webhooks/888/`+token+`"}
  - {name: query, type: slack, url: "`+pathOnly.URL+`/hooks?token=`+token+`"}
`, map[string]string{"down.url": closed.URL + "/api/webhooks/1/" + token})
	for _, target := range []string{"down", "echo", "gone", "query"} {
		code, r := h.post(t, target, formattest.FiringBody)
		if code < 400 || r.Error == "" {
			t.Errorf("%s: %d %+v", target, code, r)
		}
		if strings.Contains(r.Error, token) {
			t.Errorf("%s: answer leaks the URL: %s", target, r.Error)
		}
	}
	if strings.Contains(h.logs.String(), token) {
		t.Errorf("log leaks the URL:\n%s", h.logs.String())
	}
	if !strings.Contains(h.logs.String(), "<redacted>") {
		t.Errorf("expected the redacted errors in the log:\n%s", h.logs.String())
	}
}

func TestFileTargetAppendsJSONLines(t *testing.T) {
	h := newHarness(t, fastDelivery+`
targets:
  - {name: discord, type: file, path: out.jsonl, format: discord}
  - {name: hub, type: file, path: out.jsonl, format: hub}
`, nil)
	h.post(t, "discord", formattest.FiringBody)
	h.post(t, "hub", formattest.ResolvedBody)
	path := h.relay.state.Load().cfg.Targets[0].Path
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), data)
	}
	var line struct {
		Target  string          `json:"target"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &line); err != nil || line.Target != "hub" || !bytes.Contains(line.Payload, []byte("alert.resolved")) {
		t.Errorf("line 2 = %s (%v)", lines[1], err)
	}
}

func notificationOf(d any, groupKey string) map[string]any {
	b, _ := json.Marshal(d)
	var m map[string]any
	json.Unmarshal(b, &m)
	m["version"] = "4"
	m["groupKey"] = groupKey
	return m
}

// Hub events are independent requests and go out a few at a time; the
// parts of a split Discord notification go out one after another, in order.
func TestConcurrencyPerChannelType(t *testing.T) {
	var mu sync.Mutex
	inFlight, peak := map[string]int{}, map[string]int{}
	var order []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		path := r.URL.Path
		mu.Lock()
		inFlight[path]++
		peak[path] = max(peak[path], inFlight[path])
		if path == "/discord" {
			var msg struct{ Content string }
			json.Unmarshal(body, &msg)
			order = append(order, msg.Content)
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // long enough for concurrent requests to overlap
		mu.Lock()
		inFlight[path]--
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(sink.Close)
	h := newHarness(t, fastDelivery+fmt.Sprintf(`
targets:
  - {name: discord, type: discord, url: %q}
  - {name: hub, type: http, url: %q}
`, sink.URL+"/discord", sink.URL+"/hub"), nil)

	body, _ := json.Marshal(notificationOf(formattest.Many(30), "{}:{alertname=\"Many\"}"))
	for _, target := range []string{"discord", "hub"} {
		if code, rep := h.post(t, target, body); code != http.StatusOK || rep.Failed != 0 {
			t.Fatalf("%s: %d %+v", target, code, rep)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if peak["/hub"] < 2 || peak["/hub"] > hubParallelism {
		t.Errorf("hub: at most %d concurrent requests wanted, and more than 1; peak %d", hubParallelism, peak["/hub"])
	}
	if peak["/discord"] != 1 {
		t.Errorf("discord: messages of one notification must go out one at a time; peak %d", peak["/discord"])
	}
	if len(order) < 3 || partNumber(order[0]) != 1 || !slices.IsSortedFunc(order, func(a, b string) int { return partNumber(a) - partNumber(b) }) {
		t.Errorf("discord parts out of order: %q", order)
	}
}

// partNumber reads n from a split message's "(n/m)".
func partNumber(content string) int {
	var n, m int
	if i := strings.LastIndex(content, "("); i >= 0 {
		fmt.Sscanf(content[i:], "(%d/%d)", &n, &m)
	}
	return n
}

// 30 alerts that differ only by instance, firing at the same instant (as
// Prometheus sends them), reach the hub as 30 events, each naming its
// alert; and so do their simultaneous resolutions.
func TestAlertsDifferingOnlyByInstanceReachTheHubAsManyEvents(t *testing.T) {
	s := formattest.NewSink(func(body []byte) (int, string) {
		var ev hub.Event
		if err := json.Unmarshal(body, &ev); err != nil || ev.Fingerprint == "" || ev.Labels["instance"] == "" {
			return 400, `{"error": "not an alert event"}`
		}
		return 202, ""
	})
	h := newHarness(t, fastDelivery+`
targets: [{name: hub, type: http, url: "`+sinkServer(t, s).URL+`/api/alerts"}]
`, nil)
	firing := formattest.ByInstance(30)
	resolved := formattest.Resolve(firing, formattest.PlanTime.Add(12*time.Minute))
	for _, data := range []*template.Data{firing, resolved} {
		body, _ := json.Marshal(notificationOf(data, `{}/{severity="critical"}:{alertname="ErrorRateHigh"}`))
		if code, r := h.post(t, "hub", body); code != 200 || r.Delivered != 30 {
			t.Fatalf("%s: %d %+v", data.Status, code, r)
		}
	}
	seen := map[string]bool{}
	for _, b := range s.Accepted() {
		var ev hub.Event
		json.Unmarshal(b, &ev)
		seen[ev.EventType+" "+ev.Labels["instance"]] = true
	}
	if len(seen) != 60 {
		t.Errorf("%d distinct (event type, instance) pairs reached the hub, want 60", len(seen))
	}
}

// 200 alerts with texts at every limit, to each channel type through fakes
// that enforce the channels' limits: every alert arrives, in as many
// messages as needed, and no message is refused.
func TestLongAlertsReachEveryChannelWithinItsLimits(t *testing.T) {
	discordFake := formattest.NewDiscord()
	discordFake.Limit = 1000 // the pacing has its own test
	discordSrv := httptest.NewServer(discordFake)
	t.Cleanup(discordSrv.Close)
	slackSink := formattest.NewSink(formattest.SlackLimits)
	hubSink := formattest.NewSink(func([]byte) (int, string) { return 202, "" })
	h := newHarness(t, `
delivery: {deadline: 10s}
targets:
  - {name: discord, type: discord, url: "`+discordSrv.URL+`/api/webhooks/1/tok"}
  - {name: slack, type: slack, url: "`+sinkServer(t, slackSink).URL+`/services/T/B/x"}
  - {name: hub, type: http, url: "`+sinkServer(t, hubSink).URL+`/api/alerts"}
`, nil)
	data := formattest.ByInstance(200)
	for i := range data.Alerts {
		a := &data.Alerts[i]
		a.Annotations = template.KV{
			"summary":       strings.Repeat("Summary <!channel> ", 30),
			"description":   strings.Repeat("ü description & more ", 400),
			"runbook_url":   "https://example.org/" + strings.Repeat("r", 900),
			"current_value": strings.Repeat("9", 300),
			"threshold":     "5",
		}
		a.Labels["mountpoint"] = "/" + strings.Repeat("m", 300)
	}
	data.CommonAnnotations = template.KV{}
	body, _ := json.Marshal(notificationOf(data, `{}:{alertname="ErrorRateHigh"}`))
	for _, target := range []string{"discord", "slack", "hub"} {
		code, r := h.post(t, target, body)
		if code != 200 || r.Delivered != r.Messages {
			t.Errorf("%s: %d %+v", target, code, r)
		}
	}
	count := func(bodies [][]byte, field string) int {
		n := 0
		for _, b := range bodies {
			n += strings.Count(string(b), field)
		}
		return n
	}
	var discordBodies [][]byte
	for _, op := range discordFake.Ops() {
		discordBodies = append(discordBodies, op.Body)
	}
	if n := count(discordBodies, `"name":"Alert"`); n != 200 {
		t.Errorf("discord: %d alerts arrived, want 200", n)
	}
	if n := count(slackSink.Accepted(), `*Alert:*`); n != 200 {
		t.Errorf("slack: %d alerts arrived, want 200", n)
	}
	if n := len(hubSink.Accepted()); n != 200 {
		t.Errorf("hub: %d events arrived, want 200", n)
	}
}

// Slack's Web API answers a refusal with 200 and {"ok": false}: it is a
// rejection, not a delivery.
func TestSlackOKFalseIsARejection(t *testing.T) {
	s := formattest.NewSink(formattest.SlackLimits)
	s.Script(formattest.Reply{Status: 200, Header: map[string]string{"Content-Type": "application/json"},
		Body: `{"ok": false, "error": "msg_blocks_too_long", "response_metadata": {"messages": []}}`})
	h := newHarness(t, fastDelivery+`
targets: [{name: slack, type: slack, url: "`+sinkServer(t, s).URL+`/services/T/B/x"}]
`, nil)
	code, r := h.post(t, "slack", formattest.FiringBody)
	if code != http.StatusUnprocessableEntity || r.Rejected != 1 || !strings.Contains(r.Error, "msg_blocks_too_long") {
		t.Errorf("%d %+v", code, r)
	}
	if code, r := h.post(t, "slack", formattest.FiringBody); code != 200 || r.Delivered != 1 {
		t.Errorf("then ok: %d %+v", code, r)
	}
}

// Notify delivers from inside the process (scheduled reports) through the
// same formatter, limits and retries as a webhook notification.
func TestNotifyFromInsideTheProcess(t *testing.T) {
	s := formattest.NewSink(formattest.SlackLimits)
	s.Script(formattest.Reply{Status: 503, Body: "unavailable"})
	h := newHarness(t, fastDelivery+`
targets: [{name: slack, type: slack, url: "`+sinkServer(t, s).URL+`/services/T/B/x"}]
`, nil)
	if err := h.relay.Notify(context.Background(), "slack", formattest.PlanData(), "report:morning"); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Accepted()); got != 1 {
		t.Errorf("%d messages accepted after one 503, want 1", got)
	}
	if err := h.relay.Notify(context.Background(), "nope", formattest.PlanData(), "x"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown target: %v", err)
	}
	if got := testutil.ToFloat64(h.relay.metrics.notifications.WithLabelValues("slack", outcomeDelivered)); got != 1 {
		t.Errorf("delivered notifications = %v", got)
	}
}

// Two clustered Alertmanagers send the same notification, each with its own
// external URL (so their Silence links differ): the channel gets it once.
func TestClusteredAlertmanagersWithTheirOwnURLsDeliverOnce(t *testing.T) {
	s := formattest.NewSink(formattest.DiscordLimits)
	h := newHarness(t, fastDelivery+`
targets: [{name: discord, type: discord, url: "`+sinkServer(t, s).URL+`/api/webhooks/1/tok"}]
`, nil)
	for _, am := range []string{"http://alertmanager-0:9093", "http://alertmanager-1:9093"} {
		data := formattest.ByInstance(3)
		data.ExternalURL = am
		body, _ := json.Marshal(notificationOf(data, `{}/{severity="critical"}:{alertname="ErrorRateHigh"}`))
		if code, r := h.post(t, "discord", body); code != 200 {
			t.Fatalf("%s: %d %+v", am, code, r)
		}
	}
	if got := len(s.Accepted()); got != 1 {
		t.Errorf("%d messages delivered, want 1", got)
	}
}

// Alerts are counted by status, whatever their order in the notification.
func TestAlertsCountedByStatus(t *testing.T) {
	h := newHarness(t, fastDelivery+`
targets:
  - {name: hub, type: hub, url: "`+sinkServer(t, formattest.NewSink(nil)).URL+`/api/alerts"}
`, nil)
	var alerts []string
	for i, status := range []string{"firing", "firing", "resolved", "firing", "resolved", "resolved"} {
		alerts = append(alerts, fmt.Sprintf(`{"status":%q,"labels":{"alertname":"A","instance":"i%d"},"startsAt":"2025-12-11T01:54:16Z"}`, status, i))
	}
	body := `{"version":"4","groupKey":"{}:{alertname=\"A\"}","status":"firing","alerts":[` + strings.Join(alerts, ",") + `]}`
	if code, r := h.post(t, "hub", []byte(body)); code != http.StatusOK {
		t.Fatalf("%d %+v", code, r)
	}
	for status, want := range map[string]float64{"firing": 3, "resolved": 3} {
		if got := testutil.ToFloat64(h.relay.metrics.alerts.WithLabelValues("hub", status)); got != want {
			t.Errorf("%s alerts counted %v, want %v", status, got, want)
		}
	}
}

// Notifications in flight are bounded (webhook.max_concurrent_requests):
// with a channel that hangs, the ones past the bound are answered 503 with
// Retry-After at once, counted, and hold no memory; once the channel
// answers, the relay takes notifications again.
func TestInFlightNotificationsAreBounded(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hanging.Close)
	h := newHarness(t, `
webhook: {max_concurrent_requests: 3}
delivery: {deadline: 10s}
targets: [{name: hub, type: hub, url: "`+hanging.URL+`"}]
`, nil)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.post(t, "hub", formattest.FiringBody)
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); h.relay.inFlight.Load() < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d in flight, want 3", h.relay.inFlight.Load())
		}
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/webhook/hub", strings.NewReader(string(formattest.FiringBody)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "webhook.max_concurrent_requests") {
		t.Errorf("the 4th notification: %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if got := testutil.ToFloat64(h.relay.metrics.rejected.WithLabelValues(rejectOverloaded)); got != 1 {
		t.Errorf("overloaded rejections = %v, want 1", got)
	}
	close(release)
	wg.Wait()
	if code, r := h.post(t, "hub", formattest.FiringBody); code != http.StatusOK {
		t.Errorf("after the channel answered: %d %+v", code, r)
	}
}
