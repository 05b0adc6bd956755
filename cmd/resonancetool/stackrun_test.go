package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/localstack"
	"github.com/quantum-resonance/telemetry/tooltest"
)

// TestStackBannerWorks starts the stack `resonancetool stack` starts (on
// free ports instead of the standard ones) and holds its banner to its
// word: every link it prints opens, the Source link of a firing alert
// (Prometheus's generatorURL) and the Silence link of a message
// (Alertmanager's external URL) point where the stack listens and open, and
// the commands it prints run as written, from the repository root.
func TestStackBannerWorks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack; skipped in -short mode")
	}
	prometheus := tooltest.Path(t, "prometheus")
	tooltest.Path(t, "alertmanager")
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/resonance-exporter", "./cmd/resonance-relay", "./cmd/resonancetool") // the relay runs its rituals as the resonancetool beside it
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the daemons: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	opts := stackOptions(root, t.TempDir(), bin, filepath.Dir(prometheus))
	opts.StandardPorts = false // another stack or test may hold 9090 and the others
	s, err := localstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Stop()
		if t.Failed() {
			for _, name := range []string{"prometheus", "alertmanager-0", "resonance-relay", "resonance-exporter"} {
				data, _ := os.ReadFile(filepath.Join(opts.Dir, "logs", name+".log"))
				t.Logf("%s log (tail):\n%s", name, tail(string(data), 2000))
			}
		}
	}()
	banner := stackBanner(s, root)
	t.Logf("banner:\n%s", banner)
	head, _, ok := strings.Cut(banner, "Try it from the repository root, in a second terminal:\n")
	if !ok {
		t.Fatalf("banner has no commands:\n%s", banner)
	}
	commands := stackTryCommands(s.ExporterURL, s.RelayURL, s.PrometheusURL, s.AlertmanagerURLs[0], rel(root, s.RelayTokenFile), rel(root, filepath.Join(opts.Dir, "relay-deliveries.jsonl")))

	// Links: the component list and the commands' comments; an API the
	// commands POST to is exercised by running them.
	var links []string
	for _, line := range strings.Split(head, "\n") {
		links = append(links, pageLinks(line)...)
	}
	for _, line := range commands {
		if strings.HasPrefix(line, "#") {
			links = append(links, pageLinks(line)...)
		}
	}
	for _, want := range []string{s.PrometheusURL + "/alerts", s.AlertmanagerURLs[0], s.ExporterURL + "/metrics", s.RelayURL, s.DocsURL + "/docs/runbooks.md"} {
		if !contains(links, want) {
			t.Errorf("banner does not link %s", want)
		}
	}
	opened := map[string]bool{}
	for _, link := range links {
		if !opened[link] {
			opened[link] = true
			checkPage(t, link)
		}
	}

	t.Run("an alert's Source link points at the stack's Prometheus and opens", func(t *testing.T) {
		source := waitForAlert(ctx, t, s.AlertmanagerURLs[0], "Watchdog").GeneratorURL
		if !strings.HasPrefix(source, s.PrometheusURL+"/graph?") {
			t.Errorf("Watchdog's generatorURL is %s, want it under %s/graph", source, s.PrometheusURL)
		}
		checkPage(t, source)
	})

	t.Run("an alert's runbook link opens on the stack's docs server", func(t *testing.T) {
		runbook := waitForAlert(ctx, t, s.AlertmanagerURLs[0], "Watchdog").Annotations["runbook_url"]
		page, anchor, _ := strings.Cut(runbook, "#")
		if page != s.DocsURL+"/docs/runbooks.md" || anchor == "" {
			t.Fatalf("Watchdog's runbook_url is %q, want %s/docs/runbooks.md#<anchor>", runbook, s.DocsURL)
		}
		checkPage(t, runbook)
		resp, err := http.Get(page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(strings.ToLower(string(body)), "## "+anchor) {
			t.Errorf("%s has no section %q", page, anchor)
		}
	})

	t.Run("the banner's commands run as written", func(t *testing.T) {
		runBannerCommands(ctx, t, root, commands, s.ExporterURL)
	})

	t.Run("a message's Silence and Source links point at the stack and open", func(t *testing.T) {
		source := s.PrometheusURL + "/graph?g0.expr=vector%281%29&g0.tab=1"
		alert := []map[string]any{{
			"labels":       map[string]string{"alertname": "StackLinkCheck", "severity": "critical", "service": "quantum-resonance-api", "metric": "error_rate"},
			"annotations":  map[string]string{"summary": "the stack's links", "description": "posted by TestStackBannerWorks"},
			"generatorURL": source,
		}}
		body, _ := json.Marshal(alert)
		resp, err := http.Post(s.AlertmanagerURLs[0]+"/api/v2/alerts", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
		}
		// The critical route's group_wait is 10 s.
		payload := waitForDelivery(ctx, t, filepath.Join(opts.Dir, "relay-deliveries.jsonl"), "discord", "StackLinkCheck", time.Minute)
		var silence string
		for _, link := range pageLinks(payload) {
			if strings.Contains(link, "/silences/new") {
				silence = link
			}
		}
		if !strings.HasPrefix(silence, s.AlertmanagerURLs[0]+"/#/silences/new?") {
			t.Errorf("the Discord message's Silence link is %q, want it under %s/#/silences/new", silence, s.AlertmanagerURLs[0])
		} else {
			checkPage(t, silence)
		}
		if !strings.Contains(payload, source) {
			t.Errorf("the Discord message does not link the alert's Source %s:\n%s", source, payload)
		}
		checkPage(t, source)
	})
}

var linkRE = regexp.MustCompile(`https?://[^\s"'<>\\)]+`)

