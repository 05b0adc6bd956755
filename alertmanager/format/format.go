// Package format holds what every channel formatter shares: the Formatter
// interface the relay calls, the Message it gets back, and the small helpers
// that read our rule pack's labels and annotations and keep text within a
// channel's limits.
//
// Each channel lives in its own package (discord, slack, hub) with the same
// shape, as in Alertmanager's notify/ tree: a New(Options) constructor and a
// Format method that turns one webhook notification into as many messages as
// the channel's limits require, never dropping an alert.
package format

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// Message is one request body to post to a channel.
type Message struct {
	Body []byte // the JSON payload, exactly as posted
	// Alerts are the identities (see Identity) of the alerts the message
	// carries, in order: the relay remembers deliveries by them, never by
	// the rendered text alone.
	Alerts []string
	// Edit, when set, is the channel's id of a message this one replaces
	// (Discord's edit on resolve) instead of being posted.
	Edit string
	// Truncated are the payload fields whose text was cut to the channel's
	// limit, one entry per cut text; nil when nothing was cut.
	Truncated Truncations
}

// Truncating is a Formatter that may cut texts to its channel's limits:
// TruncatableFields names every field it may put in Message.Truncated, so
// that the relay exposes their counters from 0.
type Truncating interface {
	TruncatableFields() []string
}

// Truncations are the payload fields cut to fit a channel, named after the
// payload ("embed.description", "text"): the relay counts them by target
// and field in resonance_relay_truncated_total.
type Truncations []string

// Truncate is Truncate, recording field in t when s was cut.
func (t *Truncations) Truncate(field, s string, limit int) string {
	out, cut := Truncate(s, limit)
	if cut {
		*t = append(*t, field)
	}
	return out
}

// Formatter turns an Alertmanager notification into channel messages.
// groupKey is Alertmanager's key of the notification's group ("" when the
// notification does not come from Alertmanager).
type Formatter interface {
	// Format stops with ctx's error when ctx ends: the relay formats under
	// the notification's deadline.
	Format(ctx context.Context, data *template.Data, groupKey string) ([]Message, error)
}

// Identities are the identities of alerts, in order.
func Identities(alerts []*template.Alert) []string {
	out := make([]string, len(alerts))
	for i, a := range alerts {
		out[i] = Identity(a)
	}
	return out
}

// Defaults describe the service the alerts are about, for the fields and
// metadata the alerts themselves do not carry.
type Defaults struct {
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
	Region      string `yaml:"region"`
	// GrafanaURL, when set, adds a link to the dashboard of the alert's
	// metric (DashboardUIDs) to every message.
	GrafanaURL string `yaml:"grafana_url,omitempty"`
}

// Alert statuses and the severities of the rule pack.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"

	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Ellipsis marks text cut to fit a limit.
const Ellipsis = "…"

// Truncate cuts s to at most limit runes, ending with Ellipsis when cut,
// and reports whether it cut. Discord and Slack count characters, not bytes;
// counting runes never splits a UTF-8 sequence (Alertmanager's
// format.TruncateInRunes does the same).
func Truncate(s string, limit int) (string, bool) {
	if limit <= 0 {
		return "", s != ""
	}
	if len(s) <= limit || utf8.RuneCountInString(s) <= limit {
		return s, false
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			return s[:i] + Ellipsis, true
		}
		n++
	}
	return s, false
}

// Len is the length of s in runes, as the channels count it.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Severity returns the alert's severity label, lower-cased.
func Severity(a *template.Alert) string {
	return strings.ToLower(a.Labels["severity"])
}

// Title is what an alert is called in a message: its summary annotation,
// else its alertname.
func Title(a *template.Alert) string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return "Alert"
}

// Description is the alert's description annotation, else its summary. A
// resolved alert's says that it is over and how long it lasted, then what
// it was: its description is the one of its last firing evaluation ("Error
// rate exceeded threshold: 21 errors/min"), which no longer holds.
func Description(a *template.Alert) string {
	d := a.Annotations["description"]
	if d == "" {
		d = a.Annotations["summary"]
	}
	if a.Status != StatusResolved {
		return d
	}
	over := "Resolved"
	if !a.EndsAt.IsZero() && a.EndsAt.After(a.StartsAt) {
		over += " after " + Since(a.StartsAt, a.EndsAt)
	}
	if d == "" {
		return over + "."
	}
	return over + ". While it fired: " + d
}

// EventTime is when the alert's current state began: startsAt while firing,
// endsAt once resolved.
func EventTime(a *template.Alert) time.Time {
	if a.Status == StatusResolved && !a.EndsAt.IsZero() {
		return a.EndsAt
	}
	return a.StartsAt
}

