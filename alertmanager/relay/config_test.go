package relay

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/configfile"
)

func TestDefaultConfigWritesEveryChannelToAFile(t *testing.T) {
	cfg := Default()
	if len(cfg.Targets) != 4 {
		t.Fatalf("%d targets", len(cfg.Targets))
	}
	if hb := cfg.Targets[3]; hb.Name != "heartbeat" || hb.Type != TypeFile || hb.Format != FormatHeartbeat || hb.Path != DefaultHeartbeatFile {
		t.Errorf("heartbeat target = %+v", hb)
	}
	for i, name := range []string{"discord", "slack", "hub"} {
		tc := cfg.Targets[i]
		if tc.Name != name || tc.Type != TypeFile || tc.Format != name || tc.Path != DefaultDeliveriesFile {
			t.Errorf("target %d = %+v", i, tc)
		}
	}
	if cfg.Delivery.Deadline.String() != "10s" {
		t.Errorf("deadline %s", cfg.Delivery.Deadline)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	example, err := os.ReadFile("../relay.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"relay.yml":     string(example),
		"discord.url":   "https://discord.com/api/webhooks/1/tok",
		"slack.url":     "https://hooks.slack.com/services/T/B/X",
		"hub.token":     "secret",
		"relay.tokens":  "# Alertmanager's token\nam-token-1\n",
		"heartbeat.url": "https://hc-ping.com/0f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
	}
	cfg, err := Load(filepath.Join(dir, "relay.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.tokens == nil || !cfg.Auth.tokens.Match("am-token-1") {
		t.Error("auth.bearer_tokens_file not read")
	}
	if cfg.Targets[0].url != "https://discord.com/api/webhooks/1/tok" {
		t.Error("url_file not resolved against the config's directory")
	}
	if cfg.Targets[2].HTTPClientConfig.Authorization.CredentialsFile != filepath.Join(dir, "hub.token") {
		t.Errorf("bearer_token_file became %+v", cfg.Targets[2].HTTPClientConfig.Authorization)
	}
}

// A hub target was first written "type: http"; configs that say so keep
// loading, as the same target.
func TestHubTypeKeepsItsFirstName(t *testing.T) {
	var got []TargetConfig
	for _, typ := range []string{TypeHub, TypeHTTP} {
		cfg, err := Parse([]byte(`targets: [{name: h, type: ` + typ + `, url: "https://hub.example/api/alerts", bearer_token: t}]`))
		if err != nil {
			t.Fatalf("type: %s: %v", typ, err)
		}
		if tc := cfg.Targets[0]; tc.Type != TypeHub || tc.format() != FormatHub {
			t.Errorf("type: %s loads as type %q, format %q; want hub", typ, tc.Type, tc.format())
		}
		got = append(got, cfg.Targets[0])
	}
	if got[0].url != got[1].url || got[0].HTTPClientConfig.Authorization.Type != got[1].HTTPClientConfig.Authorization.Type {
		t.Errorf("type: hub and type: http load differently: %+v, %+v", got[0], got[1])
	}
}

func TestSecretsAreMaskedWhenMarshalled(t *testing.T) {
	cfg, err := Parse([]byte(`
auth: {bearer_token: incoming-secret}
targets:
  - {name: d, type: discord, url: "https://discord.com/api/webhooks/1/url-secret"}
  - {name: h, type: http, url: "https://hub.example/api/alerts", bearer_token: hub-secret}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"incoming-secret", "url-secret", "hub-secret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("marshalled config shows %q:\n%s", secret, out)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"targets:\n  - {name: d, type: discord, url: \"https://x/y\", colour: red}\n", `line 2: unknown key "colour"`},
		{"delivery:\n  deadlin: 5s\n", `line 2: unknown key "deadlin"`},
		{"targets: []\n", "targets: at least one target"},
		{"targets: [{name: d, type: teams, url: \"https://x\"}]", `type: "teams" is not one of`},
		{"targets: [{name: d, type: discord}]", "url or url_file: required"},
		{"targets: [{name: d, type: discord, url_file: missing.url}]", "url_file: open"},
		{"targets: [{name: d, type: discord, url: \"ftp://secret-host/x\"}]", `scheme "ftp"`},
		{"targets: [{name: a/b, type: file, path: x, format: hub}]", "name:"},
		{"targets: [{name: a, type: file, path: x, format: hub}, {name: a, type: file, path: y, format: hub}]", "used by another target"},
		{"targets: [{name: a, type: file, path: x, format: teams}]", `format: "teams"`},
		{"targets: [{name: a, type: slack, url: \"https://x\", templates: {title: \"{{ .Nope }}\"}}]", "templates.title"},
		{"targets: [{name: a, type: slack, url: \"https://x\", mention_role: \"1\"}]", `mention_role: only for type "discord"`},
		{"targets: [{name: a, type: file, path: x, format: discord, on_resolve: post}]", "a file keeps no message to edit"},
		{"targets: [{name: a, type: hub, url: \"https://x\", templates: {title: x}}]", "set templates.description"},
		{"targets: [{name: a, type: slack, url: \"https://x\", bearer_token: t}]", `only for type "hub"`},
		{"delivery: {deadline: 2m}\ntargets: [{name: a, type: file, path: x, format: hub}]", "deadline: 2m must be"},
		{"auth: {basic_auth: {username: u}}\ntargets: [{name: a, type: file, path: x, format: hub}]", "the relay takes basic auth from --web.config.file"},
	} {
		err := configfile.Parse([]byte(c.yaml), t.TempDir(), base())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.yaml, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-host") {
			t.Errorf("error quotes the URL: %v", err)
		}
	}
}

func TestDeliveredMemoryIsBounded(t *testing.T) {
	now := time.Unix(0, 0)
	d := newDelivered(time.Minute, 3)
	d.now = func() time.Time { return now }
	keys := make([]messageKey, 5)
	for i := range keys {
		keys[i] = keyOf("t", "g", false, format.Message{Alerts: []string{fmt.Sprint(i)}}, nil)
		d.Remember(keys[i])
	}
	if d.Len() != 3 || d.Seen(keys[0]) || d.Seen(keys[1]) || !d.Seen(keys[4]) {
		t.Errorf("len %d; oldest must go first when full", d.Len())
	}
	now = now.Add(time.Minute)
	if d.Seen(keys[4]) {
		t.Error("an entry outlived its ttl")
	}
	d.Remember(keyOf("t", "g", false, format.Message{Alerts: []string{"new"}}, nil))
	if d.Len() != 1 {
		t.Errorf("expired entries not dropped: len %d", d.Len())
	}
	if keyOf("a", "g", false, format.Message{Alerts: []string{"x"}}, nil) == keyOf("b", "g", false, format.Message{Alerts: []string{"x"}}, nil) || keyOf("a", "g1", false, format.Message{Alerts: []string{"x"}}, nil) == keyOf("a", "g2", false, format.Message{Alerts: []string{"x"}}, nil) ||
		keyOf("a", "g", false, format.Message{Alerts: []string{"fp1@0"}}, nil) == keyOf("a", "g", false, format.Message{Alerts: []string{"fp2@0"}}, nil) ||
		keyOf("a", "g", true, format.Message{Edit: "1", Alerts: []string{"x"}}, nil) == keyOf("a", "g", false, format.Message{Alerts: []string{"x"}}, nil) ||
		keyOf("a", "g", false, format.Message{Alerts: []string{"x"}}, map[string]bool{"x": true}) == keyOf("a", "g", false, format.Message{Alerts: []string{"x"}}, nil) {
		t.Error("keys must differ by target and group")
	}
}

// Alertmanager's max_alerts keeps every notification under the relay's body
// limit, even with long annotations: a 413 would lose the notification
// (Alertmanager does not retry a 4xx).
func TestAlertmanagerMaxAlertsFitsTheBodyLimit(t *testing.T) {
	data, err := os.ReadFile("../alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	var am struct {
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				MaxAlerts int `yaml:"max_alerts"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(data, &am); err != nil {
		t.Fatal(err)
	}
	limit := Default().Webhook.MaxBodyBytes
	for _, r := range am.Receivers {
		for _, w := range r.WebhookConfigs {
			if w.MaxAlerts <= 0 {
				t.Fatalf("receiver %s: no max_alerts; a large group could exceed the relay's %d-byte body limit", r.Name, limit)
			}
			n := formattest.ByInstance(w.MaxAlerts)
			for i := range n.Alerts {
				n.Alerts[i].Annotations["description"] = strings.Repeat("d", 1000)
			}
			body, _ := json.Marshal(notificationOf(n, `{}:{alertname="ErrorRateHigh"}`))
			if int64(len(body)) > limit {
				t.Errorf("receiver %s: %d alerts with 1000-character descriptions take %d bytes, over webhook.max_body_bytes %d", r.Name, w.MaxAlerts, len(body), limit)
			}
		}
	}
}

// A Discord or Slack message of 10 alerts (about 10 KB) goes out in one
// socket write: the transport prometheus/common builds for a webhook URL
// gets a write buffer that holds it. This fails if a prometheus/common
// upgrade wraps the transport even without authentication.
func TestWebhookTransportHoldsAMessageInOneWrite(t *testing.T) {
	cfg, err := Parse([]byte(`
targets:
  - {name: discord, type: discord, url: "https://discord.com/api/webhooks/1/tok"}
  - name: hub
    type: http
    url: https://hub.example/api/alerts
    http_config: {authorization: {credentials: secret}}
`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(cfg, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := r.state.Load().targets["discord"].client.Transport.(*http.Transport)
	if !ok || tr.WriteBufferSize != messageWriteBuffer {
		t.Errorf("discord transport %T, write buffer not %d", r.state.Load().targets["discord"].client.Transport, messageWriteBuffer)
	}
	// An authenticated target keeps its wrapped transport as built.
	if _, ok := r.state.Load().targets["hub"].client.Transport.(*http.Transport); ok {
		t.Error("hub's transport lost its authorization round tripper")
	}
}
