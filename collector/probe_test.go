package collector

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/expositiontest"
)

// testProbeConfig is a valid probe of url with the config's defaults.
func testProbeConfig(t *testing.T, name, url string, edit func(*config.ProbeConfig)) config.ProbeConfig {
	t.Helper()
	cfg := config.Default()
	p := config.ProbeConfig{
		Name:             name,
		URL:              url,
		Method:           http.MethodGet,
		Interval:         model.Duration(time.Hour),
		Timeout:          model.Duration(10 * time.Second),
		ExpectedStatus:   []int{http.StatusOK},
		HTTPClientConfig: commonconfig.DefaultHTTPClientConfig,
	}
	if edit != nil {
		edit(&p)
	}
	cfg.Probes = []config.ProbeConfig{p}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg.Probes[0]
}

func newTestProber(t *testing.T, cfg config.ProbeConfig) (*prober, *lockedBuffer) {
	t.Helper()
	logger, logs := newTestLogger()
	p, err := newProber(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	return p, logs
}

func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func TestProbeRunClassifiesAnswers(t *testing.T) {
	loading := string(readFixture(t, "huggingface/model_loading.json"))
	for _, tc := range []struct {
		name         string
		handler      http.HandlerFunc
		edit         func(*config.ProbeConfig)
		wantReason   string
		wantStatus   int
		wantEstimate float64
	}{
		{"200", answer(200, `{"object":"list","data":[]}`), nil, "", 200, 0},
		{"Hugging Face model loading", answer(503, loading, "Content-Type", "application/json"), nil, reasonModelLoading, 503, 20},
		{"plain 503", answer(503, "upstream connect error"), nil, reasonHTTP5xx, 503, 0},
		{"500", answer(500, `{"error":"internal"}`), nil, reasonHTTP5xx, 500, 0},
		{"429", answer(429, `{"error":"rate limited"}`, "Retry-After", "30"), nil, reasonHTTP429, 429, 0},
		{"401", answer(401, `{"error":"Invalid credentials in Authorization header"}`), nil, reasonHTTP4xx, 401, 0},
		{"expected 401", answer(401, ""), func(p *config.ProbeConfig) { p.ExpectedStatus = []int{401} }, "", 401, 0},
		{"200 not expected", answer(200, ""), func(p *config.ProbeConfig) { p.ExpectedStatus = []int{204} }, reasonUnexpectedStatus, 200, 0},
		{"redirect not followed", answer(302, "", "Location", "/elsewhere"), func(p *config.ProbeConfig) {
			p.HTTPClientConfig.FollowRedirects = false
		}, reasonUnexpectedStatus, 302, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			p, _ := newTestProber(t, testProbeConfig(t, "hf", srv.URL, tc.edit))
			r := p.run(context.Background())
			if r.reason != tc.wantReason || r.status != tc.wantStatus || r.loadingEstimate != tc.wantEstimate {
				t.Fatalf("got reason %q status %d estimate %v (err %v); want %q %d %v",
					r.reason, r.status, r.loadingEstimate, r.err, tc.wantReason, tc.wantStatus, tc.wantEstimate)
			}
		})
	}
}

func TestProbeRunWithoutAnAnswer(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		// The server never answers; only the probe's timeout ends the run.
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		p, _ := newTestProber(t, testProbeConfig(t, "hf", srv.URL, func(p *config.ProbeConfig) {
			p.Timeout = model.Duration(50 * time.Millisecond)
		}))
		if r := p.run(context.Background()); r.reason != reasonTimeout {
			t.Fatalf("reason %q (err %v), want timeout", r.reason, r.err)
		}
	})
	t.Run("network", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close() // nothing listens any more
		p, _ := newTestProber(t, testProbeConfig(t, "hf", srv.URL, nil))
		if r := p.run(context.Background()); r.reason != reasonNetwork || r.status != 0 {
			t.Fatalf("reason %q status %d, want network 0", r.reason, r.status)
		}
	})
}

func TestProbeSendsMethodBodyAndHeaders(t *testing.T) {
	type seen struct{ method, body, contentType, host string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(body), r.Header.Get("Content-Type"), r.Host}
	}))
	defer srv.Close()
	chat := `{"model":"meta-llama/Llama-3.1-8B-Instruct","messages":[{"role":"user","content":"ping"}],"max_tokens":1}`
	p, _ := newTestProber(t, testProbeConfig(t, "hf_chat", srv.URL, func(p *config.ProbeConfig) {
		p.Method, p.Body = http.MethodPost, chat
		p.Headers = map[string]string{"Content-Type": "application/json", "Host": "router.huggingface.co"}
	}))
	if r := p.run(context.Background()); !r.success() {
		t.Fatalf("run failed: %q %v", r.reason, r.err)
	}
	if s := <-got; s != (seen{"POST", chat, "application/json", "router.huggingface.co"}) {
		t.Fatalf("server saw %+v", s)
	}
}

