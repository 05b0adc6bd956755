package ingest

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/tooltest"
)

// The plan's log streaming against a real store: VictoriaLogs speaks Loki's
// push API under /insert. The app's logs pushed to the ingest API arrive
// there with their level, service and source as stream labels and their own
// timestamps, and the runbooks' selectors find them. The fake Loki above
// stays for the answers a real store will not give on demand (429, 400).
func TestLogsReachVictoriaLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs VictoriaLogs")
	}
	bin := tooltest.Path(t, "victoria-logs")
	addr := tooltest.FreeAddr(t)
	// The test's clock is 2025-12-11: a retention long enough to keep it.
	cmd := exec.Command(bin, "-storageDataPath="+t.TempDir(), "-httpListenAddr="+addr, "-retentionPeriod=100y", "-loggerLevel=WARN")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + addr
	waitFor(t, 30*time.Second, func() bool {
		resp, err := http.Get(base + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.Loki.URL = base + "/insert" })
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: planPayload}), 202, "")

	// The ErrorStorm runbook's selector: the level is a label.
	var got []map[string]string
	waitFor(t, 30*time.Second, func() bool {
		got = queryVictoriaLogs(t, base, `{service="quantum-resonance", level=~"error|critical"}`)
		return len(got) > 0
	})
	if len(got) != 1 {
		t.Fatalf("error entries: %v", got)
	}
	e := got[0]
	// VictoriaLogs reads the JSON line into fields: message, metadata.*.
	if e["_time"] != "2025-12-11T01:54:18.789Z" || e["level"] != "error" || e["source"] != "quantum-resonance-clean" ||
		e["message"] != "API request failed" || e["metadata.status_code"] != "500" || !strings.Contains(e["_stream"], `level="error"`) {
		t.Errorf("the error entry reads %v", e)
	}
	if all := queryVictoriaLogs(t, base, `{service="quantum-resonance"}`); len(all) != 3 {
		t.Errorf("all entries: %v", all)
	}
}

// queryVictoriaLogs runs a LogsQL query; one JSON object a line comes back.
func queryVictoriaLogs(t *testing.T, base, query string) []map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/select/logsql/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("query %s: %s", query, resp.Status)
	}
	var entries []map[string]string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var e map[string]string
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("query %s: %v in %s", query, err, sc.Text())
		}
		entries = append(entries, e)
	}
	return entries
}

func waitFor(t *testing.T, timeout time.Duration, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s", timeout)
		}
	}
}
