package relay

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// healthchecks stands in for healthchecks.io's ping endpoint: any method,
// 200 "OK" for a known check, 404 "not found" for an unknown one (a ping by
// slug of a deleted check).
type healthchecks struct {
	mu    sync.Mutex
	pings []string // request bodies
}

func (h *healthchecks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/ping/0f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body := make([]byte, 1024)
	n, _ := r.Body.Read(body)
	h.mu.Lock()
	h.pings = append(h.pings, string(body[:n]))
	h.mu.Unlock()
	w.Write([]byte("OK"))
}

func (h *healthchecks) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.pings)
}

// Every Watchdog notification, repeats included, pings the check once; the
// ping URL (a secret: whoever has it can silence the alarm) stays out of
// the logs and answers.
func TestHeartbeatPingsOnEveryNotification(t *testing.T) {
	hc := &healthchecks{}
	srv := httptest.NewServer(hc)
	t.Cleanup(srv.Close)
	pingURL := srv.URL + "/ping/0f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"
	h := newHarness(t, fastDelivery+`
targets:
  - {name: heartbeat, type: heartbeat, url_file: ping.url}
  - {name: gone, type: heartbeat, url: "`+srv.URL+`/ping/deleted-check"}
`, map[string]string{"ping.url": pingURL + "\n"})
	watchdog, err := os.ReadFile("../heartbeat/testdata/watchdog.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if code, r := h.post(t, "heartbeat", watchdog); code != http.StatusOK || r.Delivered != 1 {
			t.Fatalf("notification %d: %d %+v", i+1, code, r)
		}
		// Alertmanager repeats the same group; each repeat must ping.
		if hc.count() != i+1 {
			t.Fatalf("after %d notifications %d pings", i+1, hc.count())
		}
	}
	if !strings.Contains(hc.pings[0], `"status":"firing"`) {
		t.Errorf("ping body %s", hc.pings[0])
	}

	// A deleted check: Alertmanager hears of the failure (its own
	// notification-failure metrics fire), as a permanent rejection (422,
	// not retried), and the URL is not repeated.
	code, r := h.post(t, "gone", watchdog)
	if code < 400 || r.Rejected != 1 {
		t.Errorf("ping to a deleted check: %d %+v", code, r)
	}
	for _, secret := range []string{"0f1c2d3e", "deleted-check"} {
		if strings.Contains(h.logs.String(), secret) || strings.Contains(r.Error, secret) {
			t.Errorf("the ping URL (%s) leaked into the logs or the answer", secret)
		}
	}
}

func TestHeartbeatTakesNoTemplates(t *testing.T) {
	_, err := Parse([]byte(`
targets:
  - name: heartbeat
    type: heartbeat
    url: https://hc-ping.com/0f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b
    templates: {description: "{{ .Status }}"}
`))
	if err == nil || !strings.Contains(err.Error(), "templates: a heartbeat ping carries no text") {
		t.Errorf("error %v", err)
	}
}