// The Pi Platform API wants "Authorization: Key <server API key>": the type
// and a credentials file come from http_config, the key never from a flag.
func TestProbeKeyAuthorizationFromFile(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pi-server.key")
	if err := os.WriteFile(keyFile, []byte("pi-server-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/payments/incomplete_server_payments" || r.Header.Get("Authorization") != "Key pi-server-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"incomplete_server_payments":[]}`)
	}))
	defer srv.Close()
	p, _ := newTestProber(t, testProbeConfig(t, "pi_platform", srv.URL+"/v2/payments/incomplete_server_payments", func(p *config.ProbeConfig) {
		p.HTTPClientConfig.Authorization = &commonconfig.Authorization{Type: "Key", CredentialsFile: keyFile}
	}))
	if r := p.run(context.Background()); !r.success() {
		t.Fatalf("reason %q status %d: the Key authorization was not sent", r.reason, r.status)
	}
}

// A bearer token, or a token in the URL's query, never reaches the log, the
// exposition or a config error.
func TestProbeSecretsStayOutOfLogsAndMetrics(t *testing.T) {
	const token, queryToken = "hf_bearer_secret_123", "query_secret_456"
	failing := httptest.NewServer(answer(500, "boom"))
	defer failing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	for _, url := range []string{failing.URL + "/v1/models?api_key=" + queryToken, gone.URL + "/v1/models?api_key=" + queryToken} {
		cfg := testProbeConfig(t, "hf", url, func(p *config.ProbeConfig) {
			p.HTTPClientConfig.Authorization = &commonconfig.Authorization{Type: "Bearer", Credentials: token}
		})
		p, logs := newTestProber(t, cfg)
		p.record(p.run(context.Background()))
		out, err := testutil.CollectAndFormat(collectorAdapter{&probeCollector{probers: []*prober{p}}}, expfmt.TypeTextPlain)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{token, queryToken} {
			if strings.Contains(logs.String(), secret) || strings.Contains(string(out), secret) {
				t.Fatalf("secret %q leaked:\nlogs: %s\nmetrics: %s", secret, logs, out)
			}
		}
		if !strings.Contains(logs.String(), "Probe failed") {
			t.Fatalf("the failure itself must be logged:\n%s", logs)
		}
	}
}

func TestProbeLogsChangesNotEveryFailure(t *testing.T) {
	p, logs := newTestProber(t, testProbeConfig(t, "hf", "http://hf.invalid/", nil))
	fail := probeResult{start: testNow, reason: reasonHTTP5xx, status: 502}
	p.record(fail)
	p.record(fail)
	p.record(fail)
	p.record(probeResult{start: testNow, status: 200})
	out := logs.String()
	if n := strings.Count(out, "Probe failed"); n != 1 {
		t.Fatalf("%d failure warnings for one outage, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "Probe recovered") {
		t.Fatalf("recovery not logged:\n%s", out)
	}
}

func TestProbeExposition(t *testing.T) {
	p, _ := newTestProber(t, testProbeConfig(t, "huggingface", "http://hf.invalid/", nil))
	c := &probeCollector{probers: []*prober{p}}

	// Before the first run: counters at 0, no made-up result.
	if n := testutil.CollectAndCount(collectorAdapter{c}, "resonance_probe_success"); n != 0 {
		t.Fatalf("resonance_probe_success before any run: %d series, want none", n)
	}

	p.record(probeResult{start: testNow, duration: 250 * time.Millisecond, status: 503, reason: reasonModelLoading, loadingEstimate: 20})
	expositiontest.Compare(t, collectorAdapter{c}, "probe")

	// Once the model is up, the estimate goes away.
	p.record(probeResult{start: testNow, duration: time.Second, status: 200})
	if n := testutil.CollectAndCount(collectorAdapter{c}, "resonance_probe_model_loading_estimated_seconds"); n != 0 {
		t.Fatalf("estimate still exposed after a success")
	}
}

// Close stops a probe whose request is in flight at once (the request is
// cancelled) and records no failure for it: the upstream did nothing wrong.
func TestProbeStopsPromptlyOnClose(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	}))
	defer srv.Close()
	cfg := config.Default()
	// An hour-long timeout: if Close did not cancel the request, this test
	// would hang instead of passing.
	cfg.Probes = []config.ProbeConfig{testProbeConfig(t, "slow", srv.URL, func(p *config.ProbeConfig) {
		p.Timeout = model.Duration(time.Hour)
	})}
	logger, _ := newTestLogger()
	c, err := newProbeCollector(Deps{Config: cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	c.(starter).start()
	<-arrived // the first run starts right away, not after an interval
	if err := c.(*probeCollector).Close(); err != nil {
		t.Fatal(err)
	}
	p := c.(*probeCollector).probers[0]
	if p.last != nil || p.failures[reasonTimeout]+p.failures[reasonNetwork] != 0 {
		t.Fatalf("an aborted run was recorded: %+v %v", p.last, p.failures)
	}
}

func TestNoProbesNoCollector(t *testing.T) {
	logger, _ := newTestLogger()
	c, err := newProbeCollector(Deps{Config: config.Default(), Logger: logger})
	if c != nil || err != nil {
		t.Fatalf("got %v, %v; want no collector when no probe is configured", c, err)
	}
}
