package relay

import (
	"net/url"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
)

// The URLs parsed once when the target is built are those parsed for each
// request.
func TestSinkTargetParsedOnce(t *testing.T) {
	const raw = "http://example.com:8080/api/webhooks/1/tok?thread_id=7"
	parsed, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	wait, err := resolve(raw, request{Query: discord.WaitQuery})
	if err != nil {
		t.Fatal(err)
	}
	cached := &httpSink{url: raw, parsedURL: parsed, waitURL: wait}
	plain := &httpSink{url: raw}
	for _, req := range []request{
		{},
		{Query: discord.WaitQuery},
		{Query: url.Values{"wait": {"false"}}},
		{Method: "PATCH", Path: "/messages/42"},
	} {
		got, err := cached.target(req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.target(req)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%+v: %s, parsed for the request %s", req, got, want)
		}
	}
	if got, _ := cached.target(request{Query: discord.WaitQuery}); got.String() != "http://example.com:8080/api/webhooks/1/tok?thread_id=7&wait=true" {
		t.Errorf("wait URL %s", got)
	}
}
