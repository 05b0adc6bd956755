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

// The api probe of the service's own health URL is documented, not
// shipped: docs/probes.md's recipe and the commented examples in the
// shipped configs and the chart's values must be configs that load, with
// the probe named api. Uncommenting an example must be all it takes.
func TestDocumentedAPIProbe(t *testing.T) {
	check := func(t *testing.T, where string, doc []byte) {
		t.Helper()
		cfg, err := Parse(doc)
		if err != nil {
			t.Fatalf("%s: %v\n%s", where, err, doc)
		}
		var api *ProbeConfig
		for i := range cfg.Probes {
			if cfg.Probes[i].Name == "api" {
				api = &cfg.Probes[i]
			}
		}
		if api == nil || !strings.HasSuffix(api.URL, "/api/health") {
			t.Fatalf("%s: no api probe of a health URL in\n%s", where, doc)
		}
		if time.Duration(api.Interval) != 15*time.Second || time.Duration(api.Timeout) != 5*time.Second {
			t.Errorf("%s: api probe every %s with timeout %s, want 15s and 5s", where, api.Interval, api.Timeout)
		}
	}

	// The recipe: the yaml block of docs/probes.md that names the probe api.
	md, err := os.ReadFile("../docs/probes.md")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, block := range strings.Split(string(md), "```yaml\n") {
		block, _, _ = strings.Cut(block, "```")
		if i > 0 && strings.Contains(block, "name: api\n") {
			found = true
			check(t, "docs/probes.md", []byte(block))
		}
	}
	if !found {
		t.Fatal("docs/probes.md has no yaml block with an api probe")
	}

	// The commented examples, uncommented in place.
	uncomment := func(t *testing.T, path, indent string) []byte {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		in := false
		n := 0
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, indent+"# - name: api"):
				in = true
			case in && !strings.HasPrefix(l, indent+"#   "):
				in = false
			}
			if in {
				lines[i] = indent + strings.TrimPrefix(l, indent+"# ")
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%s: no commented api probe", path)
		}
		return []byte(strings.Join(lines, "\n"))
	}
	for _, path := range []string{"../deploy/config/exporter.yml", "../docker/exporter.yml"} {
		check(t, path, uncomment(t, path, "  "))
	}

	// The chart's values: the commented exporter.config example.
	values, err := os.ReadFile("../deploy/helm/resonance-telemetry/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	in := false
	for _, l := range strings.Split(string(values), "\n") {
		switch {
		case l == "  #   config:":
			in = true
			continue
		case in && !strings.HasPrefix(l, "  #     "):
			in = false
		}
		if in {
			example = append(example, strings.TrimPrefix(l, "  #     "))
		}
	}
	if len(example) == 0 {
		t.Fatal("values.yaml: no commented exporter.config example")
	}
	check(t, "deploy/helm/resonance-telemetry/values.yaml", []byte(strings.Join(example, "\n")+"\n"))
}
