package formattest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// discordBody is a message of content and one embed with a description and
// one field, as the formatter sends them.
func discordBody(t *testing.T, content, description, fieldValue string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"content": content,
		"embeds": []any{map[string]any{
			"title": "t", "description": description,
			"fields": []any{map[string]any{"name": "n", "value": fieldValue}},
		}},
		"allowed_mentions": map[string]any{"parse": []string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// Discord counts code points: 2000 two-byte characters fit the content,
// 2001 do not, and likewise every other limit; the reply names the field.
func TestDiscordLimitsCountCharacters(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		content, description, value string
		status                      int
		reply                       string
	}{
		{"at every limit", strings.Repeat("é", 2000), strings.Repeat("é", 4096), strings.Repeat("é", 1024), http.StatusNoContent, ""},
		{"content", strings.Repeat("é", 2001), "d", "v", http.StatusBadRequest, `"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}`},
		{"description", "c", strings.Repeat("é", 4097), "v", http.StatusBadRequest, `"embeds.0.description"`},
		{"field value", "c", "d", strings.Repeat("é", 1025), http.StatusBadRequest, `"embeds.0.fields.0.value"`},
		{"empty field value", "c", "d", "", http.StatusBadRequest, `"embeds.0.fields.0.value"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reply := formattest.DiscordLimits(discordBody(t, tc.content, tc.description, tc.value))
			if status != tc.status || !strings.Contains(reply, tc.reply) {
				t.Errorf("got %d %s, want %d containing %s", status, reply, tc.status, tc.reply)
			}
		})
	}
}

// The 6000 characters are counted across all embeds of a message: two
// embeds of 3001 characters each are refused, two of 3000 pass.
func TestDiscordLimitsCountEmbedsTogether(t *testing.T) {
	body := func(perEmbed int) []byte {
		embed := map[string]any{"title": "t", "description": strings.Repeat("é", perEmbed-1)}
		b, _ := json.Marshal(map[string]any{"embeds": []any{embed, embed}, "allowed_mentions": map[string]any{"parse": []string{}}})
		return b
	}
	if status, reply := formattest.DiscordLimits(body(3000)); status != http.StatusNoContent {
		t.Errorf("6000 characters over two embeds: %d %s, want 204", status, reply)
	}
	if status, reply := formattest.DiscordLimits(body(3001)); status != http.StatusBadRequest || reply != `{"embeds": ["0"]}` {
		t.Errorf("6002 characters over two embeds: %d %s, want 400 {\"embeds\": [\"0\"]}", status, reply)
	}
}

// Slack's section text holds 3000 characters, not bytes; the blocks of a
// message are refused from 13,200 characters.
func TestSlackLimitsCountCharacters(t *testing.T) {
	section := func(text string) map[string]any {
		return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}
	}
	body := func(blocks ...any) []byte {
		b, _ := json.Marshal(map[string]any{"text": "t", "blocks": blocks})
		return b
	}
	five := []any{}
	for range 5 {
		five = append(five, section(strings.Repeat("é", 2640)))
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		reply  string
	}{
		{"3000 characters", body(section(strings.Repeat("é", 3000))), http.StatusOK, "ok"},
		{"3001 characters", body(section(strings.Repeat("é", 3001))), http.StatusBadRequest, "invalid_blocks"},
		{"13,200 characters of blocks", body(five...), http.StatusBadRequest, "msg_blocks_too_long"},
		{"13,199 characters of blocks", body(append(five[:4:4], section(strings.Repeat("é", 2639)))...), http.StatusOK, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, reply := formattest.SlackLimits(tc.body); status != tc.status || reply != tc.reply {
				t.Errorf("got %d %s, want %d %s", status, reply, tc.status, tc.reply)
			}
		})
	}
}
