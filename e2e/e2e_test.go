package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/quantum-resonance/telemetry/localstack"
)

const (
	ingestKey = "e2e-ingest-key"
	hubToken  = "e2e-hub-token"
	// Discord colours the relay uses (alertmanager/discord).
	colourCritical = 16711680
	colourResolved = 3066993
)

// TestEndToEnd raises real alerts through the whole chain: ingest API →
// exporter → Prometheus (shipped rules, short intervals) → two clustered
// Alertmanagers (shipped routes and inhibitions) → relay → capture server.
func TestEndToEnd(t *testing.T) {
	requireBinaries(t)
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	dir := t.TempDir()
	capture := newCapture(t, hubToken)
	writeFile(t, filepath.Join(dir, "keys.txt"), ingestKey+"\n")
	writeFile(t, filepath.Join(dir, "discord.url"), capture.url("discord"))
	writeFile(t, filepath.Join(dir, "slack.url"), capture.url("slack"))
	writeFile(t, filepath.Join(dir, "hub.token"), hubToken)
	writeFile(t, filepath.Join(dir, "heartbeat.url"), capture.url("heartbeat"))

	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	stack, err := localstack.Start(ctx, localstack.Options{
		Root: repoRoot, Dir: dir, Bin: binDir, ToolsBin: toolsBin,
		Alertmanagers: 2, Fast: true,
		ExporterConfig: "ingest:\n  api_keys_file: " + filepath.Join(dir, "keys.txt") + "\n",
		RelayConfig: fmt.Sprintf(`defaults: {service: quantum-resonance-api, environment: e2e, region: local}
delivery: {deadline: 10s, initial_backoff: 100ms, max_backoff: 1s}
targets:
  - {name: discord, type: discord, url_file: %q}
  - {name: slack, type: slack, url_file: %q}
  - {name: hub, type: hub, url: %q, bearer_token_file: %q}
  - {name: heartbeat, type: heartbeat, url_file: %q}
`, filepath.Join(dir, "discord.url"), filepath.Join(dir, "slack.url"), capture.url("hub"), filepath.Join(dir, "hub.token"), filepath.Join(dir, "heartbeat.url")),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		stack.Stop()
		if t.Failed() {
			dumpLogs(t, filepath.Join(dir, "logs"))
		}
	}()
	start := time.Now()
	e := &env{t: t, stack: stack, capture: capture}
	e.waitForQuery(ctx, `up{job="resonance"} == 1`, time.Minute)
	// Alertmanager authenticates to the relay (the alerts below arrive only
	// if it does); a request without the token is refused.
	if resp, err := http.Post(stack.RelayURL+"/webhook/hub", "application/json", bytes.NewReader(nil)); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("relay without a token: %v %v, want 401", resp, err)
	}

	t.Run("error storm pages every channel, inhibits the warning, then resolves", e.errorStorm)
	t.Run("low balance goes to the warning route only", e.lowBalance)
	t.Run("a channel answering 429 and 500 still gets the alert once", e.failingChannel)
	t.Run("alertmanager HA delivers once after one peer is killed", e.haFailover)
	t.Run("a deleted Discord webhook raises RelayDeliveryFailing on Slack", e.discordGone)
	// While RelayDeliveryFailing (critical) still fires: the alert panels
	// have a critical alert to show.
	t.Run("SLO recording rules load and record every window", e.sloRecordingRules)
	t.Run("every dashboard query runs against the live Prometheus", func(t *testing.T) { e.dashboardQueries(t, start) })
	// Kills the relay: the last case.
	t.Run("killing the relay stops the heartbeat", e.heartbeatStops)
}

type env struct {
	t       *testing.T
	stack   *localstack.Stack
	capture *capture
}

