package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func pushLogs(e *exporter, key string) int {
	r := httptest.NewRequest(http.MethodPost, "/api/logs", strings.NewReader(`{"logs":[{"level":"ERROR","message":"x"}]}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, r)
	return rec.Code
}

func TestIngestKeysAreReReadOnReload(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	writeFile(t, keys, "k-old\n")
	e, _ := newTestExporter(t, "ingest:\n  api_keys_file: "+keys+"\n")
	if code := pushLogs(e, "k-old"); code != http.StatusAccepted {
		t.Fatalf("push: %d", code)
	}
	if !strings.Contains(scrape(t, e), `resonance_errors_total{service="quantum-resonance-api"} 1`) {
		t.Error("pushed error not in /metrics")
	}

	writeFile(t, keys, "k-new\n")
	if rec := serve(e, http.MethodPost, "/-/reload"); rec.Code != http.StatusOK {
		t.Fatalf("reload: %d %s", rec.Code, rec.Body)
	}
	if code := pushLogs(e, "k-old"); code != http.StatusUnauthorized {
		t.Errorf("old key after rotation: %d", code)
	}
	if code := pushLogs(e, "k-new"); code != http.StatusAccepted {
		t.Errorf("new key: %d", code)
	}

	writeFile(t, keys, "# emptied by mistake\n")
	if rec := serve(e, http.MethodPost, "/-/reload"); rec.Code != http.StatusBadRequest {
		t.Fatalf("reload with an empty keys file: %d", rec.Code)
	}
	if code := pushLogs(e, "k-new"); code != http.StatusAccepted {
		t.Errorf("running key after a failed reload: %d", code)
	}
	// What was pushed survives reloads.
	if !strings.Contains(scrape(t, e), `resonance_errors_total{service="quantum-resonance-api"} 3`) {
		t.Error("counter lost across reloads")
	}
}
