package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// capture stands in for Discord, Slack, the hub and the heartbeat URL: one
// formattest.Sink each, at /<channel>, answering as those services do
// (Discord 204 No Content and its limits, Slack 200 "ok" and its limits,
// the hub 202 behind its bearer token) and recording what they accepted.
// failNext and deleteWebhook make a channel answer 429, 500 or 404 with the
// bodies those services send.
type capture struct {
	t      *testing.T
	server *httptest.Server
	sinks  map[string]*formattest.Sink
}

type delivery struct {
	channel string
	at      time.Time
	body    map[string]any
}

func newCapture(t *testing.T, hubToken string) *capture {
	acceptJSON := func(body []byte) (int, string) {
		var object map[string]any
		if err := json.Unmarshal(body, &object); err != nil {
			return http.StatusBadRequest, "invalid JSON"
		}
		return http.StatusAccepted, ""
	}
	c := &capture{t: t, sinks: map[string]*formattest.Sink{
		"discord":   formattest.NewSink(formattest.DiscordLimits),
		"slack":     formattest.NewSink(formattest.SlackLimits),
		"hub":       formattest.NewSink(acceptJSON),
		"heartbeat": formattest.NewSink(acceptJSON),
	}}
	mux := http.NewServeMux()
	for name, sink := range c.sinks {
		var h http.Handler = sink
		if name == "hub" {
			h = requireBearer(hubToken, sink)
		}
		mux.Handle("/"+name, postsJSON(h))
	}
	c.server = httptest.NewServer(mux)
	t.Cleanup(c.server.Close)
	return c
}

// postsJSON refuses what the relay must never send: another method, or a
// body that does not say it is JSON.
func postsJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireBearer answers 401 as the hub does without its token.
func requireBearer(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *capture) url(channel string) string { return c.server.URL + "/" + channel }

// deleteWebhook makes channel answer every request as a deleted webhook
// does (Discord: 404 {"message": "Unknown Webhook", "code": 10015}).
func (c *capture) deleteWebhook(channel string) {
	c.sinks[channel].Refuse(failure(channel, http.StatusNotFound))
}

// failNext makes channel answer the given statuses to its next requests.
func (c *capture) failNext(channel string, statuses ...int) {
	for _, status := range statuses {
		c.sinks[channel].Script(failure(channel, status))
	}
}