func (e *env) errorStorm(t *testing.T) {
	var stop atomic.Bool
	firstError := time.Now()
	done := make(chan struct{})
	go func() { // 5 errors every 250 ms: 1200 errors/min, far above 20
		defer close(done)
		for !stop.Load() {
			e.push(t, http.MethodPost, "/api/v1/logs", logBatch(5, "ERROR"))
			time.Sleep(250 * time.Millisecond)
		}
	}()
	stopStorm := func() {
		if !stop.Swap(true) {
			<-done
		}
	}
	defer stopStorm()

	discord := e.waitForDelivery(t, "discord", "ErrorStorm", firingOnly, 2*time.Minute)
	t.Logf("alert latency, first error → Discord payload: %s", discord.at.Sub(firstError).Round(100*time.Millisecond))
	checkDiscordShape(t, discord.body, colourCritical)
	e.checkLinksPointAtStack(t, discord.body)
	checkSlackShape(t, e.waitForDelivery(t, "slack", "ErrorStorm", firingOnly, 30*time.Second).body)
	checkHubEvent(t, e.waitForDelivery(t, "hub", "ErrorStorm", firingOnly, 30*time.Second).body, "alert.triggered", "critical", "error_rate", 20)

	// ErrorRateHigh (warning, same metric and instance) fires too, but the
	// inhibition must hold it back while ErrorStorm fires. Its group_wait
	// (fast: 10 s) passes during this wait.
	e.waitForAlertState(t, "ErrorRateHigh", "suppressed", 30*time.Second)
	time.Sleep(12 * time.Second)
	for _, ch := range []string{"discord", "slack", "hub"} {
		if got := e.capture.count(ch, "ErrorRateHigh", firingOnly); got != 0 {
			t.Errorf("%s: ErrorRateHigh delivered %d times while ErrorStorm fired: inhibition failed", ch, got)
		}
	}

	stopStorm()
	resolved := e.waitForDelivery(t, "discord", "ErrorStorm", resolvedOnly, 2*time.Minute)
	checkDiscordShape(t, resolved.body, colourResolved)
	checkHubEvent(t, e.waitForDelivery(t, "hub", "ErrorStorm", resolvedOnly, 30*time.Second).body, "alert.resolved", "critical", "error_rate", 20)
	for _, ch := range []string{"discord", "slack", "hub"} {
		if got := e.capture.count(ch, "ErrorStorm", firingOnly); got != 1 {
			t.Errorf("%s: ErrorStorm firing delivered %d times by two clustered Alertmanagers, want exactly 1", ch, got)
		}
	}
}

var silenceLinkRE = regexp.MustCompile(`\[Silence\]\(([^)]+)\)`)

// checkLinksPointAtStack: a Discord message's title links the alert's
// Source, Prometheus's generatorURL, on the stack's own Prometheus (its
// --web.external-url, not the machine's hostname) and the page opens; its
// Silence link is the form of one of the stack's Alertmanagers.
func (e *env) checkLinksPointAtStack(t *testing.T, body map[string]any) {
	t.Helper()
	embeds, _ := body["embeds"].([]any)
	if len(embeds) == 0 {
		t.Errorf("discord: no embed: %v", body)
		return
	}
	embed, _ := embeds[0].(map[string]any)
	source, _ := embed["url"].(string)
	if !strings.HasPrefix(source, e.stack.PrometheusURL+"/graph?") {
		t.Errorf("discord: the title links %q, want the alert's Source under %s/graph", source, e.stack.PrometheusURL)
	} else if resp, err := http.Get(source); err != nil {
		t.Errorf("open the Source link %s: %v", source, err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("open the Source link %s: %s", source, resp.Status)
		}
	}
	var silence string
	fields, _ := embed["fields"].([]any)
	for _, f := range fields {
		field, _ := f.(map[string]any)
		value, _ := field["value"].(string)
		if m := silenceLinkRE.FindStringSubmatch(value); m != nil {
			silence = m[1]
		}
	}
	for _, am := range e.stack.AlertmanagerURLs {
		if strings.HasPrefix(silence, am+"/#/silences/new?") {
			return
		}
	}
	t.Errorf("discord: the Silence link is %q, want one of %v's /#/silences/new", silence, e.stack.AlertmanagerURLs)
}

