package channeltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/quantum-resonance/telemetry/alertmanager/channel"
	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/slack"
)

// Reply is a scripted answer of a Sink.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Sink is a fake channel for httptest: it answers scripted replies first,
// then checks each message against the channel's real limits and answers
// as the channel does (see DiscordLimits, SlackLimits).
type Sink struct {
	check func(body []byte) (status int, reply string)

	mu       sync.Mutex
	script   []Reply
	accepted [][]byte
	requests []*http.Request
}

// NewSink returns a sink validating with check; nil accepts everything with
// 204.
func NewSink(check func(body []byte) (int, string)) *Sink {
	if check == nil {
		check = func([]byte) (int, string) { return http.StatusNoContent, "" }
	}
	return &Sink{check: check}
}

// Script queues replies given before any validation, one per request.
func (s *Sink) Script(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Accepted returns the bodies the sink accepted, in order.
func (s *Sink) Accepted() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.accepted...)
}

// Requests returns every request received (bodies consumed).
func (s *Sink) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, r)
	var reply *Reply
	if len(s.script) > 0 {
		reply = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()

	if reply == nil {
		status, text := s.check(body)
		reply = &Reply{Status: status, Body: text}
		if status < 300 {
			s.mu.Lock()
			s.accepted = append(s.accepted, body)
			s.mu.Unlock()
		}
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(reply.Status)
	io.WriteString(w, reply.Body)
}

// DiscordLimits answers as Discord's execute-webhook endpoint: 204 for a
// valid message; 400 with code 50035 naming the field when a limit is
// broken, or {"embeds": ["<index>"]} for an embed over its size, which is
// what Discord sends for those.
func DiscordLimits(body []byte) (int, string) {
	var m discord.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return 400, `{"message": "Cannot send an empty message", "code": 50006}`
	}
	formBody := func(path, msg string) (int, string) {
		return 400, fmt.Sprintf(`{"message": "Invalid Form Body", "code": 50035, "errors": {%q: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": %q}]}}}`, path, msg)
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return 400, `{"message": "Cannot send an empty message", "code": 50006}`
	}
	if channel.Len(m.Content) > discord.MaxContent {
		return formBody("content", "Must be 2000 or fewer in length.")
	}
	if len(m.Embeds) > discord.MaxEmbeds {
		return formBody("embeds", "Must be 10 or fewer in length.")
	}
	total := 0
	for i, e := range m.Embeds {
		n := channel.Len(e.Title) + channel.Len(e.Description)
		if channel.Len(e.Title) > discord.MaxTitle {
			return formBody(fmt.Sprintf("embeds.%d.title", i), "Must be 256 or fewer in length.")
		}
		if channel.Len(e.Description) > discord.MaxDescription {
			return formBody(fmt.Sprintf("embeds.%d.description", i), "Must be 4096 or fewer in length.")
		}
		if len(e.Fields) > discord.MaxFields {
			return formBody(fmt.Sprintf("embeds.%d.fields", i), "Must be 25 or fewer in length.")
		}
		for j, f := range e.Fields {
			if channel.Len(f.Name) > discord.MaxFieldName || f.Name == "" {
				return formBody(fmt.Sprintf("embeds.%d.fields.%d.name", i, j), "Must be between 1 and 256 in length.")
			}
			if channel.Len(f.Value) > discord.MaxFieldValue || f.Value == "" {
				return formBody(fmt.Sprintf("embeds.%d.fields.%d.value", i, j), "Must be between 1 and 1024 in length.")
			}
			n += channel.Len(f.Name) + channel.Len(f.Value)
		}
		if n > discord.MaxEmbedsTotalChars {
			return 400, fmt.Sprintf(`{"embeds": ["%d"]}`, i)
		}
		total += n
	}
	if total > discord.MaxEmbedsTotalChars {
		return 400, `{"embeds": ["0"]}`
	}
	if m.AllowedMentions.Parse == nil {
		// Not a Discord rule: our own, that no message may ping @everyone.
		return 400, `{"message": "test sink: allowed_mentions.parse must be set", "code": 0}`
	}
	return 204, ""
}

// SlackLimits answers as Slack's incoming webhooks: 200 "ok", or 400 with a
// plain-text reason: "no_text" without text or blocks, "invalid_blocks" when
// a Block Kit limit is broken, "msg_blocks_too_long" when the blocks' text
// reaches 13,200 characters (where Slack was observed to refuse it).
func SlackLimits(body []byte) (int, string) {
	var m slack.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return 400, "invalid_payload"
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		return 400, "no_text"
	}
	if len(m.Blocks) > slack.MaxBlocks {
		return 400, "invalid_blocks"
	}
	for _, b := range m.Blocks {
		if b.Text != nil && channel.Len(b.Text.Text) > slack.MaxSectionText {
			return 400, "invalid_blocks"
		}
		if len(b.Fields) > slack.MaxFields {
			return 400, "invalid_blocks"
		}
		for _, f := range b.Fields {
			if channel.Len(f.Text) > slack.MaxFieldText {
				return 400, "invalid_blocks"
			}
		}
		if b.Text == nil && len(b.Fields) == 0 {
			return 400, "invalid_blocks"
		}
	}
	if slack.BlocksChars(m.Blocks) >= 13200 {
		return 400, "msg_blocks_too_long"
	}
	if strings.Contains(m.Text, "<!") {
		// Not a Slack rule: our own, that no text may ping a channel.
		return 400, "test sink: unescaped <! in text"
	}
	return 200, "ok"
}
