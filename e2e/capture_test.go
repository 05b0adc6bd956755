package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// capture stands in for Discord, Slack and the hub: it answers as they do
// (Discord 204 No Content, Slack 200 "ok", the hub 202) and records every
// payload it accepted. failures lets a test make a channel answer 429 and
// 500 for a while, with the bodies those services send.
type capture struct {
	t      *testing.T
	server *httptest.Server
	token  string // the hub's expected bearer token

	mu       sync.Mutex
	received []delivery
	failures map[string][]int // channel → status codes to answer next
	gone     map[string]bool  // channel → webhook deleted: 404 for good
	refused  map[string]int   // channel → requests answered with an error
}

type delivery struct {
	channel string
	at      time.Time
	body    map[string]any
}

func newCapture(t *testing.T, hubToken string) *capture {
	c := &capture{t: t, token: hubToken, failures: map[string][]int{}, gone: map[string]bool{}, refused: map[string]int{}}
	c.server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.server.Close)
	return c
}

func (c *capture) url(channel string) string { return c.server.URL + "/" + channel }

// deleteWebhook makes channel answer every request as a deleted webhook
// does (Discord: 404 {"message": "Unknown Webhook", "code": 10015}).
func (c *capture) deleteWebhook(channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone[channel] = true
}

// failNext makes channel answer the given statuses to its next requests.
func (c *capture) failNext(channel string, statuses ...int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures[channel] = append(c.failures[channel], statuses...)
}