func (e *env) lowBalance(t *testing.T) {
	e.push(t, http.MethodPut, "/api/v1/business", map[string]any{"wallet_balance": 5})
	e.waitForDelivery(t, "slack", "LowBalance", firingOnly, 2*time.Minute)
	checkHubEvent(t, e.waitForDelivery(t, "hub", "LowBalance", firingOnly, 30*time.Second).body, "alert.triggered", "warning", "wallet_balance", 10)
	if receivers := e.alertReceivers(t, "LowBalance"); len(receivers) != 1 || receivers[0] != "warning" {
		t.Errorf("LowBalance routed to %v, want only the warning receiver", receivers)
	}
	if got := e.capture.count("discord", "LowBalance", anyStatus); got != 0 {
		t.Errorf("LowBalance reached Discord (the critical-only channel) %d times", got)
	}
	for _, ch := range []string{"slack", "hub"} {
		if got := e.capture.count(ch, "LowBalance", firingOnly); got != 1 {
			t.Errorf("%s: LowBalance delivered %d times, want 1", ch, got)
		}
	}
}

func (e *env) failingChannel(t *testing.T) {
	e.capture.failNext("discord", http.StatusTooManyRequests, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusInternalServerError)
	e.push(t, http.MethodPost, "/api/v1/events", map[string]any{"events": []map[string]any{
		{"type": "transaction", "status": "completed", "amount": 42, "authorized": false},
	}})
	e.waitForDelivery(t, "discord", "WalletCompromised", firingOnly, 2*time.Minute)
	if refused := e.capture.refusedCount("discord"); refused != 4 {
		t.Errorf("discord refused %d requests, want the 4 scripted failures", refused)
	}
	time.Sleep(5 * time.Second) // room for a duplicate to show up
	if got := e.capture.count("discord", "WalletCompromised", firingOnly); got != 1 {
		t.Errorf("WalletCompromised delivered to Discord %d times after 429s and 500s, want exactly 1", got)
	}
}

func (e *env) haFailover(t *testing.T) {
	if err := e.stack.Kill("alertmanager-0"); err != nil {
		t.Fatal(err)
	}
	e.push(t, http.MethodPut, "/api/v1/business", map[string]any{"community_resonance": 10})
	e.waitForDelivery(t, "hub", "CommunityResonanceLow", firingOnly, 2*time.Minute)
	time.Sleep(5 * time.Second)
	if got := e.capture.count("hub", "CommunityResonanceLow", firingOnly); got != 1 {
		t.Errorf("CommunityResonanceLow delivered %d times by the surviving Alertmanager, want exactly 1", got)
	}
}

// discordGone: the Discord webhook is deleted (404 for good). Whatever the
// relay calls that outcome (failed today, rejected once it tells permanent
// rejections apart), RelayDeliveryFailing fires for target discord and
// reaches people through Slack, which still works.
func (e *env) discordGone(t *testing.T) {
	e.capture.deleteWebhook("discord")
	// A critical alert to Discord: an unauthorized payment.
	e.push(t, http.MethodPost, "/api/v1/events", map[string]any{"events": []map[string]any{
		{"type": "transaction", "status": "completed", "amount": 7, "authorized": false},
	}})
	e.waitForDelivery(t, "slack", "RelayDeliveryFailing", firingOnly, 2*time.Minute)
	var found bool
	for _, a := range e.amAlerts(t, "RelayDeliveryFailing") {
		found = found || a.Labels["target"] == "discord"
	}
	if !found {
		t.Error("RelayDeliveryFailing does not name target discord")
	}
	if e.capture.refusedCount("discord") == 0 {
		t.Error("the deleted Discord webhook was never called")
	}
}

