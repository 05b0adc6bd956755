package ingest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/config"
	"github.com/quantum-resonance/telemetry/ingest/loki"
)

func TestLogsAreForwardedToLoki(t *testing.T) {
	pushes := make(chan loki.PushRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p loki.PushRequest
		if r.URL.Path != loki.PushPath || json.Unmarshal(body, &p) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		pushes <- p
	}))
	defer srv.Close()
	ta := newTestAPI(t, testKey, func(c *config.IngestConfig) { c.Loki.URL = srv.URL })
	expectStatus(t, ta.do(t, req{method: "POST", path: LogsPath, body: seedPayload}), 202, "")

	var p loki.PushRequest
	select {
	case p = <-pushes:
	case <-time.After(5 * time.Second):
		t.Fatal("nothing forwarded to Loki")
	}
	got, _ := json.Marshal(p)
	want := `{"streams":[` +
		`{"stream":{"level":"info","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418056123000000","{\"message\":\"System initialized\",\"metadata\":{\"version\":\"1.0.0\"}}"]]},` +
		`{"stream":{"level":"warning","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418057456000000","{\"message\":\"High CPU usage detected\",\"metadata\":{\"cpu\":85}}"]]},` +
		`{"stream":{"level":"error","service":"quantum-resonance","source":"quantum-resonance-clean"},"values":[["1765418058789000000","{\"message\":\"API request failed\",\"metadata\":{\"endpoint\":\"/api/inference\",\"status_code\":500}}"]]}]}`
	if string(got) != want {
		t.Errorf("forwarded\n%s\nwant\n%s", got, want)
	}
}
