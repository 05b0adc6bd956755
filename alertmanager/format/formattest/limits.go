package formattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The fakes below hold the services' limits themselves, from the services'
// documentation, rather than the formatters' constants: a formatter whose
// limit is wrong must fail against them. Discord counts characters as
// Unicode code points ("Our API uses Python 3, so the API calculates length
// based on the number of codepoints", discord/discord-api-docs#1315); Slack's
// characters are counted the same way.

// discordMessage is what Discord checks of an execute-webhook body.
type discordMessage struct {
	Content string `json:"content"`
	Embeds  []struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Footer      *struct {
			Text string `json:"text"`
		} `json:"footer"`
		Author *struct {
			Name string `json:"name"`
		} `json:"author"`
		Fields []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"embeds"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

// DiscordLimits answers as Discord's execute-webhook endpoint: 204 for a
// valid message; 400 with code 50035 naming the field when a limit of
// Discord's "Embed Limits" and "Execute Webhook" documentation is broken
// (content 2000 characters; 10 embeds; title 256, description 4096, 25
// fields, field name 256 and value 1024, footer 2048, author 256), or
// {"embeds": ["<index>"]} when the embeds' text passes 6000 characters,
// which is what Discord sends for those.
func DiscordLimits(body []byte) (int, string) {
	var m discordMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return http.StatusBadRequest, `{"message": "Cannot send an empty message", "code": 50006}`
	}
	if m.Content == "" && len(m.Embeds) == 0 {
		return http.StatusBadRequest, `{"message": "Cannot send an empty message", "code": 50006}`
	}
	if utf8.RuneCountInString(m.Content) > 2000 {
		return discordTooLong("content", 2000)
	}
	if len(m.Embeds) > 10 {
		return discordTooLong("embeds", 10)
	}
	total := 0
	for i, e := range m.Embeds {
		texts := []limitedText{
			{fmt.Sprintf("embeds.%d.title", i), e.Title, 256},
			{fmt.Sprintf("embeds.%d.description", i), e.Description, 4096},
		}
		if e.Footer != nil {
			texts = append(texts, limitedText{fmt.Sprintf("embeds.%d.footer.text", i), e.Footer.Text, 2048})
		}
		if e.Author != nil {
			texts = append(texts, limitedText{fmt.Sprintf("embeds.%d.author.name", i), e.Author.Name, 256})
		}
		n := 0
		for _, s := range texts {
			c := utf8.RuneCountInString(s.text)
			if c > s.limit {
				return discordTooLong(s.path, s.limit)
			}
			n += c
		}
		if len(e.Fields) > 25 {
			return discordTooLong(fmt.Sprintf("embeds.%d.fields", i), 25)
		}
		for j, f := range e.Fields {
			name, value := utf8.RuneCountInString(f.Name), utf8.RuneCountInString(f.Value)
			if name == 0 || name > 256 {
				return discordFormBody(fmt.Sprintf("embeds.%d.fields.%d.name", i, j), "Must be between 1 and 256 in length.")
			}
			if value == 0 || value > 1024 {
				return discordFormBody(fmt.Sprintf("embeds.%d.fields.%d.value", i, j), "Must be between 1 and 1024 in length.")
			}
			n += name + value
		}
		if n > 6000 {
			return http.StatusBadRequest, fmt.Sprintf(`{"embeds": ["%d"]}`, i)
		}
		total += n
	}
	if total > 6000 {
		return http.StatusBadRequest, `{"embeds": ["0"]}`
	}
	if m.AllowedMentions == nil || m.AllowedMentions.Parse == nil {
		// Not a Discord rule: our own, that no message may ping @everyone.
		return http.StatusBadRequest, `{"message": "test sink: allowed_mentions.parse must be set", "code": 0}`
	}
	return http.StatusNoContent, ""
}

// limitedText is a text field of an embed: where it is and its limit.
type limitedText struct {
	path, text string
	limit      int
}

func discordTooLong(path string, limit int) (int, string) {
	return discordFormBody(path, fmt.Sprintf("Must be %d or fewer in length.", limit))
}

func discordFormBody(path, msg string) (int, string) {
	return http.StatusBadRequest, fmt.Sprintf(`{"message": "Invalid Form Body", "code": 50035, "errors": {%q: {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": %q}]}}}`, path, msg)
}

// slackMessage is what Slack checks of an incoming-webhook body.
type slackMessage struct {
	Text   string `json:"text"`
	Blocks []struct {
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
	} `json:"blocks"`
}

// SlackLimits answers as Slack's incoming webhooks: 200 "ok", or 400 with a
// plain-text reason: "no_text" without text or blocks, "invalid_blocks" when
// a limit of Block Kit's reference is broken (50 blocks; a section's text
// 3000 characters, its fields 10 of 2000 characters, one of the two
// present), "msg_blocks_too_long" when the blocks' text reaches 13,200
// characters (where Slack was observed to refuse it, slackapi/bolt-js#2509).
func SlackLimits(body []byte) (int, string) {
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return http.StatusBadRequest, "invalid_payload"
	}
	if m.Text == "" && len(m.Blocks) == 0 {
		return http.StatusBadRequest, "no_text"
	}
	if len(m.Blocks) > 50 {
		return http.StatusBadRequest, "invalid_blocks"
	}
	chars := 0
	for _, b := range m.Blocks {
		if b.Text == nil && len(b.Fields) == 0 || len(b.Fields) > 10 {
			return http.StatusBadRequest, "invalid_blocks"
		}
		if b.Text != nil {
			n := utf8.RuneCountInString(b.Text.Text)
			if n > 3000 {
				return http.StatusBadRequest, "invalid_blocks"
			}
			chars += n
		}
		for _, f := range b.Fields {
			n := utf8.RuneCountInString(f.Text)
			if n > 2000 {
				return http.StatusBadRequest, "invalid_blocks"
			}
			chars += n
		}
	}
	if chars >= 13200 {
		return http.StatusBadRequest, "msg_blocks_too_long"
	}
	if strings.Contains(m.Text, "<!") {
		// Not a Slack rule: our own, that no text may ping a channel.
		return http.StatusBadRequest, "test sink: unescaped <! in text"
	}
	return http.StatusOK, "ok"
}
