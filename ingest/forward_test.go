package ingest

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest/loki"
)

// newLoki stands in for Loki's push API (gzipped JSON) and hands over each
// push it accepted.
func newLoki(t *testing.T) (*httptest.Server, chan loki.PushRequest) {
	t.Helper()
	pushes := make(chan loki.PushRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(zr)
		var p loki.PushRequest
		if r.URL.Path != loki.PushPath || json.Unmarshal(body, &p) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		pushes <- p
	}))
	t.Cleanup(srv.Close)
	return srv, pushes
}

func nextPush(t *testing.T, pushes chan loki.PushRequest) loki.PushRequest {
	t.Helper()
	select {
	case p := <-pushes:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("nothing forwarded to Loki")
	}
	return loki.PushRequest{}
}

func TestLogsAreForwardedToLoki(t *testing.T) {
	srv, pushes := newLoki(t)
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.Loki.URL = srv.URL })
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: planPayload}), 202, "")

	p := nextPush(t, pushes)
	got, _ := json.Marshal(p)
	want := `{"streams":[` +
		`{"stream":{"level":"info","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418056123000000","{\"message\":\"System initialized\",\"metadata\":{\"version\":\"1.0.0\"}}"]]},` +
		`{"stream":{"level":"warning","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418057456000000","{\"message\":\"High CPU usage detected\",\"metadata\":{\"cpu\":85}}"]]},` +
		`{"stream":{"level":"error","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418058789000000","{\"message\":\"API request failed\",\"metadata\":{\"endpoint\":\"/api/inference\",\"status_code\":500}}"]]}]}`
	if string(got) != want {
		t.Errorf("forwarded\n%s\nwant\n%s", got, want)
	}
}

// Loki refuses entries far from its clock, and one refused entry used to
// cost its whole batch: an entry outside the window goes with the receive
// time, its own time kept in the line.
func TestLokiGetsTimestampsItAccepts(t *testing.T) {
	srv, pushes := newLoki(t)
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.Loki.URL = srv.URL })
	now := *ta.clock
	body := `{"logs":[` +
		`{"level":"INFO","message":"recent","timestamp":"` + now.Add(-time.Minute).Format(time.RFC3339) + `"},` +
		`{"level":"INFO","message":"two days old","timestamp":"` + now.Add(-48*time.Hour).Format(time.RFC3339) + `"},` +
		`{"level":"INFO","message":"from the future","timestamp":"` + now.Add(time.Hour).Format(time.RFC3339) + `"}]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body}), 202, "")
	p := nextPush(t, pushes)
	got := map[string]string{}
	for _, s := range p.Streams {
		for _, v := range s.Values {
			got[v[1]] = v[0]
		}
	}
	nanos := func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }
	want := map[string]string{
		`{"message":"recent"}`: nanos(now.Add(-time.Minute)),
		`{"message":"two days old","timestamp":"` + now.Add(-48*time.Hour).UTC().Format(time.RFC3339Nano) + `"}`: nanos(now),
		`{"message":"from the future","timestamp":"` + now.Add(time.Hour).UTC().Format(time.RFC3339Nano) + `"}`:  nanos(now),
	}
	if len(got) != len(want) {
		t.Fatalf("forwarded %v, want %v", got, want)
	}
	for line, ts := range want {
		if got[line] != ts {
			t.Errorf("line %s at %q, want %q (all: %v)", line, got[line], ts, got)
		}
	}
}

func TestMetadataIsCapped(t *testing.T) {
	ta := newTestAPI(t, testKey, nil)
	big := `{"blob":"` + strings.Repeat("x", 16<<10) + `"}`
	body := `{"logs":[{"level":"INFO","message":"ok"},{"level":"INFO","message":"x","metadata":` + big + `}]}`
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: body}), 400,
		`{"error":"logs[1].metadata: longer than 16384 bytes","index":1}`)
}