func (c *capture) serve(w http.ResponseWriter, r *http.Request) {
	channel := strings.TrimPrefix(r.URL.Path, "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if channel == "hub" && r.Header.Get("Authorization") != "Bearer "+c.token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	c.mu.Lock()
	if c.gone[channel] {
		c.refused[channel]++
		c.mu.Unlock()
		replyFailure(w, channel, http.StatusNotFound)
		return
	}
	if next := c.failures[channel]; len(next) > 0 {
		status := next[0]
		c.failures[channel] = next[1:]
		c.refused[channel]++
		c.mu.Unlock()
		replyFailure(w, channel, status)
		return
	}
	c.mu.Unlock()

	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.received = append(c.received, delivery{channel: channel, at: time.Now(), body: payload})
	c.mu.Unlock()
	switch channel {
	case "discord":
		w.WriteHeader(http.StatusNoContent)
	case "slack":
		w.Write([]byte("ok"))
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// replyFailure answers like the real service does.
func replyFailure(w http.ResponseWriter, channel string, status int) {
	switch {
	case status == http.StatusTooManyRequests && channel == "discord":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		w.Write([]byte(`{"message": "You are being rate limited.", "retry_after": 0.5, "global": false}`))
	case status == http.StatusNotFound && channel == "discord":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"message": "Unknown Webhook", "code": 10015}`))
	case status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(status)
		w.Write([]byte("rate_limited"))
	default:
		w.WriteHeader(status)
		w.Write([]byte("internal error"))
	}
}

// statusFilter selects firing or resolved alerts in a delivery.
type statusFilter struct {
	name             string
	firing, resolved bool
}

var (
	firingOnly   = statusFilter{"firing", true, false}
	resolvedOnly = statusFilter{"resolved", false, true}
	anyStatus    = statusFilter{"any", true, true}
)

// matching returns what channel accepted for alertname with that status.
func (c *capture) matching(channel, alertname string, status statusFilter) []delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []delivery
	for _, d := range c.received {
		if d.channel == channel && carries(d, alertname, status) {
			out = append(out, d)
		}
	}
	return out
}

func (c *capture) count(channel, alertname string, status statusFilter) int {
	return len(c.matching(channel, alertname, status))
}

// all returns everything channel accepted, in order.
func (c *capture) all(channel string) []delivery {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []delivery
	for _, d := range c.received {
		if d.channel == channel {
			out = append(out, d)
		}
	}
	return out
}

func (c *capture) refusedCount(channel string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused[channel]
}

// carries tells whether a payload holds alertname in that status. Discord
// and Slack link each alert to its runbook section, whose anchor is the
// lower-cased alert name; a hub event names the seed metric and severity.
func carries(d delivery, alertname string, status statusFilter) bool {
	anchor := "runbooks.md#" + strings.ToLower(alertname)
	switch d.channel {
	case "discord":
		embeds, _ := d.body["embeds"].([]any)
		for _, e := range embeds {
			embed, _ := e.(map[string]any)
			raw, _ := json.Marshal(embed)
			if !strings.Contains(string(raw), anchor) {
				continue
			}
			resolved := embed["color"] == float64(colourResolved)
			if (resolved && status.resolved) || (!resolved && status.firing) {
				return true
			}
		}
	case "slack":
		blocks, _ := d.body["blocks"].([]any)
		for i := 1; i < len(blocks); i++ { // each alert: a text section, then its fields
			raw, _ := json.Marshal(blocks[i])
			if !strings.Contains(string(raw), anchor) {
				continue
			}
			head, _ := json.Marshal(blocks[i-1])
			resolved := strings.Contains(string(head), "[RESOLVED]")
			if (resolved && status.resolved) || (!resolved && status.firing) {
				return true
			}
		}
	case "hub":
		want, ok := hubIdentity[alertname]
		if !ok || d.body["metric"] != want.metric || d.body["severity"] != want.severity {
			return false
		}
		resolved := d.body["event_type"] == "alert.resolved"
		return (resolved && status.resolved) || (!resolved && status.firing)
	}
	return false
}

// hubIdentity: a hub event carries no alert name; metric and severity
// identify the alerts this test raises.
var hubIdentity = map[string]struct{ metric, severity string }{
	"ErrorStorm":            {"error_rate", "critical"},
	"ErrorRateHigh":         {"error_rate", "warning"},
	"LowBalance":            {"wallet_balance", "warning"},
	"WalletCompromised":     {"wallet_unauthorized_transactions", "critical"},
	"CommunityResonanceLow": {"community_resonance", "warning"},
	"RelayDeliveryFailing":  {"relay_delivery_failing", "critical"},
}

// checkDiscordShape: the seed's Discord shape within Discord's limits.
func checkDiscordShape(t *testing.T, body map[string]any, colour int) {
	t.Helper()
	content, _ := body["content"].(string)
	embeds, _ := body["embeds"].([]any)
	if content == "" || len(embeds) == 0 || len(embeds) > 10 || len(content) > 2000 {
		t.Fatalf("discord: not the seed's shape (content + 1..10 embeds): %v", body)
	}
	embed, _ := embeds[0].(map[string]any)
	if embed["color"] != float64(colour) || embed["title"] == "" || embed["description"] == "" {
		t.Errorf("discord embed: want colour %d, a title and a description: %v", colour, embed)
	}
	fields, _ := embed["fields"].([]any)
	names := map[string]bool{}
	for _, f := range fields {
		field, _ := f.(map[string]any)
		name, _ := field["name"].(string)
		names[name] = true
	}
	if !names["Service"] || !names["Time"] {
		t.Errorf("discord embed lacks the seed's Service and Time fields: %v", fields)
	}
	if _, ok := body["allowed_mentions"]; !ok {
		t.Error("discord: allowed_mentions not set: alert text could ping @everyone")
	}
}

// checkSlackShape: the seed's Block Kit shape.
func checkSlackShape(t *testing.T, body map[string]any) {
	t.Helper()
	text, _ := body["text"].(string)
	blocks, _ := body["blocks"].([]any)
	if text == "" || len(blocks) < 2 || len(blocks) > 50 {
		t.Fatalf("slack: not the seed's shape (text + blocks): %v", body)
	}
	first, _ := blocks[0].(map[string]any)
	section, _ := first["text"].(map[string]any)
	if first["type"] != "section" || section["type"] != "mrkdwn" {
		t.Errorf("slack: first block is not a mrkdwn section: %v", first)
	}
	second, _ := blocks[1].(map[string]any)
	if fields, _ := second["fields"].([]any); len(fields) == 0 {
		t.Errorf("slack: second block has no fields: %v", second)
	}
}

// checkHubEvent: the seed's custom JSON event, numbers as numbers.
func checkHubEvent(t *testing.T, body map[string]any, eventType, severity, metric string, threshold float64) {
	t.Helper()
	if body["event_type"] != eventType || body["severity"] != severity || body["metric"] != metric {
		t.Errorf("hub event: want %s/%s/%s, got %v", eventType, severity, metric, body)
	}
	if body["threshold"] != threshold {
		t.Errorf("hub event threshold = %v, want the number %v", body["threshold"], threshold)
	}
	if _, ok := body["current_value"].(float64); !ok {
		t.Errorf("hub event current_value = %v, want a number", body["current_value"])
	}
	meta, _ := body["metadata"].(map[string]any)
	if meta["service"] != "quantum-resonance-api" || meta["environment"] == nil || meta["region"] == nil {
		t.Errorf("hub event metadata = %v", meta)
	}
	if ts, _ := body["timestamp"].(string); ts == "" {
		t.Error("hub event has no timestamp")
	} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("hub event timestamp %q: %v", ts, err)
	}
}
