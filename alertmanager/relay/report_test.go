package relay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/alertmanager/hub"
)

// Discord's upload limits for a webhook message, from its documentation
// rather than the formatter's constants, so that a formatter packing beyond
// them fails here: 10 files, 10 MiB since 16 January 2025
// (discord/discord-api-docs#7312).
const (
	discordMaxFiles     = 10
	discordMaxFileBytes = 10 << 20
)

// fakeDiscord answers as Discord's execute-webhook endpoint does for a
// message with files: multipart/form-data with the JSON payload in
// payload_json and the files in files[n]; every attachment://<name> an embed
// shows must be one of the files; over 10 files or the upload limit is 413
// with code 40005. The JSON payload itself is held to the message limits.
type fakeDiscord struct {
	mu    sync.Mutex
	posts []discordPost
}

type discordPost struct {
	payload map[string]any
	files   map[string][]byte // by filename
}

func (f *fakeDiscord) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, `{"message": "Cannot send an empty message", "code": 50006}`, 400)
		return
	}
	post := discordPost{files: map[string][]byte{}}
	var payload []byte
	switch mediaType {
	case "application/json":
		payload, _ = io.ReadAll(r.Body)
	case "multipart/form-data":
		mr := multipart.NewReader(io.LimitReader(r.Body, discordMaxFileBytes+1<<20), params["boundary"])
		total := 0
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				http.Error(w, `{"message": "Request entity too large", "code": 40005}`, http.StatusRequestEntityTooLarge)
				return
			}
			data, _ := io.ReadAll(p)
			switch name := p.FormName(); {
			case name == "payload_json":
				payload = data
			case strings.HasPrefix(name, "files["):
				if p.FileName() == "" {
					http.Error(w, `{"message": "Invalid Form Body", "code": 50035}`, 400)
					return
				}
				post.files[p.FileName()] = data
				total += len(data)
			default:
				http.Error(w, `{"message": "Invalid Form Body", "code": 50035}`, 400)
				return
			}
		}
		if len(post.files) > discordMaxFiles || total > discordMaxFileBytes {
			http.Error(w, `{"message": "Request entity too large", "code": 40005}`, http.StatusRequestEntityTooLarge)
			return
		}
	default:
		http.Error(w, `{"message": "Cannot send an empty message", "code": 50006}`, 400)
		return
	}
	if status, reply := formattest.DiscordLimits(payload); status >= 300 {
		w.WriteHeader(status)
		io.WriteString(w, reply)
		return
	}
	if err := json.Unmarshal(payload, &post.payload); err != nil {
		http.Error(w, `{"message": "Cannot send an empty message", "code": 50006}`, 400)
		return
	}
	embeds, _ := post.payload["embeds"].([]any)
	for i, e := range embeds {
		img, _ := e.(map[string]any)["image"].(map[string]any)
		if img == nil {
			continue
		}
		name, ok := strings.CutPrefix(fmt.Sprint(img["url"]), "attachment://")
		if _, attached := post.files[name]; !ok || !attached {
			http.Error(w, fmt.Sprintf(`{"message": "Invalid Form Body", "code": 50035, "errors": {"embeds.%d.image.url": "not attached"}}`, i), 400)
			return
		}
	}
	f.mu.Lock()
	f.posts = append(f.posts, post)
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func testPNG(t *testing.T, seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for x := range 64 {
		img.Set(x, seed%32, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// longReport has more text than one Discord message holds and more charts
// than one message may attach.
func longReport(t *testing.T, charts int) *format.Report {
	var md strings.Builder
	md.WriteString("# Evening Broadcast — Monday 23 November 2026\n\n2026-11-22 20:00 – 2026-11-23 20:00 (UTC)\n")
	for s := range 6 {
		fmt.Fprintf(&md, "\n## Section %d\n\n| Figure | Today | Yesterday |\n| --- | ---: | ---: |\n", s)
		for i := range 40 {
			fmt.Fprintf(&md, "| Figure number %d | %d | %d |\n", i, i*s, i)
		}
	}
	md.WriteString("\n## Charts\n\n![Error rate](evening-error-rate.png)\n")
	r := &format.Report{Ritual: "evening", Title: "Evening Broadcast — Mon 23 Nov 2026 20:00 UTC", Markdown: md.String(), JSON: []byte(`{"ritual":"evening"}`)}
	for i := range charts {
		r.Charts = append(r.Charts, format.File{Name: fmt.Sprintf("evening-chart-%d.png", i), Title: fmt.Sprintf("Chart %d", i), Data: testPNG(t, i)})
	}
	return r
}

func TestReportReachesDiscordWithItsCharts(t *testing.T) {
	fake := &fakeDiscord{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	h := newHarness(t, fastDelivery+"targets:\n  - {name: discord, type: discord, url: "+srv.URL+"}\n", nil)
	rep := longReport(t, 12)
	if err := h.relay.SendReport(t.Context(), "discord", rep); err != nil {
		t.Fatal(err)
	}
	if len(fake.posts) < 3 {
		t.Fatalf("%d messages: a report of ~9000 characters and 12 charts needs at least 3", len(fake.posts))
	}
	t.Logf("%d Discord messages", len(fake.posts))
	seen := map[string]bool{}
	text := ""
	for i, p := range fake.posts {
		if i == 0 && p.payload["content"] != rep.Title {
			t.Errorf("first message content = %v, want the title", p.payload["content"])
		}
		for name, data := range p.files {
			if seen[name] {
				t.Errorf("chart %s sent twice", name)
			}
			seen[name] = true
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("chart %s does not decode: %v", name, err)
			}
		}
		for _, e := range p.payload["embeds"].([]any) {
			text += fmt.Sprint(e.(map[string]any)["description"])
		}
	}
	if len(seen) != 12 {
		t.Errorf("%d charts arrived, want 12", len(seen))
	}
	// Every row of every table arrived, in a code block.
	for s := range 6 {
		for i := range 40 {
			if row := fmt.Sprintf("| Figure number %d | %d | %d |", i, i*s, i); !strings.Contains(text, row) {
				t.Fatalf("row %q missing from the Discord messages", row)
			}
		}
	}
	if strings.Contains(text, "| --- |") || strings.Contains(text, "![") {
		t.Error("table separators or image links reached Discord")
	}
}

func TestReportRejectedByDiscordIsAnErrorWithoutTheURL(t *testing.T) {
	sink := formattest.NewSink(nil)
	sink.Script(formattest.Reply{Status: 404, Body: `{"message": "Unknown Webhook", "code": 10015}`})
	srv := sinkServer(t, sink)
	url := srv.URL + "/api/webhooks/123/secret-token"
	h := newHarness(t, fastDelivery+"targets:\n  - {name: discord, type: discord, url: "+url+"}\n", nil)
	err := h.relay.SendReport(t.Context(), "discord", longReport(t, 1))
	if err == nil || !strings.Contains(err.Error(), "Unknown Webhook") {
		t.Fatalf("err = %v, want Discord's rejection", err)
	}
	if strings.Contains(err.Error(), "secret-token") {
		t.Errorf("the webhook URL leaked: %v", err)
	}
	if n := len(sink.Requests()); n != 1 {
		t.Errorf("%d requests: a rejection is not retried, and stops the later parts", n)
	}
}

func TestReportReachesSlackAndTheHub(t *testing.T) {
	slackSink := formattest.NewSink(formattest.SlackLimits)
	hubSink := formattest.NewSink(nil)
	slackSrv, hubSrv := sinkServer(t, slackSink), sinkServer(t, hubSink)
	h := newHarness(t, fastDelivery+fmt.Sprintf(`targets:
  - {name: slack, type: slack, url: %s}
  - {name: hub, type: http, url: %s}
`, slackSrv.URL, hubSrv.URL), nil)
	rep := longReport(t, 2)
	for _, target := range []string{"slack", "hub"} {
		if err := h.relay.SendReport(t.Context(), target, rep); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
	}
	if n := len(slackSink.Accepted()); n == 0 {
		t.Error("nothing reached Slack")
	}
	for _, r := range slackSink.Requests() {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Slack got %s", ct)
		}
	}
	events := hubSink.Accepted()
	if len(events) != 1 {
		t.Fatalf("%d hub events, want 1", len(events))
	}
	var ev hub.ReportEvent
	if err := json.Unmarshal(events[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventType != "report.evening" || string(ev.Report) != `{"ritual":"evening"}` {
		t.Errorf("hub event = %s", events[0])
	}
}

func TestReportToAnUnknownTarget(t *testing.T) {
	h := newHarness(t, "targets:\n  - {name: hub, type: file, path: out.jsonl, format: hub}\n", nil)
	if err := h.relay.SendReport(t.Context(), "nope", longReport(t, 0)); err == nil {
		t.Error("no error for an unknown target")
	}
}
