package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
)

// startRelay runs the real relay with file targets in the plan's hub and
// Discord formats, optionally behind a bearer token.
func startRelay(t *testing.T, token string) (url, dir string) {
	t.Helper()
	dir = t.TempDir()
	cfgYAML := "targets:\n" +
		"  - {name: hub, type: file, path: hub.jsonl, format: hub}\n" +
		"  - {name: discord, type: file, path: discord.jsonl, format: discord}\n"
	if token != "" {
		if err := os.WriteFile(filepath.Join(dir, "relay.token"), []byte(token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfgYAML += "auth: {bearer_token_file: relay.token}\n"
	}
	cfgPath := filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(cfgPath, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := relay.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rl, err := relay.New(cfg, promslog.NewNopLogger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook/{target}", rl)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL, dir
}

func delivered(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for line := range bytes.Lines(data) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestSendTestReachesTheTargetFiringThenResolved(t *testing.T) {
	url, dir := startRelay(t, "")
	var out, errs bytes.Buffer
	if code := run([]string{"send-test", "--relay", url, "--target", "hub", "--severity", "critical"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "critical firing test notification to target hub") || !strings.Contains(out.String(), `"delivered":1`) {
		t.Errorf("stdout %q", out.String())
	}
	if code := run([]string{"send-test", "--relay", url, "--target", "hub", "--severity", "critical", "--resolved"}, &out, &errs); code != 0 {
		t.Fatalf("resolved: exit %d: %s", code, errs.String())
	}
	events := delivered(t, filepath.Join(dir, "hub.jsonl"))
	if len(events) != 2 {
		t.Fatalf("%d hub events, want firing then resolved", len(events))
	}
	for i, want := range []string{"alert.triggered", "alert.resolved"} {
		ev, _ := events[i]["payload"].(map[string]any)
		if ev["event_type"] != want || ev["severity"] != "critical" || ev["metric"] != "test_notification" {
			t.Errorf("event %d: %v, want %s critical", i, events[i], want)
		}
		// The resolution says it is over, then what it was.
		if msg, _ := ev["message"].(string); !strings.HasPrefix(strings.TrimPrefix(msg, "Resolved after 5m. While it fired: "), "Test notification") {
			t.Errorf("event %d does not say it is a test: %q", i, msg)
		}
	}

	// A second identical test is sent again, not remembered as delivered.
	if code := run([]string{"send-test", "--relay", url, "--target", "hub", "--severity", "critical"}, &out, &errs); code != 0 {
		t.Fatalf("second send: %s", errs.String())
	}
	if n := len(delivered(t, filepath.Join(dir, "hub.jsonl"))); n != 3 {
		t.Errorf("%d hub events after a repeated test, want 3", n)
	}
}

func TestSendTestInDiscordFormat(t *testing.T) {
	url, dir := startRelay(t, "")
	var out, errs bytes.Buffer
	if code := run([]string{"send-test", "--relay", url, "--target", "discord", "--severity", "info"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	msgs := delivered(t, filepath.Join(dir, "discord.jsonl"))
	if len(msgs) != 1 || !strings.Contains(string(must(json.Marshal(msgs[0]))), `"title":"Test notification from resonancetool send-test"`) {
		t.Errorf("discord messages %v", msgs)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestSendTestFailuresSayWhyAndHideTheToken(t *testing.T) {
	const token = "s3cret-relay-token"
	url, _ := startRelay(t, token)
	var out, errs bytes.Buffer
	if code := run([]string{"send-test", "--relay", url, "--target", "hub"}, &out, &errs); code == 0 {
		t.Fatal("sent without the relay's token")
	}
	if !strings.Contains(errs.String(), "401") {
		t.Errorf("stderr %q does not name the 401", errs.String())
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs.Reset()
	if code := run([]string{"send-test", "--relay", url, "--target", "hub", "--token-file", tokenFile}, &out, &errs); code != 0 {
		t.Fatalf("with the token: %s", errs.String())
	}

	errs.Reset()
	if code := run([]string{"send-test", "--relay", url, "--target", "pager", "--token-file", tokenFile}, &out, &errs); code == 0 {
		t.Fatal("an unknown target succeeded")
	}
	if !strings.Contains(errs.String(), "404") || !strings.Contains(errs.String(), `no target named \"pager\"`) {
		t.Errorf("stderr %q does not carry the relay's reason", errs.String())
	}

	errs.Reset()
	if code := run([]string{"send-test", "--relay", "http://127.0.0.1:1", "--target", "hub", "--token-file", tokenFile}, &out, &errs); code == 0 {
		t.Fatal("an unreachable relay succeeded")
	}
	if !strings.Contains(errs.String(), "connection refused") {
		t.Errorf("stderr %q", errs.String())
	}
	if strings.Contains(out.String()+errs.String(), token) {
		t.Error("the token appears in the output")
	}

	errs.Reset()
	if code := run([]string{"send-test", "--relay", url, "--target", "hub", "--severity", "urgent"}, &out, &errs); code == 0 {
		t.Error("severity urgent accepted")
	}
}
