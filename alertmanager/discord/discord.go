// Package discord formats Alertmanager notifications as Discord webhook
// messages in the plan's shape: a content line, then one embed per alert with
// its title, description, colour by severity and fields, resolved alerts in
// green.
//
// Discord rejects a message over any of its limits with 400 and code 50035
// ("Invalid Form Body", e.g. embeds[0].title[BASE_TYPE_MAX_LENGTH]), so every
// text is cut to its limit and the alerts of a notification are spread over
// as many messages as needed; none is dropped.
package discord

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Limits of an execute-webhook request, from Discord's "Embed Limits" and
// "Execute Webhook" documentation (discord.com/developers/docs/resources/
// message#embed-object-embed-limits, resources/webhook#execute-webhook).
// Discord counts characters; so do we, in runes.
const (
	MaxContent          = 2000
	MaxEmbeds           = 10
	MaxEmbedsTotalChars = 6000 // title, description, field names and values, footer, author of all embeds
	MaxTitle            = 256
	MaxDescription      = 4096
	MaxFields           = 25
	MaxFieldName        = 256
	MaxFieldValue       = 1024
)

// Payload fields named in format.Message.Truncated when their text was cut.
const (
	FieldContent          = "content"
	FieldEmbedTitle       = "embed.title"
	FieldEmbedDescription = "embed.description"
	FieldEmbedFields      = "embed.fields" // any field value of an embed
)

// Embed colours. Critical is the plan's red; resolved is the green of
// Alertmanager's own Discord notifier (0x2ECC71); unknown severities grey.
const (
	ColorCritical = 16711680 // 0xFF0000
	ColorWarning  = 16753920 // 0xFFA500
	ColorInfo     = 3447003  // 0x3498DB
	ColorResolved = 3066993  // 0x2ECC71
	ColorUnknown  = 9807270  // 0x95A5A6
)

// Message is the body of Discord's execute-webhook request.
type Message struct {
	Content         string          `json:"content,omitempty"`
	Embeds          []Embed         `json:"embeds"`
	AllowedMentions AllowedMentions `json:"allowed_mentions"`
}

// Embed is one alert.
type Embed struct {
	Title string `json:"title"`
	// URL links the title: the alert's source graph. Discord does not count
	// it in the 6000 characters of a message's embeds.
	URL         string  `json:"url,omitempty"`
	Description string  `json:"description,omitempty"`
	Color       int     `json:"color"`
	Timestamp   string  `json:"timestamp,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
}

// Field is one name/value pair of an embed.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline"`
}

// AllowedMentions limits whom a message may ping. Parse is always empty, so
// no "@everyone" or user mention inside an alert's text notifies anyone;
// only the configured role, when set, is pinged.
type AllowedMentions struct {
	Parse []string `json:"parse"`
	Roles []string `json:"roles,omitempty"`
}

// Options configure the formatter.
type Options struct {
	Defaults format.Defaults
	// MentionRole is the ID of a role pinged by messages that carry a firing
	// critical alert; empty pings nobody.
	MentionRole string
	Templates   *format.Templates
}

// Formatter builds Discord messages.
type Formatter struct{ opts Options }

var snowflakeRE = regexp.MustCompile(`^[0-9]{1,20}$`)

// New returns a formatter; the templates must already be compiled.
func New(opts Options) (*Formatter, error) {
	if opts.MentionRole != "" && !snowflakeRE.MatchString(opts.MentionRole) {
		return nil, errors.New("mention_role: must be a Discord role ID (digits only)")
	}
	return &Formatter{opts: opts}, nil
}

// TruncatableFields implements format.Truncating.
func (f *Formatter) TruncatableFields() []string {
	return []string{FieldContent, FieldEmbedTitle, FieldEmbedDescription, FieldEmbedFields, format.FieldUnsafeLink, format.FieldAnnotation}
}

// MaxText implements format.TextLimited: an embed's description is
// Discord's longest text.
func (f *Formatter) MaxText() int { return MaxDescription }

