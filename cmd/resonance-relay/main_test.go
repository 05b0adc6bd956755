package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/common/promslog"

	"github.com/quantum-resonance/telemetry/daemon"
)

const firingFixture = "../../../shared/fixtures/alertmanager/webhook-v4-firing.json"

func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	return rec
}

// The wired relay: a webhook reaches the file target, every endpoint
// answers, and a bad reload keeps the running config.
func TestRelayEndpointsAndReload(t *testing.T) {
	fixture, err := os.ReadFile(firingFixture)
	if err != nil {
		t.Skipf("Alertmanager fixture not found beside the repository: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "relay.yml")
	good := "targets:\n  - {name: hub, type: file, path: hub.jsonl, format: hub}\n"
	if err := os.WriteFile(cfgPath, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	h, reloader, err := newRelay(cfgPath, webOptions{enableLifecycle: true}, promslog.NewNopLogger())
	if err != nil {
		t.Fatal(err)
	}

	if rec := serve(h, http.MethodPost, "/webhook/hub", string(fixture)); rec.Code != http.StatusOK {
		t.Fatalf("POST /webhook/hub: %d %s", rec.Code, rec.Body)
	}
	written, err := os.ReadFile(filepath.Join(dir, "hub.jsonl"))
	if err != nil || !strings.Contains(string(written), `"event_type":"alert.triggered"`) {
		t.Fatalf("hub event not delivered to the file: %v %s", err, written)
	}
	if rec := serve(h, http.MethodPost, "/webhook/pager", string(fixture)); rec.Code != http.StatusNotFound {
		t.Errorf("unknown target: %d, want 404", rec.Code)
	}
	if rec := serve(h, http.MethodPost, "/webhook/hub", `{"hello":"world"}`); rec.Code != http.StatusBadRequest {
		t.Errorf("not a webhook payload: %d, want 400", rec.Code)
	}
	for path, want := range map[string]string{"/-/healthy": "OK", "/-/ready": "OK", "/": "Resonance Relay", "/metrics": "resonance_relay_notifications_total"} {
		if rec := serve(h, http.MethodGet, path, ""); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, want 200 with %q", path, rec.Code, want)
		}
	}

	if err := os.WriteFile(cfgPath, []byte("targets:\n  - {name: hub, type: fax}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if rec := serve(h, http.MethodPost, "/-/reload", ""); rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "fax") {
		t.Fatalf("bad reload: %d %s, want 400 without quoting the config", rec.Code, rec.Body)
	}
	if rec := serve(h, http.MethodGet, "/metrics", ""); !strings.Contains(rec.Body.String(), "resonance_relay_config_last_reload_successful 0") {
		t.Error("a failed reload must be reported")
	}
	if rec := serve(h, http.MethodPost, "/webhook/hub", strings.ReplaceAll(string(fixture), `"25"`, `"26"`)); rec.Code != http.StatusOK {
		t.Fatalf("after a bad reload the running config must keep working: %d %s", rec.Code, rec.Body)
	}
	if err := reloader.Reload(); err == nil {
		t.Fatal("SIGHUP path: the bad file must fail the reload too")
	}
}

// --config.check resolves the URL files the targets name, as the start does.
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "relay.yml")
	if err := os.WriteFile(cfg, []byte("targets:\n  - {name: discord, type: discord, url_file: discord.url}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkConfig(cfg); err == nil || !strings.Contains(err.Error(), "discord.url") {
		t.Fatalf("missing url file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "discord.url"), []byte("https://discord.com/api/webhooks/1/abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkConfig(cfg); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	if err := checkConfig(""); err != nil {
		t.Fatalf("built-in defaults: %v", err)
	}
}

// --config.check reads the message store the config names, as the start
// does: a store cut by a power cut or holding entries that are no message,
// or one that cannot be read at all, exits 1 with the file and what is
// wrong; a store not written yet (a first start) and a whole one pass.
func TestCheckConfigReadsTheMessageStore(t *testing.T) {
	const whole = `{"version":1,"messages":[{"target":"discord","id":"7","alerts":["fp@0"],"sent":"2026-12-01T00:00:00Z"}]}`
	for _, c := range []struct {
		name  string
		store func(path string) error // nil: no file
		want  []string                // in the error; none: valid
	}{
		{"not written yet", nil, nil},
		{"whole", func(p string) error { return os.WriteFile(p, []byte(whole), 0o600) }, nil},
		{"cut short", func(p string) error { return os.WriteFile(p, []byte(whole[:60]), 0o600) },
			[]string{"delivery.messages_file is damaged", "messages.json", "the file ends early", "starts with its valid entries"}},
		{"an entry that is no message", func(p string) error {
			return os.WriteFile(p, []byte(strings.Replace(whole, `"messages":[`, `"messages":[null,`, 1)), 0o600)
		}, []string{"delivery.messages_file is damaged", "skipped 1 entries"}},
		{"a damaged journal", func(p string) error {
			if err := os.WriteFile(p, []byte(`{"version":2,"journal":3,"messages":[]}`), 0o600); err != nil {
				return err
			}
			return os.WriteFile(p+".journal", []byte("{\"version\":2,\"journal\":3}\n\x00\x00\n"), 0o600)
		}, []string{"delivery.messages_file is damaged", "messages.json.journal", "skipped 1 lines"}},
		{"unreadable (a directory)", func(p string) error { return os.Mkdir(p, 0o700) },
			[]string{"delivery.messages_file cannot be read", "messages.json", "is a directory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "relay.yml")
			config := "delivery: {messages_file: messages.json}\ntargets: [{name: hub, type: file, path: out.jsonl, format: hub}]\n"
			if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			if c.store != nil {
				if err := c.store(filepath.Join(dir, "messages.json")); err != nil {
					t.Fatal(err)
				}
			}
			var stdout, stderr strings.Builder
			code := daemon.CheckConfig(cfgPath, checkConfig, &stdout, &stderr)
			if len(c.want) == 0 {
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr.String())
				}
				return
			}
			if code != 1 || !strings.HasPrefix(stderr.String(), "FAILED: ") {
				t.Fatalf("exit %d, stderr %q; want 1 and FAILED", code, stderr.String())
			}
			for _, w := range c.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not say %q", stderr.String(), w)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "messages.json.journal")); c.name != "a damaged journal" && err == nil {
				t.Error("--config.check wrote a journal")
			}
		})
	}
}