// heartbeatStops: Alertmanager's Watchdog route pings the heartbeat URL
// through the relay about once a minute; with the relay dead the pings stop,
// which is what the outside dead man's switch alarms on.
func (e *env) heartbeatStops(t *testing.T) {
	// The Watchdog fires from the first evaluation; by now (minutes into
	// the run) the route has repeated it at least once.
	deadline := time.Now().Add(90 * time.Second)
	for len(e.capture.all("heartbeat")) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	pings := e.capture.all("heartbeat")
	if len(pings) < 2 {
		t.Fatalf("%d heartbeat pings, want repeated pings while the chain works", len(pings))
	}
	if pings[0].body["status"] != "firing" {
		t.Errorf("ping body %v", pings[0].body)
	}
	if err := e.stack.Kill("resonance-relay"); err != nil {
		t.Fatal(err)
	}
	before := len(e.capture.all("heartbeat"))
	// Longer than the Watchdog's repeat_interval (1m) plus its group_interval.
	time.Sleep(75 * time.Second)
	if after := len(e.capture.all("heartbeat")); after != before {
		t.Errorf("%d heartbeat pings arrived with the relay dead", after-before)
	}
}

// --- app side -------------------------------------------------------------

func logBatch(n int, level string) map[string]any {
	var logs []map[string]any
	for i := range n {
		logs = append(logs, map[string]any{
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
			"level":     level,
			"message":   fmt.Sprintf("API request failed (%d)", i),
			"metadata":  map[string]any{"endpoint": "/api/inference", "status_code": 500},
			"service":   "quantum-resonance",
		})
	}
	return map[string]any{"logs": logs, "source": "quantum-resonance-clean"}
}

func (e *env) push(t *testing.T, method, path string, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		t.Error(err)
		return
	}
	req, err := http.NewRequest(method, e.stack.ExporterURL+path, bytes.NewReader(data))
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ingestKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("%s %s: status %d, want 202", method, path, resp.StatusCode)
	}
}

// --- waiting and asserting ---------------------------------------------------

func (e *env) waitForDelivery(t *testing.T, channel, alertname string, status statusFilter, timeout time.Duration) delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if got := e.capture.matching(channel, alertname, status); len(got) > 0 {
			return got[0]
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: no %s delivery of %s within %s", channel, status.name, alertname, timeout)
	return delivery{}
}

func (e *env) promAPI(t testing.TB) promv1.API {
	client, err := promapi.NewClient(promapi.Config{Address: e.stack.PrometheusURL})
	if err != nil {
		t.Fatal(err)
	}
	return promv1.NewAPI(client)
}

func (e *env) waitForQuery(ctx context.Context, query string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	api := e.promAPI(e.t)
	for time.Now().Before(deadline) {
		v, _, _, err := api.Query(ctx, query, time.Now())
		if err == nil && v.String() != "" {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Fatalf("query %s returned nothing within %s", query, timeout)
}

// amAlert is the part of Alertmanager's /api/v2/alerts reply we read.
type amAlert struct {
	Labels    map[string]string `json:"labels"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// amAlerts asks the first Alertmanager still alive.
func (e *env) amAlerts(t *testing.T, alertname string) []amAlert {
	t.Helper()
	filter := url.QueryEscape(fmt.Sprintf("alertname=%q", alertname))
	for i := len(e.stack.AlertmanagerURLs) - 1; i >= 0; i-- {
		resp, err := http.Get(e.stack.AlertmanagerURLs[i] + "/api/v2/alerts?filter=" + filter)
		if err != nil {
			continue
		}
		var alerts []amAlert
		err = json.NewDecoder(resp.Body).Decode(&alerts)
		resp.Body.Close()
		if err == nil {
			return alerts
		}
	}
	t.Fatal("no Alertmanager answered /api/v2/alerts")
	return nil
}

func (e *env) waitForAlertState(t *testing.T, alertname, state string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, a := range e.amAlerts(t, alertname) {
			if a.Status.State == state {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s never reached state %q in Alertmanager within %s", alertname, state, timeout)
}

func (e *env) alertReceivers(t *testing.T, alertname string) []string {
	var names []string
	for _, a := range e.amAlerts(t, alertname) {
		for _, r := range a.Receivers {
			names = append(names, r.Name)
		}
	}
	return names
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func dumpLogs(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, entry := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, entry.Name()))
		lines := strings.Split(string(data), "\n")
		if len(lines) > 40 {
			lines = lines[len(lines)-40:]
		}
		t.Logf("--- %s (last lines) ---\n%s", entry.Name(), strings.Join(lines, "\n"))
	}
}