// Format implements format.Formatter.
func (f *Formatter) Format(ctx context.Context, data *template.Data, _ string) ([]format.Message, error) {
	if len(data.Alerts) == 0 {
		return nil, nil
	}
	headline, err := f.opts.Templates.RenderHeadline(data, headline(data))
	if err != nil {
		return nil, fmt.Errorf("headline template: %w", err)
	}

	alerts := format.Pointers(data)
	embeds := make([]Embed, len(alerts))
	var cuts []format.Truncations // by embed; made on the first cut
	for i, a := range alerts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var cut format.Truncations
		if embeds[i], cut, err = f.embed(data, a); err != nil {
			return nil, err
		}
		if cut != nil {
			if cuts == nil {
				cuts = make([]format.Truncations, len(alerts))
			}
			cuts[i] = cut
		}
	}

	parts := pack(embeds)
	out := make([]format.Message, 0, len(parts))
	start := 0
	for i, part := range parts {
		mentioned := f.opts.MentionRole != "" && anyCriticalFiring(alerts[start:start+len(part)])
		var cut format.Truncations
		msg := Message{
			Content:         content(headline, i, len(parts), mentioned, f.opts.MentionRole, &cut),
			Embeds:          part,
			AllowedMentions: AllowedMentions{Parse: []string{}},
		}
		if cuts != nil {
			for _, c := range cuts[start : start+len(part)] {
				cut = append(cut, c...)
			}
		}
		if mentioned {
			msg.AllowedMentions.Roles = []string{f.opts.MentionRole}
		}
		body, err := format.Marshal(msg)
		if err != nil {
			return nil, err
		}
		out = append(out, format.Message{Body: body, Alerts: format.Identities(alerts[start : start+len(part)]), Truncated: cut})
		start += len(part)
	}
	return out, nil
}

// headline is the plan's content line ("🚨 **CRITICAL ALERT**"), with the
// counts when the notification carries more than one alert.
func headline(data *template.Data) string {
	firing, resolved := 0, 0
	for i := range data.Alerts {
		if data.Alerts[i].Status == format.StatusFiring {
			firing++
		} else {
			resolved++
		}
	}
	var b strings.Builder
	if firing == 0 {
		b.WriteString("✅ **RESOLVED**")
	} else {
		var firingAlerts []*template.Alert
		for _, a := range format.Pointers(data) {
			if a.Status == format.StatusFiring {
				firingAlerts = append(firingAlerts, a)
			}
		}
		switch sev := format.HighestSeverity(firingAlerts); sev {
		case format.SeverityCritical:
			b.WriteString("🚨 **CRITICAL ALERT**")
		case format.SeverityWarning:
			b.WriteString("⚠️ **WARNING ALERT**")
		case format.SeverityInfo:
			b.WriteString("ℹ️ **INFO ALERT**")
		default:
			b.WriteString("🔔 **ALERT**")
		}
	}
	if len(data.Alerts) > 1 {
		switch {
		case resolved == 0:
			fmt.Fprintf(&b, " — %d firing", firing)
		case firing == 0:
			fmt.Fprintf(&b, " — %d resolved", resolved)
		default:
			fmt.Fprintf(&b, " — %d firing, %d resolved", firing, resolved)
		}
	}
	return b.String()
}

// content is the headline of message part i of n, with the role mention and
// the part number, within Discord's 2000 characters.
func content(headline string, i, n int, mention bool, role string, cut *format.Truncations) string {
	prefix, suffix := "", ""
	if mention {
		prefix = "<@&" + role + "> "
	}
	if n > 1 {
		suffix = fmt.Sprintf(" (%d/%d)", i+1, n)
	}
	room := MaxContent - format.Len(prefix) - format.Len(suffix)
	return prefix + cut.Truncate(FieldContent, headline, room) + suffix
}

func anyCriticalFiring(alerts []*template.Alert) bool {
	for _, a := range alerts {
		if a.Status == format.StatusFiring && format.Severity(a) == format.SeverityCritical {
			return true
		}
	}
	return false
}

// embed renders one alert within the per-embed limits and small enough that
// it always fits a message alone (MaxEmbedsTotalChars), with the fields it
// cut to fit.
func (f *Formatter) embed(data *template.Data, a *template.Alert) (Embed, format.Truncations, error) {
	title, err := f.opts.Templates.RenderTitle(data, a, format.Title(a))
	if err != nil {
		return Embed{}, nil, fmt.Errorf("title template: %w", err)
	}
	description, err := f.opts.Templates.RenderDescription(data, a, format.Description(a))
	if err != nil {
		return Embed{}, nil, fmt.Errorf("description template: %w", err)
	}
	var cut format.Truncations
	title, description = escapeMarkdown(title), escapeMarkdown(description)
	if a.Status == format.StatusResolved {
		title = "[RESOLVED] " + title
	}
	e := Embed{
		Title:     cut.Truncate(FieldEmbedTitle, title, MaxTitle),
		URL:       embedURL(a.GeneratorURL),
		Color:     color(a),
		Timestamp: format.Time(format.EventTime(a)),
		Fields:    fields(f.opts.Defaults, data, a, &cut),
	}
	// Field values are capped well below their limits (see fields), so the
	// description always has at least 6000-256-~2000 characters of room.
	room := MaxEmbedsTotalChars - embedChars(e)
	e.Description = cut.Truncate(FieldEmbedDescription, description, min(MaxDescription, room))
	return e, cut, nil
}