// failure is the reply the real service gives with that status.
func failure(channel string, status int) formattest.Reply {
	switch {
	case status == http.StatusTooManyRequests && channel == "discord":
		return formattest.Reply{Status: status,
			Header: map[string]string{"Content-Type": "application/json", "Retry-After": "1"},
			Body:   `{"message": "You are being rate limited.", "retry_after": 0.5, "global": false}`}
	case status == http.StatusNotFound && channel == "discord":
		return formattest.Reply{Status: status,
			Header: map[string]string{"Content-Type": "application/json"},
			Body:   `{"message": "Unknown Webhook", "code": 10015}`}
	case status == http.StatusTooManyRequests:
		return formattest.Reply{Status: status, Header: map[string]string{"Retry-After": "1"}, Body: "rate_limited"}
	default:
		return formattest.Reply{Status: status, Body: "internal error"}
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
	var out []delivery
	for _, d := range c.all(channel) {
		if carries(d, alertname, status) {
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
	var out []delivery
	for _, d := range c.sinks[channel].Deliveries() {
		var body map[string]any
		if err := json.Unmarshal(d.Body, &body); err != nil {
			c.t.Errorf("%s accepted a body that is not a JSON object: %v\n%s", channel, err, d.Body)
			continue
		}
		out = append(out, delivery{channel: channel, at: d.At, body: body})
	}
	return out
}

// refusedCount is how many requests channel answered with an error: the
// failures asked for, and messages beyond the service's limits.
func (c *capture) refusedCount(channel string) int {
	return c.sinks[channel].Refused()
}

// carries tells whether a payload holds alertname in that status. Discord
// and Slack link each alert to its runbook section, whose anchor is the
// lower-cased alert name; a hub event names the plan metric and severity.
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

// checkDiscordShape: the plan's Discord shape within Discord's limits.
func checkDiscordShape(t *testing.T, body map[string]any, colour int) {
	t.Helper()
	if err := discordShape(body, colour); err != nil {
		t.Error(err)
	}
}

func discordShape(body map[string]any, colour int) error {
	content, _ := body["content"].(string)
	embeds, _ := body["embeds"].([]any)
	// Discord counts characters (code points), not bytes.
	if content == "" || len(embeds) == 0 || len(embeds) > 10 || utf8.RuneCountInString(content) > 2000 {
		return fmt.Errorf("discord: not the plan's shape (content of 1 to 2000 characters + 1..10 embeds): %v", body)
	}
	var errs []error
	embed, _ := embeds[0].(map[string]any)
	if embed["color"] != float64(colour) || embed["title"] == "" || embed["description"] == "" {
		errs = append(errs, fmt.Errorf("discord embed: want colour %d, a title and a description: %v", colour, embed))
	}
	fields, _ := embed["fields"].([]any)
	names := map[string]bool{}
	for _, f := range fields {
		field, _ := f.(map[string]any)
		name, _ := field["name"].(string)
		names[name] = true
	}
	if !names["Service"] || !names["Time"] {
		errs = append(errs, fmt.Errorf("discord embed lacks the plan's Service and Time fields: %v", fields))
	}
	if _, ok := body["allowed_mentions"]; !ok {
		errs = append(errs, errors.New("discord: allowed_mentions not set: alert text could ping @everyone"))
	}
	return errors.Join(errs...)
}

// checkSlackShape: the plan's Block Kit shape.
func checkSlackShape(t *testing.T, body map[string]any) {
	t.Helper()
	text, _ := body["text"].(string)
	blocks, _ := body["blocks"].([]any)
	if text == "" || len(blocks) < 2 || len(blocks) > 50 {
		t.Fatalf("slack: not the plan's shape (text + blocks): %v", body)
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

// checkHubEvent: the plan's custom JSON event, numbers as numbers.
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

// The Discord stand-in and checkDiscordShape count as Discord does, in
// characters: a content of 2000 two-byte characters (4000 bytes) is the
// plan's shape and accepted; one of 2001 is neither.
func TestDiscordStandInCountsCharacters(t *testing.T) {
	c := newCapture(t, "token")
	// message is as checkDiscordShape sees it: decoded from JSON.
	message := func(content string) map[string]any {
		body, err := json.Marshal(map[string]any{
			"content": content,
			"embeds": []any{map[string]any{
				"title": "Error Rate Threshold Exceeded", "description": "Error rate exceeded threshold", "color": colourCritical,
				"fields": []any{
					map[string]any{"name": "Service", "value": "quantum-resonance-api"},
					map[string]any{"name": "Time", "value": "2025-12-11T01:54:16Z"},
				},
			}},
			"allowed_mentions": map[string]any{"parse": []any{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	post := func(m map[string]any) int {
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(c.url("discord"), "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	fits := message(strings.Repeat("é", 2000))
	if err := discordShape(fits, colourCritical); err != nil {
		t.Errorf("2000 characters: %v", err)
	}
	if status := post(fits); status != http.StatusNoContent {
		t.Errorf("2000 characters: status %d, want 204", status)
	}
	over := message(strings.Repeat("é", 2001))
	if err := discordShape(over, colourCritical); err == nil {
		t.Error("2001 characters pass checkDiscordShape")
	}
	if status := post(over); status != http.StatusBadRequest {
		t.Errorf("2001 characters: status %d, want Discord's 400", status)
	}
	if accepted, refused := len(c.all("discord")), c.refusedCount("discord"); accepted != 1 || refused != 1 {
		t.Errorf("%d accepted and %d refused, want 1 and 1", accepted, refused)
	}
}
