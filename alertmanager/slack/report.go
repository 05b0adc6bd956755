package slack

import (
	"strings"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// FormatReport implements format.ReportFormatter: the title as the
// notification text and a header, then one mrkdwn section per part of each
// report section (tables in code blocks), at most MaxBlocks to a message.
// Incoming webhooks take no files, so the charts stay with the other
// channels and the files written next to the Markdown.
func (f *Formatter) FormatReport(r *format.Report) ([]format.Post, error) {
	var blocks []Block
	for _, s := range r.Sections() {
		body := mrkdwn(s.Body)
		if s.Heading != "" {
			body = "*" + escape(s.Heading) + "*\n" + body
		}
		for _, piece := range format.SplitText(body, MaxSectionText) {
			blocks = append(blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: piece}})
		}
	}
	text, _ := format.Truncate(r.Title, MaxText) // the relay's own text: not counted
	var posts []format.Post
	for start := 0; start < len(blocks) || start == 0; start += MaxBlocks {
		part := blocks[start:min(start+MaxBlocks, len(blocks))]
		body, err := format.Marshal(Message{Text: text, Blocks: part})
		if err != nil {
			return nil, err
		}
		posts = append(posts, format.Post{Body: body})
		if len(blocks) == 0 {
			break
		}
	}
	return posts, nil
}

// mrkdwn turns the report's Markdown into Slack's: **bold** is *bold*, and
// &, < and > are escaped outside code (Slack reads them as markup).
func mrkdwn(md string) string {
	var out []string
	inCode := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			out = append(out, line)
			continue
		}
		if !inCode {
			line = strings.ReplaceAll(escape(line), "**", "*")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
