package formattest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// Scripted replies come first, then Refuse's reply for good; only what the
// limits accept is recorded, and every error answer counts as refused.
func TestSinkScriptThenRefuse(t *testing.T) {
	sink := formattest.NewSink(formattest.SlackLimits)
	srv := httptest.NewServer(sink)
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	valid := `{"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}`

	sink.Script(formattest.Reply{Status: http.StatusTooManyRequests, Body: "rate_limited"})
	got := []int{post(valid), post(valid), post(`{"text": ""}`)}
	sink.Refuse(formattest.Reply{Status: http.StatusNotFound, Body: "no_service"})
	got = append(got, post(valid), post(valid))

	want := []int{http.StatusTooManyRequests, http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusNotFound}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: status %d, want %d", i, got[i], want[i])
		}
	}
	if d := sink.Deliveries(); len(d) != 1 || string(d[0].Body) != valid || d[0].At.IsZero() {
		t.Errorf("deliveries %+v, want the one valid body answered 200, with its time", d)
	}
	if n := sink.Refused(); n != 4 {
		t.Errorf("refused %d, want 4 (429, no_text, 404 twice)", n)
	}
	if n := len(sink.Requests()); n != 5 {
		t.Errorf("%d requests recorded, want 5", n)
	}
}
