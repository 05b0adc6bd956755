package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("built-in defaults must validate: %v", err)
	}
	if cfg.Service != "quantum-resonance-api" || cfg.System.Mountpoints[0] != "/" ||
		cfg.Ingest.MaxBodyBytes != 1<<20 || cfg.Ingest.MaxLabelValues != 500 ||
		time.Duration(cfg.Ingest.BusinessTTL) != 5*time.Minute || cfg.Pi.WalletAddress != "" {
		t.Fatalf("defaults differ from SPEC.md: %+v", cfg)
	}
}

func TestEmptyFileMeansDefaults(t *testing.T) {
	cfg, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Service != DefaultService {
		t.Fatalf("service = %q", cfg.Service)
	}
}

func TestPartialFileKeepsOtherDefaults(t *testing.T) {
	cfg, err := Parse([]byte("ingest:\n  max_label_values: 50\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.MaxLabelValues != 50 || cfg.Ingest.MaxBodyBytes != 1<<20 || cfg.System.Mountpoints[0] != "/" {
		t.Fatalf("partial file lost defaults: %+v", cfg)
	}
}

func TestLoadResolvesPathsAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exporter.yml")
	if err := os.WriteFile(path, []byte("ingest:\n  api_keys_file: keys.txt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.APIKeysFile != filepath.Join(dir, "keys.txt") {
		t.Fatalf("api_keys_file = %q", cfg.Ingest.APIKeysFile)
	}
	if cfg.Pi.StateFile != filepath.Join(dir, "wallet-cursor") {
		t.Fatalf("state_file = %q", cfg.Pi.StateFile)
	}
}

func TestLoadErrorNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(path, []byte("servce: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `line 1: unknown key "servce"`) {
		t.Fatalf("got %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yml")); err == nil {
		t.Fatal("a missing file must be an error")
	}
}

func TestInvalidConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "servce: x\n", `line 1: unknown key "servce"`},
		{"unknown nested key", "system:\n  mountpoint: [\"/\"]\n", `line 2: unknown key "mountpoint"`},
		{"unknown probe key", "probes:\n  - name: hf\n    url: http://hf/\n    intervl: 1s\n", `line 4: unknown key "intervl"`},
		{"wrong type", "ingest:\n  max_body_bytes: lots\n", "line 2"},
		{"not yaml", "service: [\n", "yaml"},
		{"empty service", "service: \"\"\n", "service: must not be empty"},
		{"relative mountpoint", "system:\n  mountpoints: [data]\n", `system.mountpoints[0]: "data" is not an absolute path`},
		{"duplicate mountpoint", "system:\n  mountpoints: [/, /]\n", `system.mountpoints[1]: "/" is listed twice`},
		{"zero disk timeout", "system:\n  disk_timeout: 0s\n", "system.disk_timeout: must be greater than 0"},
		{"zero body limit", "ingest:\n  max_body_bytes: 0\n", "ingest.max_body_bytes: must be greater than 0"},
		{"process two ways", "process:\n  pid_file: /run/app.pid\n  name: app\n", "process.pid_file, name, cmdline: give one way to find the process, not several"},
		{"process regexp", "process:\n  cmdline: \"app[\"\n", `regular expression "app["`},
		{"process cgroup", "process:\n  cgroup: sys/fs/cgroup\n", `process.cgroup: "sys/fs/cgroup" is not an absolute path`},
		{"zero label cap", "ingest:\n  max_label_values: 0\n", "ingest.max_label_values: must be greater than 0"},
		{"zero ttl", "ingest:\n  business_ttl: 0s\n", "ingest.business_ttl: must be greater than 0"},
		{"bad duration", "ingest:\n  business_ttl: soon\n", `not a valid duration string: "soon"`},
		{"loki scheme", "ingest:\n  loki: {url: \"ftp://loki\"}\n", `ingest.loki.url: scheme is not http or https`},
		{"loki no host", "ingest:\n  loki: {url: \"http://\"}\n", "ingest.loki.url: URL has no host"},
		{"probe name", "probes:\n  - name: \"hugging face\"\n    url: http://hf/\n", `probes[0].name: "hugging face" must match`},
		{"probe url", "probes:\n  - name: hf\n    url: hf.co\n", `probes[0].url: scheme is not http or https`},
		{"probe method", "probes:\n  - name: hf\n    url: http://hf/\n    method: DELETE\n", `probes[0].method: "DELETE" is not one of`},
		{"probe timeout over interval", "probes:\n  - name: hf\n    url: http://hf/\n    interval: 5s\n    timeout: 10s\n", "probes[0].timeout: 10s must be greater than 0 and at most the interval (5s)"},
		{"probe status", "probes:\n  - name: hf\n    url: http://hf/\n    expected_status: [42]\n", "probes[0].expected_status: 42 is not an HTTP status code"},
		{"probe duplicate", "probes:\n  - {name: hf, url: \"http://hf/\"}\n  - {name: hf, url: \"http://hf2/\"}\n", `probes[1].name: "hf" is used by another probe`},
		{"probe http_config", "probes:\n  - name: hf\n    url: http://hf/\n    http_config:\n      bearer_token: a\n      bearer_token_file: b\n", "at most one of bearer_token & bearer_token_file"},
		{"horizon url", "pi:\n  horizon_url: minepi\n", "pi.horizon_url:"},
		{"poll interval", "pi:\n  poll_interval: 0s\n", "pi.poll_interval: must be greater than 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("want an error containing %q, got none", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %q", tc.want, err)
			}
		})
	}
}

func TestURLErrorsDoNotEchoTheURL(t *testing.T) {
	secret := "http://user:hunter2@%zz"
	_, err := Parse([]byte("ingest:\n  loki: {url: \"" + secret + "\"}\n"))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error must not repeat the URL (it may hold credentials): %v", err)
	}
}