// pageLinks are the URLs in text but those after "POST " (an API, not a
// page).
func pageLinks(text string) []string {
	var links []string
	for _, loc := range linkRE.FindAllStringIndex(text, -1) {
		if strings.HasSuffix(text[:loc[0]], "POST ") {
			continue
		}
		links = append(links, strings.TrimRight(text[loc[0]:loc[1]], ".,:;"))
	}
	return links
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var assetRE = regexp.MustCompile(`<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"`)

// checkPage: the link answers 200 after its redirects and, for an HTML page,
// so do the scripts and stylesheets it loads from the same server: a UI
// whose assets are missing does not open either.
func checkPage(t *testing.T, link string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Errorf("open %s: %v", link, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("open %s: %s: %s", link, resp.Status, tail(string(body), 300))
		return
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return
	}
	for _, m := range assetRE.FindAllStringSubmatch(string(body), -1) {
		ref, err := url.Parse(m[1])
		if err != nil {
			t.Errorf("%s loads %q: %v", link, m[1], err)
			continue
		}
		asset := resp.Request.URL.ResolveReference(ref)
		if asset.Host != resp.Request.URL.Host {
			continue
		}
		r, err := http.Get(asset.String())
		if err != nil {
			t.Errorf("%s loads %s: %v", link, asset, err)
			continue
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("%s loads %s: %s", link, asset, r.Status)
		}
	}
}

// stackAlert is what the links of an alert in Alertmanager's API need.
type stackAlert struct {
	GeneratorURL string            `json:"generatorURL"`
	Annotations  map[string]string `json:"annotations"`
}

// waitForAlert is the named alert once Prometheus has sent it to
// Alertmanager.
func waitForAlert(ctx context.Context, t *testing.T, alertmanagerURL, alertname string) stackAlert {
	t.Helper()
	deadline := time.Now().Add(time.Minute) // the shipped evaluation_interval is 15 s
	for {
		var alerts []stackAlert
		resp, err := http.Get(alertmanagerURL + "/api/v2/alerts?filter=" + url.QueryEscape(fmt.Sprintf("alertname=%q", alertname)))
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&alerts)
			resp.Body.Close()
		}
		if err == nil && len(alerts) > 0 {
			return alerts[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("Alertmanager did not get %s from Prometheus within a minute (last error: %v)", alertname, err)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// waitForDelivery is every string in the payload of the first line of the
// relay's deliveries file for target that mentions text, one a line (a
// string's JSON escapes undone: a link's & is "\u0026" in the file).
func waitForDelivery(ctx context.Context, t *testing.T, path, target, text string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(path)
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var line struct {
				Target  string          `json:"target"`
				Payload json.RawMessage `json:"payload"`
			}
			var payload any
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Target != target || json.Unmarshal(line.Payload, &payload) != nil {
				continue
			}
			if strs := strings.Join(jsonStrings(payload), "\n"); strings.Contains(strs, text) {
				return strs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s delivery mentioning %s in %s within %s; it holds:\n%s", target, text, path, timeout, tail(string(data), 2000))
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// jsonStrings are the string values in a decoded JSON document.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

var stormLoopRE = regexp.MustCompile(`\$\(seq \d+\)`)

// runBannerCommands runs the banner's commands with sh from the repository
// root, as a person pastes them, with two changes that keep the test short:
// the error storm's loop runs 2 rounds instead of its minutes
// (TestStackStormIsAnErrorStorm checks its length), and the closing `tail
// -f` prints what arrived instead of following the file. The storm's errors
// must reach the exporter and the test notification the deliveries file.
func runBannerCommands(ctx context.Context, t *testing.T, root string, commands []string, exporterURL string) {
	t.Helper()
	before := errorsCounted(t, exporterURL)
	var script []string
	var storm, sendTest, follow bool
	for _, line := range commands {
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "for i in $(seq "):
			storm = true
			line = stormLoopRE.ReplaceAllString(line, "$$(seq 2)")
		case strings.Contains(line, " send-test "):
			sendTest = true
		case strings.HasPrefix(line, "tail -f "):
			follow = true
			line = "tail -n 1 " + strings.TrimPrefix(line, "tail -f ")
		}
		script = append(script, line)
	}
	if !storm || !sendTest || !follow {
		t.Fatalf("the banner's commands lack the storm loop (%v), send-test (%v) or tail -f (%v):\n%s", storm, sendTest, follow, strings.Join(commands, "\n"))
	}
	cmd := exec.CommandContext(ctx, "sh", "-e", "-c", strings.Join(script, "\n"))
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the banner's commands failed: %v\n%s\n--- output:\n%s", err, strings.Join(script, "\n"), out.String())
	}
	if got := errorsCounted(t, exporterURL) - before; got != 4 {
		t.Errorf("the storm's 2 rounds of 2 errors raised resonance_errors_total by %v, want 4", got)
	}
	// tail -n 1 printed the last delivery: the test notification.
	if !strings.Contains(out.String(), `"target":"slack"`) || !strings.Contains(out.String(), testAlertName) {
		t.Errorf("after send-test, the deliveries file's last line is not the test notification to slack:\n%s", out.String())
	}
}

// errorsCounted is the sum of the exporter's resonance_errors_total.
func errorsCounted(t *testing.T, exporterURL string) float64 {
	t.Helper()
	resp, err := http.Get(exporterURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "resonance_errors_total") {
			continue
		}
		var v float64
		fields := strings.Fields(line)
		if _, err := fmt.Sscan(fields[len(fields)-1], &v); err == nil {
			sum += v
		}
	}
	return sum
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