// scrape is the wired relay's /metrics, as Prometheus reads it.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := serve(h, http.MethodGet, "/metrics", "")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	samples := map[string]float64{}
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if !strings.HasPrefix(line, "resonance_relay_notifications_total{") && !strings.HasPrefix(line, "resonance_relay_ritual_last_success_timestamp_seconds{") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

// The relay's own signals exist from its start, before any notification
// or ritual run: every target × outcome counter at 0, and every scheduled
// ritual's last success, restored from delivery.messages_file or else the
// start time. A reload deletes a removed target's counters and zeroes an
// added one's; a newly scheduled ritual gets the reload's time.
// A schedule whose resonancetool cannot be found fails at load, at start and
// in --config.check, not at the first run.
func TestRitualsWithoutTheirToolFailAtLoad(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "relay.yml")
	config := "targets: [{name: hub, type: file, path: out.jsonl, format: hub}]\n" +
		"rituals: {command: ./no-such-resonancetool, schedule: [{ritual: morning, cron: \"0 8 * * *\", targets: [hub]}]}\n"
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	err := checkConfig(cfgPath)
	if err == nil || !strings.Contains(err.Error(), "rituals.command") || !strings.Contains(err.Error(), filepath.Join(dir, "no-such-resonancetool")) {
		t.Fatalf("--config.check: %v, want rituals.command and the resolved path", err)
	}
	if _, _, err := newRelay(cfgPath, webOptions{}, promslog.NewNopLogger()); err == nil {
		t.Fatal("the relay started without the tool its schedule runs")
	}
}

