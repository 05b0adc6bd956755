package config

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProbeDefaults(t *testing.T) {
	cfg, err := Parse([]byte("probes:\n  - name: huggingface\n    url: https://router.huggingface.co/v1/models\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Probes[0]
	if p.Method != http.MethodGet || time.Duration(p.Interval) != 30*time.Second ||
		time.Duration(p.Timeout) != 10*time.Second || len(p.ExpectedStatus) != 1 || p.ExpectedStatus[0] != 200 ||
		!p.HTTPClientConfig.FollowRedirects {
		t.Fatalf("probe defaults: %+v", p)
	}
}

// The Pi Platform API wants "Authorization: Key <server key>": prometheus/common
// takes any authorization type, and reads the credentials from a file.
func TestProbeKeyAuthorization(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exporter.yml")
	doc := `probes:
  - name: pi_platform
    url: https://api.minepi.com/v2/payments/incomplete_server_payments
    http_config:
      authorization:
        type: Key
        credentials_file: pi-server.key
`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	auth := cfg.Probes[0].HTTPClientConfig.Authorization
	if auth.Type != "Key" || auth.CredentialsFile != filepath.Join(dir, "pi-server.key") {
		t.Fatalf("authorization = %+v", auth)
	}
}

func TestBearerTokenFileBecomesBearerAuthorization(t *testing.T) {
	cfg, err := Parse([]byte("probes:\n  - name: hf\n    url: https://hf/\n    http_config: {bearer_token_file: hf.token}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if auth := cfg.Probes[0].HTTPClientConfig.Authorization; auth == nil || auth.Type != "Bearer" || auth.CredentialsFile != "hf.token" {
		t.Fatalf("authorization = %+v", auth)
	}
}

func TestProbeInvalid(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"authorization header", "probes:\n  - name: hf\n    url: http://hf/\n    headers: {authorization: \"Bearer hf_x\"}\n",
			`probes[0].headers: "authorization" must not be set here; use http_config.authorization`},
		{"body on GET", "probes:\n  - name: hf\n    url: http://hf/\n    body: \"{}\"\n",
			"probes[0].body: a GET request has no body"},
		{"basic authorization type", "probes:\n  - name: hf\n    url: http://hf/\n    http_config: {authorization: {type: Basic, credentials: x}}\n",
			`authorization type cannot be set to "basic"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestProbeErrorsDoNotEchoHeaderValues(t *testing.T) {
	_, err := Parse([]byte("probes:\n  - name: hf\n    url: http://hf/\n    headers: {Authorization: \"Bearer hf_secret\"}\n"))
	if err == nil || strings.Contains(err.Error(), "hf_secret") {
		t.Fatalf("error must not repeat the header value: %v", err)
	}
}