// Time renders t as RFC 3339 in UTC at second precision, the plan's
// timestamp format.
func Time(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// ServiceOf is the alert's service label, else the configured default.
func (d Defaults) ServiceOf(a *template.Alert) string {
	if s := a.Labels["service"]; s != "" {
		return s
	}
	return d.Service
}

// maxNumberLen bounds the number ParseNumber reads: far more than any
// float64 needs (17 significant digits, an exponent), and it keeps the
// longest-prefix search below linear in a crafted annotation of 80,000
// digits, which used to cost seconds of CPU per value.
const maxNumberLen = 64

// ParseNumber reads the leading decimal number of an annotation such as
// "25", "85%", "2500ms" or "1.5e3 B". ok is false when s does not start with
// one, or with one longer than maxNumberLen characters; callers keep the
// text and report no number.
func ParseNumber(s string) (v float64, ok bool) {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && strings.IndexByte("0123456789.+-eE", s[end]) >= 0 {
		end++
		if end > maxNumberLen {
			return 0, false
		}
	}
	// The longest prefix that parses: "85e" in "85eur" is not a number but
	// "85" is.
	for ; end > 0; end-- {
		if v, err := strconv.ParseFloat(s[:end], 64); err == nil {
			return v, true
		}
	}
	return 0, false
}

// HighestSeverity is the most urgent severity among the alerts, critical
// first; "" when none carries a known one.
func HighestSeverity(alerts []*template.Alert) string {
	rank := map[string]int{SeverityCritical: 3, SeverityWarning: 2, SeverityInfo: 1}
	best := ""
	for _, a := range alerts {
		if s := Severity(a); rank[s] > rank[best] {
			best = s
		}
	}
	return best
}

// Pointers returns pointers to the alerts of data, in order, so formatters
// can pass them around without copying.
func Pointers(data *template.Data) []*template.Alert {
	out := make([]*template.Alert, len(data.Alerts))
	for i := range data.Alerts {
		out[i] = &data.Alerts[i]
	}
	return out
}

// Marshal encodes a payload as encoding/json does, without its HTML
// escaping: the channels read "<url|text>" and "&" literally, and \u003c
// only hides them from whoever reads the payload. Invalid UTF-8 is written
// as U+FFFD; there is no trailing newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Identity names one alert across notifications: Alertmanager's fingerprint
// of its labels and when it started, so that the same alert firing again
// after it resolved is a new one. Two alerts differing only by a label
// value (instance, mountpoint, source) never share an identity.
func Identity(a *template.Alert) string {
	fp := a.Fingerprint
	if fp == "" {
		fp = model.LabelSet(labelSet(a.Labels)).Fingerprint().String()
	}
	// One allocation, not two: the relay names each alert several times
	// per notification.
	var buf [48]byte
	return string(strconv.AppendInt(append(append(buf[:0], fp...), '@'), a.StartsAt.Unix(), 10))
}

func labelSet(kv template.KV) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// Distinguishing returns the labels that tell a from the other alerts of
// its notification, sorted by name: all but alertname and severity (shown
// on their own), and, when the notification carries several alerts, but
// those they all share.
func Distinguishing(data *template.Data, a *template.Alert) template.Pairs {
	var out template.Pairs
	for name, value := range a.Labels {
		if name == "alertname" || name == "severity" {
			continue
		}
		if v, common := data.CommonLabels[name]; common && v == value && len(data.Alerts) > 1 {
			continue
		}
		out = append(out, template.Pair{Name: name, Value: value})
	}
	// Sorted after filtering: KV.SortedPairs would copy and sort every label
	// (formatting runs for each alert of each notification).
	slices.SortFunc(out, func(x, y template.Pair) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// LabelText renders pairs as "name=value, name=value".
func LabelText(pairs template.Pairs) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(p.Value)
	}
	return b.String()
}

// SilenceURL links to Alertmanager's form for a new silence, prefilled with
// the alert's labels as matchers; "" without an external URL.
func SilenceURL(externalURL string, a *template.Alert) string {
	if externalURL == "" {
		return ""
	}
	// Built in one buffer, escaped as url.QueryEscape does: this runs for
	// every alert of every notification.
	var stack [16]string
	names := stack[:0]
	for k := range a.Labels {
		names = append(names, k)
	}
	slices.Sort(names)
	base := strings.TrimSuffix(externalURL, "/")
	b := make([]byte, 0, len(base)+len(silencePath)+8+48*len(names))
	b = append(b, base...)
	b = append(b, silencePath...)
	b = appendQueryEscaped(b, "{")
	var quoted [128]byte
	for i, k := range names {
		if i > 0 {
			b = appendQueryEscaped(b, ",")
		}
		b = appendQueryEscaped(b, k)
		b = appendQueryEscaped(b, "=")
		if v := a.Labels[k]; plainASCII(v) {
			// What strconv.Quote makes of it, without its rune decoding.
			b = append(b, "%22"...)
			b = appendQueryEscaped(b, v)
			b = append(b, "%22"...)
		} else {
			b = appendQueryEscaped(b, strconv.AppendQuote(quoted[:0], v))
		}
	}
	b = appendQueryEscaped(b, "}")
	return string(b)
}

const silencePath = "/#/silences/new?filter="

// plainASCII reports whether strconv.Quote would only add the quotes: s
// is printable ASCII without a quote or backslash.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendQueryEscaped appends s escaped as url.QueryEscape escapes it.
func appendQueryEscaped[T string | []byte](b []byte, s T) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// Since is how long from start to end, as people say it: "45s", "12m",
// "3h5m", "2d4h".
func Since(start, end time.Time) string {
	d := end.Sub(start).Round(time.Second)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return strconv.Itoa(h) + "h"
		}
		return strconv.Itoa(h) + "h" + strconv.Itoa(m) + "m"
	}
	days, h := int(d.Hours())/24, int(d.Hours())%24
	if h == 0 {
		return strconv.Itoa(days) + "d"
	}
	return strconv.Itoa(days) + "d" + strconv.Itoa(h) + "h"
}