func color(a *template.Alert) int {
	if a.Status == format.StatusResolved {
		return ColorResolved
	}
	switch format.Severity(a) {
	case format.SeverityCritical:
		return ColorCritical
	case format.SeverityWarning:
		return ColorWarning
	case format.SeverityInfo:
		return ColorInfo
	}
	return ColorUnknown
}

// fields are the plan's Service and Time, then what an on-call engineer
// needs next: severity, value against threshold, instance and links. Each
// short value is capped at 256 characters and the links at 1024, so all of
// them stay under 2000 characters together.
func fields(d format.Defaults, data *template.Data, a *template.Alert, cut *format.Truncations) []Field {
	short := func(s string) string { return cut.Truncate(FieldEmbedFields, escapeMarkdown(s), MaxFieldName) }
	fs := []Field{
		{Name: "Service", Value: short(orDash(d.ServiceOf(a))), Inline: true},
		{Name: "Time", Value: format.Time(format.EventTime(a)), Inline: true},
		{Name: "Alert", Value: short(orDash(a.Labels["alertname"])), Inline: true},
		{Name: "Severity", Value: short(orDash(format.Severity(a))), Inline: true},
	}
	if a.Status == format.StatusResolved && !a.EndsAt.IsZero() && a.EndsAt.After(a.StartsAt) {
		fs = append(fs, Field{Name: "Resolved after", Value: format.Since(a.StartsAt, a.EndsAt), Inline: true})
	}
	current, threshold := a.Annotations["current_value"], a.Annotations["threshold"]
	if current != "" || threshold != "" {
		fs = append(fs, Field{Name: "Current / Threshold", Value: short(orDash(current) + " / " + orDash(threshold)), Inline: true})
	}
	if labels := format.Distinguishing(data, a); len(labels) > 0 {
		fs = append(fs, Field{Name: "Labels", Value: short(format.LabelText(labels))})
	}
	if links := links(d, data, a, cut); links != "" {
		fs = append(fs, Field{Name: "Links", Value: links})
	}
	return fs
}

// links are markdown links to the runbook and the silence form (the title
// links to the source graph). A link that does not fit the field is left
// out whole: a cut URL would lead nowhere.
func links(d format.Defaults, data *template.Data, a *template.Alert, cut *format.Truncations) string {
	return format.JoinLinks([]format.Link{
		{Text: "Runbook", URL: a.Annotations["runbook_url"]},
		{Text: "Dashboard", URL: d.DashboardURL(a)},
		{Text: "Silence", URL: format.SilenceURL(data.ExternalURL, a)},
	}, MaxFieldValue, appendLink, cut)
}

// appendLink appends [text](url).
func appendLink(b []byte, l format.Link) []byte {
	b = append(b, '[')
	b = append(b, l.Text...)
	b = append(b, "]("...)
	b = append(b, l.URL...)
	return append(b, ')')
}

// markdownEscaper backslash-escapes what Discord's Markdown would read in a
// value taken from labels and annotations: a label value
// "[Free Nitro](https://evil.example)" stays text, not a masked link.
var markdownEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, "[", `\[`, "]", `\]`)

func escapeMarkdown(s string) string { return markdownEscaper.Replace(s) }

// embedURL is u when Discord accepts it as an embed's url (http or https,
// at most 2048 characters); otherwise none, rather than a refused message.
func embedURL(u string) string {
	if len(u) > 2048 || !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return ""
	}
	return u
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// embedChars counts what Discord counts towards MaxEmbedsTotalChars.
func embedChars(e Embed) int {
	n := format.Len(e.Title) + format.Len(e.Description)
	for _, f := range e.Fields {
		n += format.Len(f.Name) + format.Len(f.Value)
	}
	return n
}

// pack spreads embeds over messages in order, each within MaxEmbeds and
// MaxEmbedsTotalChars. Every embed fits a message alone (see embed), so every
// alert is sent.
func pack(embeds []Embed) [][]Embed {
	var parts [][]Embed
	var cur []Embed
	chars := 0
	for _, e := range embeds {
		n := embedChars(e)
		if len(cur) == MaxEmbeds || (len(cur) > 0 && chars+n > MaxEmbedsTotalChars) {
			parts = append(parts, cur)
			cur, chars = nil, 0
		}
		cur = append(cur, e)
		chars += n
	}
	if len(cur) > 0 {
		parts = append(parts, cur)
	}
	return parts
}
