// Package slack formats Alertmanager notifications as Slack incoming-webhook
// messages in the plan's Block Kit shape: a notification text, then for each
// alert a mrkdwn section (title, description, current value against
// threshold) and a section of fields.
//
// Slack answers a message over its limits with 400 and a plain-text reason
// such as "invalid_blocks", so every text is cut to its limit and the alerts
// are spread over as many messages as needed; none is dropped.
package slack

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Limits from Slack's Block Kit reference (docs.slack.dev/reference/
// block-kit/blocks/section-block and .../messaging: "blocks: up to 50").
const (
	MaxBlocks      = 50
	MaxSectionText = 3000
	MaxFields      = 10
	MaxFieldText   = 2000
	// MaxText caps the notification text. Slack truncates it at 40,000
	// characters; it shows in notifications, where a short one reads better.
	MaxText = 3000
	// MaxBlocksChars bounds the text of all blocks of one message. Slack
	// documents no such limit but answers msg_blocks_too_long from about
	// 13,200 characters (slackapi/bolt-js#2509); we keep a margin.
	MaxBlocksChars = 12000
)

// Payload fields named in format.Message.Truncated when their text was cut.
const (
	FieldText   = "text"
	FieldBlocks = "blocks" // any text of a section block
)

// Message is the body of an incoming-webhook request.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit section.
type Block struct {
	Type   string `json:"type"`
	Text   *Text  `json:"text,omitempty"`
	Fields []Text `json:"fields,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Options configure the formatter.
type Options struct {
	Defaults  format.Defaults
	Templates *format.Templates
}

// Formatter builds Slack messages.
type Formatter struct{ opts Options }

// New returns a formatter; the templates must already be compiled.
func New(opts Options) (*Formatter, error) { return &Formatter{opts: opts}, nil }

// TruncatableFields implements format.Truncating.
func (f *Formatter) TruncatableFields() []string {
	return []string{FieldText, FieldBlocks, format.FieldUnsafeLink, format.FieldAnnotation}
}

// MaxText implements format.TextLimited: a section's text is Slack's
// longest.
func (f *Formatter) MaxText() int { return MaxSectionText }

// Format implements format.Formatter. Alerts are packed in order into
// messages within MaxBlocks blocks and MaxBlocksChars characters of block
// text; every alert fits a message alone.
func (f *Formatter) Format(ctx context.Context, data *template.Data, _ string) ([]format.Message, error) {
	if len(data.Alerts) == 0 {
		return nil, nil
	}
	text, err := f.opts.Templates.RenderHeadline(data, headline(data))
	if err != nil {
		return nil, fmt.Errorf("headline template: %w", err)
	}
	// The top-level text is mrkdwn too: "<!channel>" in a summary would
	// notify everyone.
	text = escape(text)

	type part struct {
		blocks []Block
		alerts []*template.Alert
		cut    format.Truncations
	}
	var parts []part
	var cur part
	chars := 0
	for _, a := range format.Pointers(data) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		blocks, cut, err := f.blocks(data, a)
		if err != nil {
			return nil, err
		}
		n := BlocksChars(blocks)
		if len(cur.alerts) > 0 && (len(cur.blocks)+len(blocks) > MaxBlocks || chars+n > MaxBlocksChars) {
			parts = append(parts, cur)
			cur, chars = part{}, 0
		}
		cur.blocks = append(cur.blocks, blocks...)
		cur.alerts = append(cur.alerts, a)
		cur.cut = append(cur.cut, cut...)
		chars += n
	}
	parts = append(parts, cur)
	out := make([]format.Message, 0, len(parts))
	for i, p := range parts {
		msg := Message{Text: partText(text, i, len(parts), &p.cut), Blocks: p.blocks}
		body, err := format.Marshal(msg)
		if err != nil {
			return nil, err
		}
		out = append(out, format.Message{Body: body, Alerts: format.Identities(p.alerts), Truncated: p.cut})
	}
	return out, nil
}

// BlocksChars counts the text of blocks, as msg_blocks_too_long does.
func BlocksChars(blocks []Block) int {
	n := 0
	for _, b := range blocks {
		if b.Text != nil {
			n += format.Len(b.Text.Text)
		}
		for _, f := range b.Fields {
			n += format.Len(f.Text)
		}
	}
	return n
}

// headline is the plan's text ("🚨 CRITICAL ALERT: Error Rate Exceeded").
func headline(data *template.Data) string {
	var firing []*template.Alert
	for _, a := range format.Pointers(data) {
		if a.Status == format.StatusFiring {
			firing = append(firing, a)
		}
	}
	var prefix string
	first := &data.Alerts[0]
	if len(firing) == 0 {
		prefix = "✅ RESOLVED"
	} else {
		first = firing[0]
		switch format.HighestSeverity(firing) {
		case format.SeverityCritical:
			prefix = "🚨 CRITICAL ALERT"
		case format.SeverityWarning:
			prefix = "⚠️ WARNING ALERT"
		case format.SeverityInfo:
			prefix = "ℹ️ INFO ALERT"
		default:
			prefix = "🔔 ALERT"
		}
	}
	s := prefix + ": " + format.Title(first)
	if len(data.Alerts) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(data.Alerts)-1)
	}
	return s
}

func partText(text string, i, n int, cut *format.Truncations) string {
	suffix := ""
	if n > 1 {
		suffix = fmt.Sprintf(" (%d/%d)", i+1, n)
	}
	return cut.Truncate(FieldText, text, MaxText-format.Len(suffix)) + suffix
}

// blocks renders one alert as its two sections, with a FieldBlocks entry
// for each text it cut to fit.
func (f *Formatter) blocks(data *template.Data, a *template.Alert) ([]Block, format.Truncations, error) {
	title, err := f.opts.Templates.RenderTitle(data, a, format.Title(a))
	if err != nil {
		return nil, nil, fmt.Errorf("title template: %w", err)
	}
	description, err := f.opts.Templates.RenderDescription(data, a, format.Description(a))
	if err != nil {
		return nil, nil, fmt.Errorf("description template: %w", err)
	}
	var cut format.Truncations
	truncate := func(s string, limit int) string { return cut.Truncate(FieldBlocks, s, limit) }
	if a.Status == format.StatusResolved {
		title = "[RESOLVED] " + title
	}
	var b strings.Builder
	b.WriteString("*" + escape(truncate(title, 256)) + "*")
	current, threshold := a.Annotations["current_value"], a.Annotations["threshold"]
	valueLine := ""
	if current != "" || threshold != "" {
		valueLine = "\n" + escape(truncate("Current: "+orDash(current)+" | Threshold: "+orDash(threshold), 256))
	}
	if description != "" {
		room := MaxSectionText - format.Len(b.String()) - format.Len(valueLine) - 1
		b.WriteString("\n" + truncate(escape(description), room))
	}
	b.WriteString(valueLine)

	// Each field is capped so that an alert's blocks stay far below
	// MaxBlocksChars: 3000 + 6×256 + 1024 + 2000.
	field := func(name, value string, limit int) Text {
		return Text{Type: "mrkdwn", Text: truncate("*"+name+":*\n"+value, limit)}
	}
	fields := []Text{
		field("Service", escape(orDash(f.opts.Defaults.ServiceOf(a))), 256),
		field("Time", format.Time(format.EventTime(a)), 256),
		field("Alert", escape(orDash(a.Labels["alertname"])), 256),
		field("Severity", escape(orDash(format.Severity(a))), 256),
	}
	if labels := format.Distinguishing(data, a); len(labels) > 0 {
		fields = append(fields, field("Labels", escape(format.LabelText(labels)), 1024))
	}
	if links := links(f.opts.Defaults, data, a, &cut); links != "" {
		fields = append(fields, field("Links", links, MaxFieldText))
	}
	return []Block{
		{Type: "section", Text: &Text{Type: "mrkdwn", Text: b.String()}},
		{Type: "section", Fields: fields},
	}, cut, nil
}

// links are Slack links to the runbook and the source graph; one that does
// not fit the field is left out whole rather than cut.
func links(d format.Defaults, data *template.Data, a *template.Alert, cut *format.Truncations) string {
	return format.JoinLinks([]format.Link{
		{Text: "Runbook", URL: a.Annotations["runbook_url"]},
		{Text: "Dashboard", URL: d.DashboardURL(a)},
		{Text: "Source", URL: a.GeneratorURL},
		{Text: "Silence", URL: format.SilenceURL(data.ExternalURL, a)},
	}, MaxFieldText-len("*Links:*\n"), appendLink, cut)
}

// appendLink appends <url|text>. Inside it, Slack needs only the three
// control characters escaped; "|" would end the URL early.
func appendLink(b []byte, l format.Link) []byte {
	b = append(b, '<')
	b = append(b, strings.ReplaceAll(escapeControl(l.URL), "|", "%7C")...)
	b = append(b, '|')
	b = append(b, l.Text...)
	return append(b, '>')
}

// escapeControl escapes the three characters Slack requires escaped in
// mrkdwn (docs.slack.dev/messaging/formatting-message-text#escaping); it
// also means "<!channel>" in an annotation cannot notify a whole channel.
// URLs get only this.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeControl(s string) string { return escaper.Replace(s) }

// lookalikes stand in for mrkdwn's formatting characters, for which Slack
// has no escape: "*Free Nitro*" from a label reads the same but is not
// bold, and a backtick opens no code span.
var lookalikes = [...]struct{ marker, lookalike rune }{
	{'*', '∗'}, // U+2217 ASTERISK OPERATOR
	{'_', 'ˍ'}, // U+02CD MODIFIER LETTER LOW MACRON
	{'~', '∼'}, // U+223C TILDE OPERATOR
	{'`', 'ˋ'}, // U+02CB MODIFIER LETTER GRAVE ACCENT
}

func lookalike(r rune) (rune, bool) {
	for _, l := range lookalikes {
		if l.marker == r {
			return l.lookalike, true
		}
	}
	return r, false
}

// escape makes text from labels and annotations literal in mrkdwn: the
// control characters escaped, and each formatting character that could
// open or close formatting replaced by its look-alike. Slack formats
// nothing between two letters or digits, so snake_case names and "5*3"
// keep their characters (and stay copyable); a backtick always goes.
func escape(s string) string {
	s = escapeControl(s)
	if !strings.ContainsAny(s, "*_~`") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	prev := rune(-1)
	for i, r := range s {
		out := r
		if l, marker := lookalike(r); marker && (r == '`' || !wordRune(prev) || !wordRune(nextRune(s[i+utf8.RuneLen(r):]))) {
			out = l
		}
		b.WriteRune(out)
		prev = r
	}
	return b.String()
}

func wordRune(r rune) bool { return r >= 0 && (unicode.IsLetter(r) || unicode.IsDigit(r)) }

// nextRune is the first rune of s, -1 when s is empty.
func nextRune(s string) rune {
	if s == "" {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