func TestOwnSignalsExistFromTheStart(t *testing.T) {
	const config = `
delivery: {messages_file: state.json}
targets:
  - {name: %[1]s, type: file, path: out.jsonl, format: discord}
  - {name: %[2]s, type: file, path: out.jsonl, format: hub}
rituals:
  # Never run here (see the schedule); only its existence is checked.
  command: true
  schedule:
    # 09:00 on 1 January: never due while the test runs.
    - {ritual: morning, cron: "0 9 1 1 *", targets: [%[1]s]}
    - {ritual: %[3]s, cron: "0 9 1 1 *", targets: [%[1]s]}
`
	outcomes := []string{"delivered", "failed", "rejected", "format_error"}
	restored := time.Date(2026, 12, 1, 8, 0, 2, 500_000_000, time.UTC)
	for _, withState := range []bool{false, true} {
		dir := t.TempDir()
		cfgPath := filepath.Join(dir, "relay.yml")
		if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, "discord", "hub", "evening"), 0o600); err != nil {
			t.Fatal(err)
		}
		if withState {
			state := `{"version":1,"messages":[],"rituals":{"morning":"` + restored.Format(time.RFC3339Nano) + `"}}`
			if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(state), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		before := float64(time.Now().UnixNano()) / 1e9
		h, reloader, err := newRelay(cfgPath, webOptions{}, promslog.NewNopLogger())
		if err != nil {
			t.Fatal(err)
		}
		after := float64(time.Now().UnixNano()) / 1e9
		started := func(v float64) bool { return v >= before-1e-6 && v <= after+1e-6 }

		got := scrape(t, h)
		for _, target := range []string{"discord", "hub"} {
			for _, o := range outcomes {
				series := fmt.Sprintf(`resonance_relay_notifications_total{outcome="%s",target="%s"}`, o, target)
				if v, ok := got[series]; !ok || v != 0 {
					t.Errorf("state %v, at start: %s = %g (present %v), want 0", withState, series, v, ok)
				}
			}
		}
		morning := got[`resonance_relay_ritual_last_success_timestamp_seconds{ritual="morning"}`]
		if withState && morning != 1796112002.5 {
			t.Errorf("morning's last success %f, want the one in the state file, 1796112002.5", morning)
		}
		if !withState && !started(morning) {
			t.Errorf("morning's last success %f without a state file, want the start time (%f to %f)", morning, before, after)
		}
		if v := got[`resonance_relay_ritual_last_success_timestamp_seconds{ritual="evening"}`]; !started(v) {
			t.Errorf("state %v: evening, never succeeded: %f, want the start time (%f to %f)", withState, v, before, after)
		}
		if len(got) != 2*len(outcomes)+2 {
			t.Errorf("state %v: %d series at start, want %d: %v", withState, len(got), 2*len(outcomes)+2, got)
		}

		// Reload: discord goes, slack comes; evening goes, weekly comes.
		if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, "slack", "hub", "weekly"), 0o600); err != nil {
			t.Fatal(err)
		}
		before = float64(time.Now().UnixNano()) / 1e9
		if err := reloader.Reload(); err != nil {
			t.Fatal(err)
		}
		after = float64(time.Now().UnixNano()) / 1e9
		got = scrape(t, h)
		for series := range got {
			if strings.Contains(series, `target="discord"`) || strings.Contains(series, `ritual="evening"`) {
				t.Errorf("after the reload: %s is still exposed", series)
			}
		}
		for _, o := range outcomes {
			series := fmt.Sprintf(`resonance_relay_notifications_total{outcome="%s",target="slack"}`, o)
			if v, ok := got[series]; !ok || v != 0 {
				t.Errorf("after the reload: %s = %g (present %v), want 0", series, v, ok)
			}
		}
		if v := got[`resonance_relay_ritual_last_success_timestamp_seconds{ritual="morning"}`]; v != morning {
			t.Errorf("after the reload: morning %f, want %f kept", v, morning)
		}
		if v := got[`resonance_relay_ritual_last_success_timestamp_seconds{ritual="weekly"}`]; !started(v) {
			t.Errorf("after the reload: weekly %f, want the reload's time (%f to %f)", v, before, after)
		}
		if len(got) != 2*len(outcomes)+2 {
			t.Errorf("after the reload: %d series, want %d: %v", len(got), 2*len(outcomes)+2, got)
		}
	}
}

// The memory limit follows the container's: cgroup v2's memory.max, v1's
// limit_in_bytes; none for an unlimited cgroup or outside one.
func TestCgroupMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		name  string
		files fstest.MapFS
		want  int64
		ok    bool
	}{
		{"v2", fstest.MapFS{"sys/fs/cgroup/memory.max": {Data: []byte("268435456\n")}}, 268435456, true},
		{"v2 unlimited", fstest.MapFS{"sys/fs/cgroup/memory.max": {Data: []byte("max\n")}}, 0, false},
		{"v1", fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("536870912\n")}}, 536870912, true},
		{"v1 unlimited", fstest.MapFS{"sys/fs/cgroup/memory/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")}}, 0, false},
		{"no cgroup", fstest.MapFS{}, 0, false},
	} {
		if got, ok := cgroupMemoryLimit(c.files); got != c.want || ok != c.ok {
			t.Errorf("%s: %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
